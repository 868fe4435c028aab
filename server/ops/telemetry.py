"""OpenTelemetry traces: the a2a-sdk's spans (its ``telemetry`` extra) for every A2A call,
FastAPI's HTTP spans, and a span per voice turn (the person stopped speaking -> the agent's
first audible word), sent by OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``..._TRACES_ENDPOINT``) is set. Otherwise tracing is off: the SDK's per-call spans are
switched off by its own switch, FastAPI's are not made, and the voice-turn span goes to a
no-op tracer. Nothing is recorded and nothing costs."""

from __future__ import annotations

import os
import time

from opentelemetry import trace

ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SDK_SWITCH = "OTEL_INSTRUMENTATION_A2A_SDK_ENABLED"
tracer = trace.get_tracer("podium")


def exporting() -> bool:
    """True when spans have somewhere to go (an OTLP endpoint is configured)."""
    return any(os.environ.get(name) for name in ENDPOINTS)


def configure_tracing() -> bool:
    """Sets the process's tracer provider; True when spans are exported. Call it before the
    a2a-sdk is imported: the SDK reads its switch once, at import."""
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return False  # set up already (by the environment's instrumentation)
    if not exporting():
        # Spans nobody receives still cost: ~a tenth of an A2A call's CPU went to the SDK
        # opening and closing no-op spans around each of its methods.
        os.environ.setdefault(SDK_SWITCH, "false")
        # An unset provider costs an environment lookup on every span still started.
        trace.set_tracer_provider(trace.NoOpTracerProvider())
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "podium")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


def voice_turn(room_id: str, agent: str, task_id: str, waited: float) -> None:
    """Records a voice turn that began ``waited`` seconds ago (when the person stopped) and
    whose first word is being heard now."""
    end = time.time_ns()
    span = tracer.start_span(
        "podium.voice_turn",
        start_time=end - int(waited * 1e9),
        attributes={
            "podium.room": room_id,
            "podium.agent": agent,
            "a2a.task_id": task_id,
            "podium.e2e_ms": round(waited * 1000, 1),
        },
    )
    span.end(end_time=end)
