"""The pause corpus: does the room wait for a person who pauses mid-sentence, and answer one
who has finished?

Sentences with word timings (the read fixtures, and eSpeak NG voices for other speakers) are
cut after a word that leaves the sentence unfinished (the first word included) and a pause
of 200 to 1200 ms is put in, filled with a background (the fixtures' room tone, a hiss at
-40 dBFS, pink noise), at two levels; the fixtures' spoken commands ("go forward ten
meters") add true ends. Each is played through the voice detector and its end of turn, 20
ms at a time, with the words up to each moment (a word once half of it is heard: a
recognizer that hears right, the word policy's best case) and, for the model, its judgment
applied as many frames after the pause began as it took to compute. Reported per policy:
false cut-offs (the utterance ended inside the pause) by pause length, and the silence
waited after true ends.

    python benchmarks/end_of_turn.py [--quick]

The word-only policy is the room's behaviour without the model; ``--settings`` adds a curve
over the model's thresholds (``sure`` and ``fallback``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass

import numpy as np

from clients.fixtures import FIXTURES, read_wav, spoken_commands
from clients.noise_corpus import sound, to_pcm, voiced_level_dbfs
from media import turn_model
from media.end_of_turn import EndOfTurnConfig, Patience
from media.pcm import IN_FRAME, IN_RATE, Pcm
from media.tts import EspeakTextToSpeech
from media.vad import SpeechStarted, SpeechStopped, VadConfig, VadSegmenter

PAUSES = [0.2, 0.3, 0.5, 0.8, 1.2]
SPOKEN = (
    "had he married a more amiable woman he might have been made still more respectable",
    "i think that the trams should run all night because people work late",
    "we could build the new line along the river if the council agrees to pay for it",
)
VOICES = ("en-us", "en-us+f3", "en-gb+m3")


ONCE = EndOfTurnConfig(judgments=1)  # one judgment per pause (the policy before)
# The anchors' default policies on this detector, their words not weighed (``--anchors``):
# pipecat judges Smart Turn once, when its VAD stops after 0.2 s of silence, and ends the turn
# if the model says finished (p > 0.5), otherwise after SmartTurnParams.stop_secs (3 s);
PIPECAT = EndOfTurnConfig(
    complete=0.2, unsure=0.2, judge_after=0.2, judgments=1, sure=0.5, doubt=0.5, fallback=3.0
)
# LiveKit Agents without its turn-detector model ends a turn max(VAD silence, min_delay) after
# the last speech: Silero's min_silence_duration 0.55 s, endpointing min_delay 0.5 s.
LIVEKIT_VAD = EndOfTurnConfig(complete=0.55, unsure=0.55, incomplete=0.55)


@dataclass(frozen=True)
class Sentence:
    name: str
    pcm: Pcm
    words: tuple[tuple[str, float, float], ...]  # (word, start, end) in seconds
    cut: bool = True  # cut after its words (False: a true end only)


@dataclass
class Costs:
    judgments: int = 0
    cpu: float = 0.0  # seconds of CPU in judgments
    speech: float = 0.0  # seconds of speech played


COSTS = Costs()
AS_SPOKEN = Costs()  # …of the whole sentences, their own pauses only (none put in)
SPLITS: list[bool] = []  # per whole sentence of the last corpus run: split before its end


@dataclass
class Outcome:
    cut_off: bool  # ended inside the inserted pause
    waited: float | None  # silence after the true end before it ended (None: never ended)


def fixtures() -> list[Sentence]:
    sentences = []
    for path in sorted(FIXTURES.glob("sense_and_sensibility_*.json")):
        aligned = json.loads(path.read_text())
        words = tuple(
            (w["t"].split("(")[0], w["b"], w["b"] + w["d"])
            for w in aligned["w"]
            if not w["t"].startswith("<")
        )
        sentences.append(Sentence(path.stem[-4:], read_wav(path.with_suffix(".wav")), words))
    return sentences


def commands() -> list[Sentence]:
    """The fixtures' spoken commands, true ends only: most of their cut points ("go
    forward", "ten") are whole commands."""
    return [Sentence(c.name, c.pcm, c.words, cut=False) for c in spoken_commands()]


def synthesized() -> list[Sentence]:
    import av

    tts = EspeakTextToSpeech(165)
    sentences = []
    for voice in VOICES:
        for index, text in enumerate(SPOKEN):
            speech = tts.synthesize(text, voice)
            frame = av.AudioFrame.from_ndarray(speech.pcm.reshape(1, -1), "s16", "mono")
            frame.sample_rate = speech.sample_rate
            resampler = av.AudioResampler("s16", "mono", IN_RATE)
            out = [*resampler.resample(frame), *resampler.resample(None)]
            pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in out])
            starts = [w.start for w in speech.words]
            ends = [*starts[1:], len(speech.pcm) / speech.sample_rate]
            # eSpeak may voice two words as one ("that the"): each timing's text runs from
            # the previous one's end to its own
            offsets = [0, *(w.text_end for w in speech.words)]
            words = tuple(
                (text[offsets[i] : offsets[i + 1]].strip(), s, e)
                for i, (s, e) in enumerate(zip(starts, ends, strict=True))
            )
            sentences.append(Sentence(f"{voice}-{index}", pcm, words))
    return sentences


def background(kind: str, seconds: float, level: float) -> Pcm:
    if kind == "room":
        from clients.fixtures import noise

        return noise("fixture-background", seconds)
    return to_pcm(sound(kind, seconds, level, seed=3))


def play(
    audio: Pcm,
    words: list[tuple[str, float, float]],
    config: VadConfig,
    model: turn_model.TurnModel | None,
    true_end: float,
    patience: Patience | None = None,
    heard: bool = True,
) -> Outcome:
    """Plays ``audio`` (the sentence ends at ``true_end``, its last word as ``words[-1]``).
    An end inside the last word's second half is its true end (the detector may take a weak
    tail, the "s" of "clubs", for silence): the silence waited is then negative. ``heard``:
    the words reach the end of turn (False: the voice alone decides, as in the anchors)."""
    last_half = (words[-1][1] + words[-1][2]) / 2
    COSTS.speech += words[-1][2] - words[0][1]
    segmenter = VadSegmenter(config)
    segmenter.judging = model is not None
    segmenter.patience = patience or Patience()
    due: list[tuple[int, int, float]] = []  # (frame, pause number, judgment)
    started = False
    for index in range(len(audio) // IN_FRAME):
        t = (index + 1) * IN_FRAME / IN_RATE
        for event in segmenter.push(audio[index * IN_FRAME : (index + 1) * IN_FRAME], t):
            if isinstance(event, SpeechStarted):
                started = True
            elif isinstance(event, SpeechStopped) and started:
                if t < last_half:  # inside the pause, or a shorter one of its own
                    return Outcome(True, None)
                return Outcome(False, t - true_end)
        if not segmenter.speaking:
            continue
        if segmenter.pause_began() and heard:  # a pause began: its words so far
            # a word is heard once half of it is (a recognizer flushed at the pause offers
            # its best guess at the word it was in: the VAD may hear a weak end as silence)
            segmenter.hear(" ".join(w for w, start, end in words if (start + end) / 2 <= t))
        if model is not None and (asked := segmenter.views_due()) is not None:
            number, views = asked
            for view in views:  # judged in parallel in a room: each lands after its own time
                clock, cpu = time.perf_counter(), time.process_time()
                finished = model.finished(view)
                frames = int((time.perf_counter() - clock) / 0.02) + 1
                COSTS.judgments += 1
                COSTS.cpu += time.process_time() - cpu
                due.append((index + frames, number, finished))
        for item in [d for d in due if d[0] == index]:
            segmenter.judged(item[1], item[2])
            due.remove(item)
    return Outcome(False, None)


def corpus_runs(
    sentences: list[Sentence],
    config: VadConfig,
    model: turn_model.TurnModel | None,
    kinds: tuple[str, ...],
    levels: tuple[float, ...],
    heard: bool = True,
) -> tuple[dict[float, list[bool]], list[float | None]]:
    cut_offs: dict[float, list[bool]] = {p: [] for p in PAUSES}
    ends: list[float | None] = []
    SPLITS.clear()
    for sentence in sentences:
        speech_level = voiced_level_dbfs(sentence.pcm)
        for kind in kinds:
            for gain_db in levels:
                gain = 10 ** (gain_db / 20)
                pcm = np.clip(sentence.pcm * gain, -32768, 32767).astype(np.int16)
                hiss_level = speech_level + gain_db - 35  # about -40 dBFS under this speech
                tail = background(kind, max(2.0, config.end_of_turn.fallback + 0.6), hiss_level)
                last = sentence.words[-1][2]
                whole = np.concatenate([pcm[: int(last * IN_RATE)], tail])
                before = dataclasses.replace(COSTS)
                outcome = play(whole, list(sentence.words), config, model, last, heard=heard)
                AS_SPOKEN.judgments += COSTS.judgments - before.judgments
                AS_SPOKEN.cpu += COSTS.cpu - before.cpu
                AS_SPOKEN.speech += COSTS.speech - before.speech
                SPLITS.append(outcome.cut_off)  # the whole sentence, ended before its end
                ends.append(outcome.waited)
                for k, (_, _, cut_at) in enumerate(sentence.words[:-1] if sentence.cut else ()):
                    for length in PAUSES:
                        cut = int(cut_at * IN_RATE)
                        gap = background(kind, length, hiss_level)
                        audio = np.concatenate(
                            [pcm[:cut], gap, pcm[cut : int(last * IN_RATE)], tail]
                        )
                        shifted = [
                            (w, s + (length if i > k else 0), e + (length if i > k else 0))
                            for i, (w, s, e) in enumerate(sentence.words)
                        ]
                        outcome = play(audio, shifted, config, model, last + length, heard=heard)
                        cut_offs[length].append(outcome.cut_off)
    return cut_offs, ends


def session_runs(
    sentences: list[Sentence],
    config: VadConfig,
    model: turn_model.TurnModel | None,
    learn: bool,
) -> tuple[dict[float, list[bool]], list[float | None]]:
    """One person says every cut sentence of ``sentences`` with every pause, and every whole
    sentence, in a shuffled order (room tone): an utterance ended inside its pause (they go
    on, the room resumes the sentence) teaches their ``Patience`` when ``learn``; one ended
    at its true end eases it."""
    cut_offs: dict[float, list[bool]] = {p: [] for p in PAUSES}
    ends: list[float | None] = []
    trials: list[tuple[Sentence, int | None, float]] = []
    for sentence in sentences:
        trials.append((sentence, None, 0.0))
        for k in range(len(sentence.words) - 1 if sentence.cut else 0):
            trials += [(sentence, k, length) for length in PAUSES]
    order = np.random.default_rng(7).permutation(len(trials))
    patience = Patience()
    end = config.end_of_turn
    for index in order:
        sentence, k, length = trials[index]
        level = voiced_level_dbfs(sentence.pcm) - 35
        last = sentence.words[-1][2]
        tail = background("room", 2.0, level)
        words = list(sentence.words)
        if k is None:
            audio = np.concatenate([sentence.pcm[: int(last * IN_RATE)], tail])
        else:
            cut = int(sentence.words[k][2] * IN_RATE)
            gap = background("room", length, level)
            audio = np.concatenate(
                [sentence.pcm[:cut], gap, sentence.pcm[cut : int(last * IN_RATE)], tail]
            )
            words = [
                (w, s + (length if i > k else 0), e + (length if i > k else 0))
                for i, (w, s, e) in enumerate(words)
            ]
        outcome = play(audio, words, config, model, last + length, patience)
        if k is not None:
            cut_offs[length].append(outcome.cut_off)
        else:
            ends.append(outcome.waited)
        if learn and outcome.cut_off and length <= 1.4:
            patience.went_on(length, end)
        elif learn and not outcome.cut_off:
            patience.eased()
    return cut_offs, ends


def report(name: str, cut_offs: dict[float, list[bool]], ends: list[float | None]) -> None:
    rates = "  ".join(f"{int(p * 1000)} ms {100 * np.mean(c):4.1f} %" for p, c in cut_offs.items())
    long = [c for p, cs in cut_offs.items() if p >= 0.3 for c in cs] or [False]
    waited = np.array([w for w in ends if w is not None]) * 1000
    never = sum(w is None for w in ends)
    print(
        f"{name:<34} false cut-offs (pauses >= 300 ms) {100 * np.mean(long):4.1f} %  [{rates}]\n"
        f"{'':<34} after true ends: silence waited p50 {np.median(waited):.0f} ms, "
        f"p95 {np.quantile(waited, 0.95):.0f} ms (n={len(waited)}, not ended {never});"
        f" whole sentences split before their end: {sum(SPLITS)} of {len(SPLITS)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the fixtures only, room tone")
    parser.add_argument("--speakers", choices=["all", "read", "espeak"], default="all")
    parser.add_argument("--backgrounds", default="room,white,pink", help="room, white, pink")
    parser.add_argument("--levels", default="0,-12", help="gains in dB")
    parser.add_argument("--pauses", default=",".join(map(str, PAUSES)), help="seconds")
    parser.add_argument("--settings", action="store_true", help="a curve over sure/fallback")
    parser.add_argument(
        "--anchors", action="store_true", help="pipecat's and LiveKit's default policies too"
    )
    parser.add_argument(
        "--sessions", action="store_true", help="each speaker's pauses in one session, learning"
    )
    args = parser.parse_args()
    if args.quick:
        args.speakers, args.backgrounds, args.levels = "read", "room", "0"
    PAUSES[:] = [float(p) for p in args.pauses.split(",")]
    sentences = (fixtures() + commands() if args.speakers in ("all", "read") else []) + (
        synthesized() if args.speakers in ("all", "espeak") else []
    )
    kinds = tuple(args.backgrounds.split(","))
    levels = tuple(float(g) for g in args.levels.split(","))
    model = turn_model.load(None)
    if args.sessions:
        sessions(sentences, model)
        return
    print(f"{len(sentences)} sentences x {len(kinds)} backgrounds x {len(levels)} levels")
    for name, config in (
        ("words only (the function-word list)", VadConfig(turn_model=False, sentence_ends=False)),
        ("words only, and where sentences end", VadConfig(turn_model=False)),
    ):
        report(name, *corpus_runs(sentences, config, None, kinds, levels))
    if model is None:
        print("no end-of-turn model installed: run tools/install_turn_weights.py")
        return
    for name, config in (
        ("model once, the word list second", VadConfig(sentence_ends=False, end_of_turn=ONCE)),
        ("model once, words and sentence ends", VadConfig(end_of_turn=ONCE)),
        ("model twice, words and sentence ends", VadConfig()),
    ):
        for costs in (COSTS, AS_SPOKEN):
            costs.judgments, costs.cpu, costs.speech = 0, 0.0, 0.0
        report(name, *corpus_runs(sentences, config, model, kinds, levels))
        per = COSTS.cpu / max(1, COSTS.judgments)
        for label, costs in (("the corpus", COSTS), ("as spoken (no pause put in)", AS_SPOKEN)):
            rate = costs.judgments / max(1e-9, costs.speech)
            print(
                f"{'':<34} {label}: {costs.judgments} judgments, {per * 1000:.0f} ms of CPU"
                f" each, {rate:.2f} per second of speech: {100 * per * rate:.1f} % of a core"
                " per speaking person"
            )
    if args.anchors:
        anchors(sentences, model, kinds, levels)
    if args.settings:
        for sure, fallback in ((0.9, 1.4), (0.7, 1.4), (0.8, 1.0), (0.8, 1.8)):
            end = dataclasses.replace(EndOfTurnConfig(), sure=sure, fallback=fallback)
            config = VadConfig(end_of_turn=end)
            report(
                f"model sure {sure} fallback {fallback}",
                *corpus_runs(sentences, config, model, kinds, levels),
            )


def anchors(
    sentences: list[Sentence],
    model: turn_model.TurnModel,
    kinds: tuple[str, ...],
    levels: tuple[float, ...],
) -> None:
    """The anchors' default end-of-turn policies on the same detector and corpus (their
    models and thresholds; the recognizer's words not weighed): what Podium is measured
    against. LiveKit's own turn-detector models are fetched from a model hub at run time, so
    only its VAD endpointing runs here."""
    for name, config, judged in (
        ("pipecat: Smart Turn at 0.2 s, p > 0.5", PIPECAT, model),
        ("LiveKit: VAD endpointing (0.55 s)", LIVEKIT_VAD, None),
    ):
        for costs in (COSTS, AS_SPOKEN):
            costs.judgments, costs.cpu, costs.speech = 0, 0.0, 0.0
        vad = VadConfig(end_of_turn=config, turn_model=judged is not None, sentence_ends=False)
        report(name, *corpus_runs(sentences, vad, judged, kinds, levels, heard=False))


def sessions(sentences: list[Sentence], model: turn_model.TurnModel | None) -> None:
    """Per speaker (the read fixtures' reader, each eSpeak NG voice), one session without and
    one with the room learning from the pauses it mistook for ends."""
    speakers: dict[str, list[Sentence]] = {}
    for sentence in sentences:
        if sentence.cut:  # (the spoken commands have no pauses put in)
            voice = sentence.name.rsplit("-", 1)[0] if "-" in sentence.name else "read"
            speakers.setdefault(voice, []).append(sentence)
    for voice, said in speakers.items():
        for learn in (False, True):
            SPLITS.clear()
            name = f"{voice}: {'learning' if learn else 'no learning'}"
            report(name, *session_runs(said, VadConfig(), model, learn))


if __name__ == "__main__":
    main()
