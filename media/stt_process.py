"""PocketSphinx in worker processes.

PocketSphinx holds the GIL while it decodes (a 6 s utterance stalls the thread that calls it,
and with it the event loop, for over a second), so the server keeps its decoders in separate
processes: the room's event loop only ships 100 ms batches of audio over a pipe, from a worker
thread, and keeps pacing every participant's audio while the decoders run on the other core.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from multiprocessing.connection import Connection

import numpy as np

from media.pcm import Pcm
from media.stt import PocketsphinxSpeechToText, Recognizer


def _serve(conn: Connection) -> None:
    """The worker: one decoder per open utterance, reused from a pool."""
    engine = PocketsphinxSpeechToText()
    engine.warm(1)
    utterances: dict[int, Recognizer] = {}
    conn.send(("ready", ""))
    while True:
        try:
            command, uid, payload = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if command == "start":
                utterances[uid] = engine.recognizer()
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
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._ready = False

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def call(self, command: str, uid: int, payload: bytes = b"") -> str:
        with self._lock:
            try:
                if not self._ready:
                    self._conn.recv()  # ("ready", ""): the model is loaded
                    self._ready = True
                self._conn.send((command, uid, payload))
                status, result = self._conn.recv()
            except (EOFError, OSError) as error:
                raise RuntimeError("the speech recognition worker died") from error
        if status != "ok":
            raise RuntimeError(f"speech recognition failed: {result}")
        return str(result)

    def close(self) -> None:
        try:
            with self._lock:
                self._conn.send(("stop", 0, b""))
        except OSError:
            pass
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()


class _RemoteRecognizer:
    def __init__(self, worker: _Worker, uid: int) -> None:
        self._worker = worker
        self._uid = uid
        worker.call("start", uid)

    def feed(self, pcm: Pcm) -> str:
        return self._worker.call("feed", self._uid, pcm.astype(np.int16).tobytes())

    def finish(self) -> str:
        return self._worker.call("finish", self._uid)


class ProcessSpeechToText:
    """PocketSphinx in ``workers`` processes; utterances are spread over them in turn."""

    def __init__(self, workers: int = 2) -> None:
        self._count = workers
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._next = 0

    def _pool(self) -> list[_Worker]:
        """The workers, started on first use; a worker that died is replaced."""
        with self._lock:
            if not self._workers:
                self._workers = [_Worker() for _ in range(self._count)]
            self._workers = [w if w.alive else _Worker() for w in self._workers]
            return self._workers

    def warm(self, decoders: int = 2) -> None:
        for worker in self._pool():
            worker.call("start", 0)
            worker.call("finish", 0)

    def recognizer(self) -> Recognizer:
        pool = self._pool()
        with self._lock:
            worker = pool[self._next % len(pool)]
            self._next += 1
        return _RemoteRecognizer(worker, next(self._ids))

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
