"""Podium's HTTP errors: one small hierarchy, mapped to status codes in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class PodiumError(Exception):
    status_code = 500
    message = "internal error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class BadRequest(PodiumError):
    status_code = 400
    message = "bad request"


class Forbidden(PodiumError):
    status_code = 403
    message = "forbidden"


class NotFound(PodiumError):
    status_code = 404
    message = "not found"


class Conflict(PodiumError):
    status_code = 409
    message = "conflict"


class RangeNotSatisfiable(PodiumError):
    """A byte range past the end of what there is (``Content-Range: bytes */<size>``)."""

    status_code = 416
    message = "range not satisfiable"

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.headers = {"content-range": f"bytes */{size}"}


class TooManyRequests(PodiumError):
    status_code = 429
    message = "too many"


class Unavailable(PodiumError):
    """The request was fine but a part the server depends on (the database) is not."""

    status_code = 503
    message = "temporarily unavailable"


def error_body(status: int, message: str) -> dict[str, dict[str, object]]:
    return {"error": {"status": status, "message": message}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PodiumError)
    async def _podium(_: Request, error: PodiumError) -> JSONResponse:
        headers = getattr(error, "headers", None)
        body = error_body(error.status_code, error.message)
        return JSONResponse(body, error.status_code, headers=headers)

    @app.exception_handler(SQLAlchemyError)
    @app.exception_handler(ConnectionError)
    async def _database(_: Request, error: Exception) -> JSONResponse:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        message = f"the database is unavailable ({reason[0] if reason else 'no answer'}); try again"
        log.warning("%s", message)
        return JSONResponse(error_body(503, message), 503, headers={"Retry-After": "2"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        message = str(error.detail)
        if error.status_code == 404:
            message = "no such resource (see GET /agents for agents, GET /rooms for rooms)"
        return JSONResponse(error_body(error.status_code, message), error.status_code)
