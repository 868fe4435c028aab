"""``/metrics`` as Prometheus scrapes it, parsed with ``prometheus_client``'s own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.sse import read_events


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_parse_and_count_what_happened(podium: str) -> None:
    async with httpx.AsyncClient(timeout=20) as http:
        before = scrape((await http.get(f"{podium}/metrics")).text)
        assert before[("podium_rooms", ())] == 0
        assert before[("podium_e2e_seconds_count", ())] == 0
        assert ("podium_bargein_seconds_bucket", (("le", "0.15"),)) in before
        room = (await http.post(f"{podium}/rooms", json={"topic": "Metrics?"})).json()
        task = (await http.post(f"{podium}/stream", json={"text": "Tea or coffee?"})).json()
        async with http.stream("GET", f"{podium}/stream/{task['task_id']}") as followed:
            events = await read_events(followed)
        assert events[-1].data == "completed"
        response = await http.get(f"{podium}/metrics")
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        after = scrape(response.text)
    assert after[("podium_rooms", ())] == 1
    assert after[("podium_running_turns", ())] == 0
    assert after[("podium_agents", ())] == 3
    ended = {labels: v for (name, labels), v in after.items() if name == "podium_turns_total"}
    assert ended[(("agent", "moderator"), ("state", "completed"))] == 1
    assert sum(ended.values()) >= 2, "the moderator's turn and at least one debater's"
    assert room["id"]
