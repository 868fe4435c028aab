"""A turn's text reaches its task at a bounded rate: the first chunk at once, then what came
within the window joined into one update; nothing is lost at the end."""

from __future__ import annotations

from agents.coalesce import Coalescer


def test_the_first_chunk_goes_at_once_and_the_rest_in_windows() -> None:
    now = [0.0]
    held = Coalescer(lambda: now[0], every=0.5)
    sent = []
    for at, chunk in [
        (0.0, "Trams "),
        (0.1, "carry "),
        (0.3, "more "),
        (0.6, "people. "),
        (0.7, "Buses "),
        (2.0, "wait."),
    ]:
        now[0] = at
        if (text := held.push(chunk)) is not None:
            sent.append((at, text))
    if (rest := held.take()) is not None:
        sent.append((now[0], rest))
    assert sent == [(0.0, "Trams "), (0.6, "carry more people. "), (2.0, "Buses wait.")]
    assert held.sent == 3 and held.take() is None


def test_unstreamed_the_first_chunk_waits_like_the_rest() -> None:
    """Nobody follows a blocking call's turn: a reply that comes within the window is one
    update, a slower one is still shown every window."""
    now = [10.0]
    held = Coalescer(lambda: now[0], every=0.5, first_at_once=False)
    sent = []
    for at, chunk in [(10.0, "Trams "), (10.2, "carry "), (10.6, "more "), (10.7, "people.")]:
        now[0] = at
        if (text := held.push(chunk)) is not None:
            sent.append((at, text))
    if (rest := held.take()) is not None:
        sent.append((now[0], rest))
    assert sent == [(10.6, "Trams carry more "), (10.7, "people.")]


def test_with_no_window_every_chunk_goes_at_once_either_way() -> None:
    for first_at_once in (True, False):
        held = Coalescer(lambda: 5.0, every=0.0, first_at_once=first_at_once)
        assert [held.push(w) for w in ("a ", "b ", "c")] == ["a ", "b ", "c"]
