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
