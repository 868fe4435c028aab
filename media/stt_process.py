"""PocketSphinx in worker processes, talked to from the event loop.

PocketSphinx holds the GIL while it decodes (a 6 s utterance stalls the thread that calls it,
and with it the event loop, for over a second), so the server keeps its decoders in separate
processes. The room's event loop writes each 100 ms batch of audio to a worker's socket and
reads the answers as they come (a reader on the loop, answers in the order of the requests):
no thread is woken per batch, and the loop keeps pacing every participant's audio while the
decoders run on the other core. Messages are framed as ``multiprocessing`` frames them (a
4-byte length, then a pickle), so the worker reads them with a plain ``Connection``.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import pickle
import socket
import struct
import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from media.pcm import Pcm
from media.stt import Decoding, PocketsphinxSpeechToText, RecognitionError, Recognizer

_SIZE = struct.Struct("!i")


def _serve(conn: Connection) -> None:
    """The worker: one decoder per open utterance, reused from a pool."""
    engine = PocketsphinxSpeechToText()
    engine.warm(1)
    utterances: dict[int, Decoding] = {}
    conn.send(("ready", ""))
    while True:
        try:
            command, uid, payload = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if command == "start":
                utterances[uid] = engine.utterance()
                result = ""
            elif command == "feed":
                result = utterances[uid].feed(np.frombuffer(payload, np.int16))
            elif command == "finish":
                result = utterances.pop(uid).finish()
            elif command == "stop":
                return
            else:
                raise ValueError(f"unknown command {command!r}")
            conn.send(("ok", result))
        except Exception as error:  # reported to the caller, the worker goes on
            conn.send(("error", f"{type(error).__name__}: {error}"))


class _Worker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()  # a socket pair
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._ready = False
        self._dead = False
        self._sock: socket.socket | None = None  # once attached to the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: asyncio.Lock | None = None
        self._answers: deque[asyncio.Future[tuple[str, Any]]] = deque()
        self._received = bytearray()

    @property
    def alive(self) -> bool:
        return not self._dead and self._process.is_alive()

    def wait_ready(self) -> None:
        """Blocks until the worker has loaded its model (once; run it in a thread)."""
        with self._lock:
            if self._ready:
                return
            try:
                self._conn.recv()  # ("ready", "")
            # TypeError: ``close`` (the server stopping) closed the connection under the read
            except (EOFError, OSError, TypeError) as error:
                self._dead = True
                raise RecognitionError("the speech recognition worker died") from error
            self._ready = True

    async def call(self, command: str, uid: int, payload: bytes = b"") -> str:
        if not self._ready:
            await asyncio.to_thread(self.wait_ready)
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._attach(loop)
        if self._dead:
            raise RecognitionError("the speech recognition worker died")
        assert self._sock is not None and self._sending is not None
        data = pickle.dumps((command, uid, payload), pickle.HIGHEST_PROTOCOL)
        answer: asyncio.Future[tuple[str, Any]] = loop.create_future()
        async with self._sending:  # frames whole and in the order of their answers
            self._answers.append(answer)
            try:
                await loop.sock_sendall(self._sock, _SIZE.pack(len(data)) + data)
            except OSError:
                self._died()
        status, result = await answer
        if status != "ok":
            raise RecognitionError(f"speech recognition failed: {result}")
        return str(result)

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._detach()
        self._sock = socket.socket(fileno=os.dup(self._conn.fileno()))
        self._sock.setblocking(False)
        self._loop, self._sending = loop, asyncio.Lock()
        loop.add_reader(self._sock.fileno(), self._on_readable)

    def _detach(self) -> None:
        sock, loop, self._sock = self._sock, self._loop, None
        if sock is None:
            return
        if loop is None or loop.is_closed():
            sock.close()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop or not loop.is_running():
            loop.remove_reader(sock.fileno())
            sock.close()
        else:  # from another thread: the loop lets go of it
            loop.call_soon_threadsafe(_let_go, loop, sock)

    def _on_readable(self) -> None:
        assert self._sock is not None
        try:
            chunk = self._sock.recv(1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._died()
            return
        self._received += chunk
        while len(self._received) >= _SIZE.size:
            (size,) = _SIZE.unpack_from(self._received)
            if len(self._received) < _SIZE.size + size:
                break
            message = pickle.loads(self._received[_SIZE.size : _SIZE.size + size])
            del self._received[: _SIZE.size + size]
            if self._answers and not (answer := self._answers.popleft()).done():
                answer.set_result(message)

    def _died(self) -> None:
        self._dead = True
        self._detach()
        while self._answers:
            answer = self._answers.popleft()
            if not answer.done():
                answer.set_exception(RecognitionError("the speech recognition worker died"))

    def stop(self) -> None:
        """Asks the worker to stop (it holds nothing to save); ``close`` makes sure."""
        self._detach()
        try:
            self._conn.send(("stop", 0, b""))
        except OSError:
            pass

    def close(self, grace: float = 0.2) -> None:
        self.stop()
        self._process.join(timeout=grace)
        if self._process.is_alive():  # unloading its models takes a second: not worth it
            self._process.terminate()
            self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()


def _let_go(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    loop.remove_reader(sock.fileno())
    sock.close()


class _RemoteRecognizer:
    def __init__(self, worker: _Worker, uid: int) -> None:
        self._worker = worker
        self._uid = uid

    async def feed(self, pcm: Pcm) -> str:
        return await self._worker.call("feed", self._uid, pcm.astype(np.int16).tobytes())

    async def finish(self) -> str:
        return await self._worker.call("finish", self._uid)


class ProcessSpeechToText:
    """PocketSphinx in ``workers`` processes; utterances are spread over them in turn."""

    def __init__(self, workers: int = 2) -> None:
        self._count = workers
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._next = 0

    def _pool(self) -> list[_Worker]:
        """The workers, started on first use; a worker that died is replaced (blocking: a
        process starts)."""
        with self._lock:
            if not self._workers:
                self._workers = [_Worker() for _ in range(self._count)]
            for index, worker in enumerate(self._workers):
                if not worker.alive:
                    worker.close()
                    self._workers[index] = _Worker()
            return self._workers

    def warm(self, decoders: int = 2) -> None:
        """Starts the workers and waits for their models (blocking: run it in a thread)."""
        for worker in self._pool():
            worker.wait_ready()

    async def recognizer(self) -> Recognizer:
        with self._lock:
            pool = list(self._workers)
        if not pool or not all(worker.alive for worker in pool):
            pool = await asyncio.to_thread(self._pool)  # a process starts: off the loop
        with self._lock:
            worker = pool[self._next % len(pool)]
            self._next += 1
        uid = next(self._ids)
        await worker.call("start", uid)
        return _RemoteRecognizer(worker, uid)

    def close(self) -> None:
        """Stops every worker at once (even one still loading: a warm-up waiting for it
        ends with ``RecognitionError``)."""
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
        for worker in workers:
            worker.close()
