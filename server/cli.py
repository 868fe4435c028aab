"""``podium serve`` runs the server; ``podium debate "topic"`` prints a debate from a server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx
import uvicorn
from sse_starlette.sse import AppStatus


def _serve(args: argparse.Namespace) -> int:

    if args.config:
        if not args.config.is_file():
            print(f"podium: config file {args.config} does not exist", file=sys.stderr)
            return 2
        os.environ["PODIUM_CONFIG"] = str(args.config)
    from server.ops.telemetry import configure_tracing

    configure_tracing()  # before the a2a-sdk is imported (server.app)
    from pydantic import ValidationError

    from server.settings import Settings

    overrides: dict[str, object] = {}
    for key in ("host", "port", "data_dir", "database_url", "public_base_url", "max_body_bytes"):
        value = getattr(args, key)
        if value is not None:
            overrides[key] = value
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except tomllib.TOMLDecodeError as error:
        print(
            f"podium: config: {os.environ.get('PODIUM_CONFIG', 'podium.toml')}: {error}",
            file=sys.stderr,
        )
        return 2
    except ValidationError as error:
        for detail in error.errors():
            where = ".".join(str(part) for part in detail["loc"])
            unknown = detail["type"] in ("extra_forbidden", "unexpected_keyword_argument")
            what = "unknown key" if unknown else detail["msg"].removeprefix("Value error, ")
            print(f"podium: config: {where}: {what}", file=sys.stderr)
        return 2
    if not settings.auth.enabled and not _loopback(settings.host) and not args.insecure:
        print(
            f"podium: refusing to serve on {settings.host} with no authentication: set "
            "auth.api_keys (PODIUM_AUTH__API_KEYS) or auth.jwt_jwks_url, or pass --insecure",
            file=sys.stderr,
        )
        return 2
    from server.ops.logs import configure

    configure(args.log_level)
    problem = asyncio.run(_database_problem(settings.database))
    if problem:
        print(f"podium: {problem}", file=sys.stderr)
        return 2
    from server.app import create_app  # (after the checks: a mistake is told at once)

    print(f"Podium on {settings.base_url}  (data in {settings.data_dir.resolve()})", flush=True)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=3,
        # wsproto reads a handshake of any length the HTTP parser accepted (a long query);
        # the websockets protocol stops at 8 KiB lines and left such a client waiting forever.
        ws="wsproto",
        # Client addresses (rate limits) come from X-Forwarded-For only behind a trusted proxy.
        proxy_headers=settings.trust_proxy_headers,
        forwarded_allow_ips="*" if settings.trust_proxy_headers else None,
    )
    # Streams end by themselves once drained (final events sent), not cut at the signal.
    AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]
    _DrainingServer(config, app.state.begin_drain).run()
    return 0


class _DrainingServer(uvicorn.Server):
    """Starts the app's drain the moment a stop is asked for (SIGTERM, Ctrl-C), while the
    server still waits for open connections: streams then end with their final events."""

    def __init__(self, config: uvicorn.Config, begin_drain: Callable[[], None]) -> None:
        super().__init__(config)
        self._begin_drain = begin_drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        with contextlib.suppress(RuntimeError):  # no loop running yet: nothing to drain
            asyncio.get_running_loop().call_soon_threadsafe(self._begin_drain)
        super().handle_exit(sig, frame)


def _loopback(host: str) -> bool:
    from server.http.throttle import is_loopback

    return is_loopback(host)


async def _database_problem(url: str) -> str | None:
    """Why the database cannot be used (unreachable, bad URL), or None once it is migrated."""
    from store.database import DatabaseUnavailable, open_database

    try:
        database = open_database(url)
    except DatabaseUnavailable as error:
        return str(error)
    try:
        await database.start()
    except DatabaseUnavailable as error:
        return str(error)
    finally:
        await database.aclose()
    return None


def _debate(args: argparse.Namespace) -> int:
    body: dict[str, object] = {"agent": "moderator", "text": args.topic}
    if args.rounds:
        body["rounds"] = args.rounds
    if args.speakers:
        body["speakers"] = args.speakers.split(",")
    base = args.server.rstrip("/")
    try:
        with httpx.Client(timeout=httpx.Timeout(10.0, read=None)) as client:
            created = client.post(f"{base}/stream", json=body)
            if created.status_code != 201:
                print(f"error: {created.status_code} {created.text}", file=sys.stderr)
                return 1
            task_id = created.json()["task_id"]
            print(f"# debate task {task_id} — {args.topic}\n", flush=True)
            state = "unknown"
            with client.stream("GET", f"{base}/stream/{task_id}") as response:
                event, data = "message", []
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
                    elif line == "":
                        if event == "status":
                            state = "\n".join(data)
                        elif data:
                            sys.stdout.write("\n".join(data))
                            sys.stdout.flush()
                        event, data = "message", []
            print(f"\n\n# {state}")
            return 0 if state == "completed" else 2
    except httpx.HTTPError as error:
        print(f"error: cannot reach {base}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="podium", description="Podium: voice multi-agent debates.")
    verbs = root.add_subparsers(dest="verb", required=True)
    serve = verbs.add_parser(
        "serve",
        help="run the server",
        description="Run the Podium server. Every flag also has a PODIUM_* environment variable "
        "and a key in the TOML config (PODIUM_CONFIG or ./podium.toml).",
    )
    serve.add_argument("--host", help="interface to bind (PODIUM_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (PODIUM_PORT, default 8000)")
    serve.add_argument(
        "--data-dir", type=Path, help="task store and history folder (PODIUM_DATA_DIR, ./.podium)"
    )
    serve.add_argument(
        "--database-url",
        help="postgresql+asyncpg://user:pass@host/db (PODIUM_DATABASE_URL; default SQLite in the "
        "data dir)",
    )
    serve.add_argument(
        "--public-base-url",
        help="absolute base URL used in agent cards (PODIUM_PUBLIC_BASE_URL, http://localhost:PORT)",
    )
    serve.add_argument(
        "--max-body-bytes", type=int, help="request body limit (PODIUM_MAX_BODY_BYTES, 1000000)"
    )
    serve.add_argument("--config", type=Path, help="TOML config file (PODIUM_CONFIG)")
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="serve beyond loopback with no authentication (anyone who reaches it can use it)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)
    debate = verbs.add_parser("debate", help="print a debate streamed from a running server")
    debate.add_argument("topic")
    debate.add_argument(
        "--url",
        "--server",
        dest="server",
        default=f"http://localhost:{os.environ.get('PODIUM_PORT', '8000')}",
        help="the server's base URL (default http://localhost:$PODIUM_PORT, port 8000)",
    )
    debate.add_argument("--rounds", type=int)
    debate.add_argument("--speakers", help="comma-separated debater names, in speaking order")
    debate.set_defaults(run=_debate)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
