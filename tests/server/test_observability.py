"""Traces leave by OTLP to a collector on loopback when one is configured; routine client
errors are one INFO line each, never a WARNING or an ERROR with a trace."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from clients.a2a import fetch_card, final_state, make_client, user_message
from tests.serving import podium_process, serve_app


class Collector:
    def __init__(self) -> None:
        self.spans: list[tuple[str, str]] = []  # (service name, span name)
        self.arrived = threading.Event()


@pytest.fixture
def collector() -> Iterator[tuple[str, Collector]]:
    app = FastAPI()
    state = Collector()

    @app.post("/v1/traces")
    async def traces(request: Request) -> Response:
        batch = ExportTraceServiceRequest.FromString(await request.body())
        for resource_spans in batch.resource_spans:
            service = next(
                (
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                ),
                "",
            )
            for scope in resource_spans.scope_spans:
                state.spans += [(service, span.name) for span in scope.spans]
        state.arrived.set()
        return Response(ExportTraceServiceRequest().SerializeToString())

    with serve_app(app) as url:
        yield url, state


async def test_traces_go_to_the_collector_and_client_errors_stay_quiet(
    tmp_path: Path, collector: tuple[str, Collector]
) -> None:
    endpoint, received = collector
    log = tmp_path / "podium.log"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with podium_process(tmp_path / "data", log=log, **env) as (url, _):
        async with httpx.AsyncClient(timeout=10) as http:
            client = make_client(http, await fetch_card(http, f"{url}/agents/mei"))
            answered = [r async for r in client.send_message(user_message("Why?"))]
            assert final_state(answered)
            rpc = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "nope"}}
            headers = {"A2A-Version": "1.0"}
            for _ in range(5):  # the client's mistakes
                await http.post(f"{url}/agents/mei", json=rpc, headers=headers)
                await http.post(f"{url}/agents/mei", content=b"{nope", headers=headers)
                await http.get(f"{url}/stream/nope")
                await http.post(f"{url}/rooms", json={"topic": ""})
            assert received.arrived.wait(15), "no spans reached the collector"
    assert {service for service, _ in received.spans} == {"podium"}
    assert received.spans, "the SDK's spans of the call"
    lines = log.read_text().splitlines()
    assert not [line for line in lines if line.startswith(("WARNING", "ERROR"))], lines
    assert not [line for line in lines if line.startswith("Traceback")]
    parse_errors = [line for line in lines if "Code=-32700" in line]
    assert len(parse_errors) == 5 and all(line.startswith("INFO ") for line in parse_errors)
