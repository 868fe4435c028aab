"""Push notifications through the a2a-sdk: its config store (in Podium's database), its
sender and its URL screening, with what a deployment needs around them.

- **Off the turn's path.** The SDK sends from the task's event consumer, one event at a time;
  here each task's notifications queue up and go out in order from a worker of their own, so
  a slow or dead webhook never holds up a turn (or its voice).
- **No read per event.** The SDK looks up a task's push configs for every event; here they
  are kept as set (a server that is the database's only writer never reads them for a task
  nobody asked notifications of; replicas sharing a database read them again after a second).
- **Retries with backoff** for connection errors, 429 and 5xx (``Retry-After`` honoured).
- **No server-side request forgery.** Webhook URLs must be http(s) and, unless
  ``push.allow_private_urls``, resolve to public addresses only (the SDK's screening), both
  when a client sets one (-32602 otherwise) and again at each delivery (DNS may change).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

import httpx
from a2a.server.context import ServerCallContext
from a2a.server.tasks import (
    BasePushNotificationSender,
    DatabasePushNotificationConfigStore,
    PushNotificationConfigStore,
)
from a2a.server.tasks.push_notification_sender import (
    PushNotificationEvent,
    PushNotificationSender,
)
from a2a.types import a2a_pb2 as pb
from a2a.utils.errors import InvalidParamsError
from a2a.utils.push_url_validator import validate_push_notification_url
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
QUEUE_LIMIT = 500  # notifications waiting per task; past it the oldest are dropped
RETRYABLE = {429, 500, 502, 503, 504}
Validator = Callable[[str], Awaitable[bool]]


def url_validator(allow_private: bool) -> Validator:
    """The SDK's screening (public addresses only), or only the scheme when private
    addresses are allowed (a webhook on the same network)."""
    if not allow_private:
        return validate_push_notification_url

    async def scheme_only(url: str) -> bool:
        parsed = urlparse(url)
        return parsed.scheme in ("http", "https") and bool(parsed.hostname)

    return scheme_only


async def url_problem(url: str, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a webhook, in words a client can act on (None: it can)."""
    try:
        parsed = urlparse(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return "not a URL"
    if parsed.scheme not in ("http", "https"):
        return f"scheme {parsed.scheme!r} is not http or https"
    if not parsed.hostname:
        return "no host"
    try:
        await asyncio.get_running_loop().getaddrinfo(parsed.hostname, port)
    except (OSError, UnicodeError):
        return f"could not resolve host {parsed.hostname!r}"
    if not allow_private and not await validate_push_notification_url(url):
        return (
            f"{parsed.hostname!r} is a private, loopback or link-local address "
            "(push.allow_private_urls is off)"
        )
    return None


def explaining_validator(allow_private: bool) -> Validator:
    """For setting a config: a refused URL is -32602 saying why, not only that it is invalid."""

    async def check(url: str) -> bool:
        if (why := await url_problem(url, allow_private)) is not None:
            raise InvalidParamsError(message=f"Invalid push notification URL: {why}")
        return True

    return check


class RetryingTransport(httpx.AsyncBaseTransport):
    """Sends a request again on connection errors, 429 and 5xx: ``attempts`` in all, waiting
    ``base_delay * 2**n`` between them (or the answer's ``Retry-After``, at most ``max_delay``)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._inner = inner
        self._attempts = attempts
        self._base = base_delay
        self._max = max_delay
        self._sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self._attempts):
            last = attempt == self._attempts - 1
            delay = min(self._max, self._base * 2**attempt)
            try:
                response = await self._inner.handle_async_request(request)
            except httpx.TransportError:
                if last:
                    raise
            else:
                if response.status_code not in RETRYABLE or last:
                    return response
                retry_after = response.headers.get("retry-after", "")
                if retry_after.isdigit():
                    delay = min(self._max, float(retry_after))
                await response.aclose()
            log.info(
                "webhook %s: attempt %d failed; again in %.1f s", request.url, attempt + 1, delay
            )
            await self._sleep(delay)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()


class CachedConfigs(PushNotificationConfigStore):
    """A config store whose per-task dispatch lists are kept once read.

    ``ttl`` None: this process is the store's only writer, so every config was set through
    here and a task not known here has none: no read at all for the many tasks nobody asked
    notifications of (until more tasks had configs than are kept). Otherwise (replicas share
    the store) lists are read again after ``ttl`` seconds."""

    def __init__(self, store: PushNotificationConfigStore, ttl: float | None, keep: int = 4096):
        self._store = store
        self._ttl = ttl
        self._keep = keep
        self._complete = ttl is None  # every task with configs is in ``_known``
        self._known: OrderedDict[str, tuple[float, list[pb.TaskPushNotificationConfig]]] = (
            OrderedDict()
        )

    async def _reload(self, task_id: str) -> list[pb.TaskPushNotificationConfig]:
        configs = await self._store.get_info_for_dispatch(task_id)
        self._known[task_id] = (time.monotonic(), configs)
        self._known.move_to_end(task_id)
        while len(self._known) > self._keep:
            self._known.popitem(last=False)
            self._complete = False  # a forgotten task may have configs: read on a miss
        return configs

    async def set_info(
        self, task_id: str, config: pb.TaskPushNotificationConfig, context: ServerCallContext
    ) -> pb.TaskPushNotificationConfig | None:
        result = await self._store.set_info(task_id, config, context)
        await self._reload(task_id)
        return result

    async def get_info(
        self, task_id: str, context: ServerCallContext
    ) -> list[pb.TaskPushNotificationConfig]:
        return await self._store.get_info(task_id, context)

    async def get_info_for_dispatch(self, task_id: str) -> list[pb.TaskPushNotificationConfig]:
        known = self._known.get(task_id)
        if known is not None and (self._ttl is None or time.monotonic() - known[0] < self._ttl):
            return known[1]
        if known is None and self._complete:
            return []
        return await self._reload(task_id)

    async def delete_info(
        self, task_id: str, context: ServerCallContext, config_id: str | None = None
    ) -> None:
        await self._store.delete_info(task_id, context, config_id)
        await self._reload(task_id)


class QueuedSender(PushNotificationSender):
    """Hands each task's notifications, in order, to the SDK's sender from a worker per task
    with something to send; this object owns those workers (``aclose`` ends them)."""

    def __init__(self, sender: BasePushNotificationSender, configs: CachedConfigs) -> None:
        self._sender = sender
        self._configs = configs
        self._queues: dict[str, list[PushNotificationEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    async def send_notification(self, task_id: str, event: PushNotificationEvent) -> None:
        if not await self._configs.get_info_for_dispatch(task_id):
            return  # nobody asked for this task's notifications
        queue = self._queues.setdefault(task_id, [])
        queue.append(event)
        if len(queue) > QUEUE_LIMIT:
            del queue[0]
            log.warning("task %s: webhook too slow, oldest notification dropped", task_id)
        if task_id not in self._workers:
            self._workers[task_id] = asyncio.create_task(self._drain(task_id))

    async def _drain(self, task_id: str) -> None:
        try:
            queue = self._queues[task_id]
            while queue:
                await self._sender.send_notification(task_id, queue.pop(0))
        finally:
            self._queues.pop(task_id, None)
            self._workers.pop(task_id, None)

    async def flushed(self) -> None:
        """Returns once every queued notification was sent (or given up on)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for worker in list(self._workers.values()):
            worker.cancel()
        await asyncio.gather(*list(self._workers.values()), return_exceptions=True)


class Push:
    """Everything push notifications need, built once per server and shared by the agents."""

    def __init__(
        self,
        engine: AsyncEngine,
        shared: bool,
        allow_private_urls: bool,
        attempts: int,
        timeout: float,
        encryption_key: str,
    ) -> None:
        self.validator = url_validator(allow_private_urls)  # at delivery: a bool
        self.config_validator = explaining_validator(allow_private_urls)  # when set: why not
        database_store = DatabasePushNotificationConfigStore(
            engine,
            create_table=False,
            encryption_key=encryption_key or None,
            owner_resolver=lambda context: context.user.user_name,
        )
        self.configs = CachedConfigs(database_store, ttl=1.0 if shared else None)
        transport = RetryingTransport(httpx.AsyncHTTPTransport(), attempts=attempts)
        self.client = httpx.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=False
        )
        sdk_sender = BasePushNotificationSender(
            self.client, self.configs, push_url_validator=self.validator
        )
        self.sender = QueuedSender(sdk_sender, self.configs)

    async def aclose(self) -> None:
        await self.sender.aclose()
        await self.client.aclose()
