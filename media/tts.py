"""Outbound stage 1: text → speech. eSpeak NG (offline, through ``espeakng-loader``) with word
timings, so a turn cut mid-sentence knows exactly which words were heard."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from media.pcm import Pcm


@dataclass(frozen=True)
class WordTiming:
    word: str
    start: float  # seconds from the start of the clip
    text_end: int  # offset in the synthesized text just past this word


@dataclass(frozen=True)
class Speech:
    pcm: Pcm  # mono int16
    sample_rate: int
    words: tuple[WordTiming, ...]


class SynthesisError(Exception):
    """The speech engine could not voice a phrase; ``str(error)`` says why."""


class TextToSpeech(Protocol):
    def synthesize(self, text: str, voice: str) -> Speech:
        """Blocking: callers run it in a worker thread."""
        ...


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_EVENT_WORD = 1
_EVENT_END = 0
_RATE = 1


class EspeakTextToSpeech:
    """eSpeak NG in-process. The library is global state, so calls are serialized."""

    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None
    _sample_rate = 22050

    def __init__(self, words_per_minute: int = 175) -> None:
        self._wpm = words_per_minute
        self._load()
        self._pcm: list[Pcm] = []
        self._events: list[tuple[int, int, int]] = []
        self._callback = _CALLBACK(self._on_audio)

    @classmethod
    def _load(cls) -> None:
        with cls._lock:
            if cls._lib is not None:
                return
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            rate = lib.espeak_Initialize(
                _SYNCHRONOUS, 200, espeakng_loader.get_data_path().encode(), 0
            )
            if rate <= 0:
                raise SynthesisError("eSpeak NG failed to initialize")
            cls._sample_rate = rate
            cls._lib = lib

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0 and wav:
            self._pcm.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.int16))
        index = 0
        while events[index].type != _EVENT_END:
            event = events[index]
            if event.type == _EVENT_WORD:
                self._events.append((event.text_position, event.length, event.audio_position))
            index += 1
        return 0

    def synthesize(self, text: str, voice: str) -> Speech:
        data = text.encode("utf-8")
        with self._lock:
            lib = self._lib
            assert lib is not None
            self._pcm, self._events = [], []
            lib.espeak_SetSynthCallback(self._callback)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                lib.espeak_SetVoiceByName(b"en-us")
            lib.espeak_SetParameter(_RATE, self._wpm, 0)
            lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            pcm = np.concatenate(self._pcm) if self._pcm else np.zeros(0, np.int16)
            events = list(self._events)
        words: list[WordTiming] = []
        for position, length, ms in events:
            start = max(0, position - 1)
            word = data[start : start + length].decode("utf-8", "ignore")
            words.append(WordTiming(word, ms / 1000.0, start + length))
        return Speech(pcm, self._sample_rate, tuple(words))
