"""Logging for ``podium serve``: one line per event; a client's mistake at INFO, a server
fault at ERROR with its trace; chatty libraries at WARNING unless debugging."""

from __future__ import annotations

import logging

CHATTY = ("aioice", "alembic")
# The a2a-sdk logs every refused request (unknown task, bad params, parse errors) at
# WARNING; they are the client's mistakes, routine for a server: INFO here.
CLIENT_ERRORS = ("Request error: ", "Request Error ", "Parse error: ")
SDK_LOGGERS = ("a2a.utils.error_handlers", "a2a.server.routes.jsonrpc_dispatcher")


class ClientErrorsAtInfo(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and str(record.msg).startswith(CLIENT_ERRORS):
            record.levelno, record.levelname = logging.INFO, "INFO"
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


def configure(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if level != "debug":  # per-candidate and per-migration lines: debug only
        for chatty in CHATTY:
            logging.getLogger(chatty).setLevel(logging.WARNING)
    for name in SDK_LOGGERS:
        logging.getLogger(name).addFilter(ClientErrorsAtInfo())
