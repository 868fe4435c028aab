"""Could a sentence end after these words? The recognizer's own language model says.

The word policy knew a few dozen words a sentence hardly ends on ("the", "to", "because");
most unfinished phrases end on others ("had he married", "he might have been", "to be
rather"). PocketSphinx's English trigram model (it ships in the ``pocketsphinx`` wheel, read
once, ~50 ms) gives the probability that a sentence ends after the last two words,
P(</s> | w1 w2): about 0.3 after "for them", 0.2 after "young man", 0.03 after "have been",
0.005 after "to the". Below ``EndOfTurnConfig.unlikely_end`` the words need more.

A lookup costs well under a microsecond: it runs whenever the recognizer's words change.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pocketsphinx

from media.end_of_turn import words_of

_LOG_BASE = math.log(1.0001)  # the model's scores are logarithms to base 1.0001


class SentenceEnds:
    def __init__(self, path: Path) -> None:
        self._model = pocketsphinx.NGramModel.readfile(str(path))

    def probability(self, text: str) -> float:
        """P(the sentence ends here | its last two words); 1.0 for no words at all (nothing
        to say either way is left to the other cues)."""
        words = words_of(text)
        if not words:
            return 1.0
        history = ["<s>", *words[-2:]] if len(words) < 2 else words[-2:]
        score = self._model.prob(["</s>", history[-1], history[-2]])
        return math.exp(score * _LOG_BASE)


@functools.cache
def load() -> SentenceEnds:
    """The English model in the installed ``pocketsphinx`` package, read once per process."""
    path = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"
    return SentenceEnds(path)
