"""When a person has finished: a short silence when what they said sounds complete, a long
one when it does not.

With the end-of-turn model (``media.turn_model``), the voice decides and the words are a
second opinion (``silence_judged``); without it, the words and the voice's level alone
(``silence_needed``).

A fixed hangover either answers late or cuts off someone who pauses mid-sentence. Here the
silence that ends an utterance depends on what was said so far (the recognizer's partial
words) and how it ended (the voice's level falling away):

- a sentence that ends in a word that needs a continuation ("and", "but", "because", "the",
  "to", "I", …), trails off in a filler ("um"), or stops on two words a sentence hardly ends
  on ("have been", "might be": the recognizer's language model, ``media.sentence_end``) is
  unfinished: ``incomplete`` (long);
  when the voice fell away as it does at an end, the cues disagree (the recognizer may not
  have the last word yet, or the speaker drew breath): halfway between;
- two words or more ending in any other word, a question, or a voice falling away at the end
  sound finished: ``complete`` (short);
- otherwise (no words yet, or one): ``unsure``.

Pure: words and levels in, seconds out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words a sentence hardly ever ends on: conjunctions, articles, prepositions, subject
# pronouns, fillers. (Words that often end one, "it", "that's all", "we should", are not here.)
CONTINUATIONS = frozenset(
    """
    and but or nor so because cause since though although unless until while whereas if
    than then that which whether
    the a an
    to of in on at by for with from into onto as between through during without within
    against toward towards upon
    i we they he she i'm we're you're they're i've we've there's
    very um uh er erm mean
    """.split()
)


@dataclass(frozen=True)
class EndOfTurnConfig:
    complete: float = 0.2  # seconds of silence after a turn that sounds finished
    unsure: float = 0.35  # …when neither words nor voice say either way
    incomplete: float = 0.8  # …after a sentence that stops mid-way
    falling_db: float = 6.0  # the voice's last 100 ms this far below its utterance level
    fallback: float = 1.4  # …when the voice sounds unfinished (or its judgment never came)
    judge_after: float = 0.1  # the model judges a pause this long (shorter gaps are in words)
    judgments: int = 2  # …and again each ``judge_after`` more; the least sure one counts
    sure: float = 0.8  # the model's probability of "finished" above which it is believed
    doubt: float = 0.5  # …and below which the voice sounds unfinished
    unlikely_end: float = 0.05  # a sentence ends after its last two words less often than
    # this (``media.sentence_end``): the words need more

    @property
    def conflicted(self) -> float:
        """Unfinished words, but a voice that fell away: halfway between."""
        return (self.unsure + self.incomplete) / 2


@dataclass
class Patience:
    """What one person's pauses have taught: the least silence that ends their turn.

    When a pause the room took for their end was not one (they went on, and the answer was to
    the whole sentence: ``server.rooms.resumption``), their turns end only after a silence
    ``margin`` longer than that pause, at most the fallback: a person who stops to think for
    half a second mid-sentence is not talked over twice. Each of their turns that ends without
    such a mistake eases it by ``ease`` seconds, back to the policy's own waits."""

    least: float = 0.0  # seconds of silence (0: the policy's waits alone)
    margin: float = 0.2
    ease: float = 0.1

    def went_on(self, gap: float, config: EndOfTurnConfig) -> None:
        """They went on after a pause of ``gap`` seconds that was taken for their end."""
        self.least = min(config.fallback, max(self.least, gap + self.margin))

    def eased(self) -> None:
        """A turn of theirs ended and they did not go on."""
        self.least = max(0.0, round(self.least - self.ease, 6))


def words_of(text: str) -> list[str]:
    """The words of a transcript, lower case (what the policies weigh)."""
    return re.findall(r"[a-z']+", text.lower())


def _need_more(words: list[str], ending: float, config: EndOfTurnConfig) -> bool:
    """The words stop where a sentence hardly ends: on a word that needs a continuation, or
    (two words or more) where a sentence ends less often than ``unlikely_end``."""
    if not words:
        return False
    return words[-1] in CONTINUATIONS or (len(words) >= 2 and ending < config.unlikely_end)


def silence_needed(
    partial: str,
    fell: float = 0.0,
    config: EndOfTurnConfig | None = None,
    ending: float = 1.0,
) -> float:
    """Seconds of silence that end an utterance whose words so far are ``partial`` and whose
    level fell ``fell`` dB at its end; ``ending`` is the probability that a sentence ends
    after those words (``media.sentence_end``; 1.0: not known)."""
    config = config or EndOfTurnConfig()
    words = words_of(partial)
    falling = fell >= config.falling_db
    if _need_more(words, ending, config):  # the voice falling away as at an end, too:
        return config.conflicted if falling else config.incomplete  # the cues disagree
    if len(words) >= 2 or (words and falling):
        return config.complete
    return config.unsure


def silence_judged(
    finished: float | None,
    partial: str,
    fell: float = 0.0,
    config: EndOfTurnConfig | None = None,
    ending: float = 1.0,
) -> float:
    """Seconds of silence that end an utterance when the end-of-turn model judged the pause:
    ``finished`` is its probability that the person is done (None: not yet judged, so only
    the fallback ends it). The model decides; the words, as a second opinion, lengthen a wait
    they disagree with: a voice that sounds done after "because the" waits ``incomplete``, one
    that only may be done waits for the fallback. Words that are all of them ones that need a
    continuation ("he", "unless to") hold out for the fallback whatever the voice says, and a
    lone word that sounds done waits ``unsure``, as without the model: it hears too little in
    a word or two to be believed (it calls a lone "he", "unless" or "go" done, p > 0.9).
    ``ending`` as for ``silence_needed``."""
    config = config or EndOfTurnConfig()
    if finished is None or finished < config.doubt:
        return config.fallback
    words = words_of(partial)
    if words and all(word in CONTINUATIONS for word in words):
        return config.fallback  # "he", "unless to": too little for the voice to overrule
    unfinished_words = _need_more(words, ending, config)
    if finished >= config.sure:
        if unfinished_words:
            return config.incomplete
        return config.unsure if len(words) == 1 else config.complete  # one word: too little
    if unfinished_words:
        return config.fallback
    # a voice that may be done: words that sound finished second it; with no words yet there
    # is no second opinion, and a longer wait
    return config.unsure if words else config.incomplete
