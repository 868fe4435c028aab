"""Outbound stage 1: a turn's streamed text → phrases to voice, as early as they make sense.

Pure: text deltas in, phrases out. A phrase ends at a sentence end (``.!?;:``); when nothing
is playing yet, voicing starts on the first clause (a comma) or, after a few words, on the
words so far (all but the last, which may be half a token), so the first words are heard
while the rest of the reply still streams.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s")
_CLAUSE_END = re.compile(r"(?<=,)\s")
FIRST_PHRASE_WORDS = 1  # with nothing playing, voicing starts once more words than this are in


class Phraser:
    def __init__(self, first_phrase_words: int = FIRST_PHRASE_WORDS) -> None:
        self._first = first_phrase_words
        self._pending = ""

    def push(self, delta: str, idle: bool) -> list[str]:
        """Adds streamed text; returns the phrases now ready. ``idle``: nothing is playing,
        so an early, shorter first phrase is worth it."""
        self._pending += delta
        *phrases, self._pending = _SENTENCE_END.split(self._pending)
        if idle and not phrases and len(self._pending.split()) > self._first:
            *phrases, self._pending = _CLAUSE_END.split(self._pending)
            if not phrases:
                head, _, self._pending = self._pending.rpartition(" ")
                phrases = [head]
        return [phrase + " " for phrase in phrases]

    def finish(self) -> str | None:
        """The rest, once the text has ended (None when only whitespace is left)."""
        rest, self._pending = self._pending, ""
        return rest if rest.strip() else None
