"""The FastAPI application: Podium's own routes, then every agent's A2A surfaces."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from a2a.server.request_handlers.response_helpers import agent_card_to_dict
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

from agents.executor import DebaterExecutor
from media import consent
from media.metronome import Metronome
from media.openai_speech import OpenAISpeechToText, OpenAITextToSpeech
from media.spoken_reply import output_type, spoken
from media.stt import RecognitionError, SpeechToText
from media.stt_process import ProcessSpeechToText
from media.tts import EspeakTextToSpeech, TextToSpeech
from server.api.a2a_mount import mount_agents
from server.api.audio_hearing import AudioHearing
from server.api.broadcast import broadcast_router
from server.api.recordings import recordings_router
from server.api.rooms import rooms_router
from server.api.stream import StreamHub, stream_router
from server.api.stream_errors import StreamingErrorsAsEvents
from server.auth.gate import Gate
from server.auth.identity import Identity, JwtVerifier
from server.auth.links import RoomLinks, load_secret
from server.background import BackgroundTasks
from server.http.errors import NotFound, install_error_handlers
from server.http.limits import BodyLimit
from server.http.public_url import ProxyBase, public_base, rebased_card
from server.http.ratelimit import Limiter, RateLimiter
from server.http.shared_ratelimit import SharedRateLimiter
from server.http.throttle import Throttle
from server.ops import heap
from server.ops.metrics import CONTENT_TYPE, Metrics
from server.ops.telemetry import exporting
from server.recordings.retention import expire
from server.replicas.forward import RoomForwarding
from server.replicas.forward_proof import ForwardedCheck, ForwardProof
from server.replicas.room_leases import RoomLeases
from server.replicas.room_records import RoomRecords
from server.replicas.task_leases import TaskLeases
from server.rooms.invites import DebateGuests, Invites
from server.rooms.room_setup import RoomSetup
from server.rooms.rooms import Rooms
from server.runtime import VERSION, build_runtime
from server.settings import Settings
from server.webrtc import IceServers
from store.recordings import RecordingStore
from store.shared_secrets import shared_secret

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"


def speech_engines(settings: Settings) -> tuple[SpeechToText, TextToSpeech]:
    """The configured engines: offline (PocketSphinx, eSpeak NG) unless set to ``openai``."""
    speech = settings.speech
    key, url = settings.openai_endpoint(speech.api_key, speech.base_url)
    stt: SpeechToText = (
        OpenAISpeechToText(speech.stt_model, url, key)
        if speech.stt == "openai"
        else ProcessSpeechToText()
    )
    tts: TextToSpeech = (
        OpenAITextToSpeech(speech.tts_model, url, key)
        if speech.tts == "openai"
        else EspeakTextToSpeech(settings.voice.words_per_minute)
    )
    return stt, tts


def identity_of(settings: Settings) -> Identity:
    """How callers prove who they are (authentication is off when nothing is configured)."""
    auth = settings.auth
    links = RoomLinks(load_secret(auth.token_secret, settings.data_dir))
    verifier = (
        JwtVerifier(auth.jwt_jwks_url, auth.jwt_audience, auth.jwt_issuer)
        if auth.jwt_jwks_url
        else None
    )
    return Identity(auth.keys(), links, verifier)


def create_app(
    settings: Settings | None = None,
    engines: tuple[SpeechToText, TextToSpeech] | None = None,
) -> FastAPI:
    """The app; ``engines`` replaces the configured speech engines (tests)."""
    settings = settings or Settings()
    runtime = build_runtime(settings)
    hub = StreamHub(runtime)
    metrics = Metrics()
    stt, tts = engines or speech_engines(settings)
    consent.install(settings.rooms.peer_timeout)
    recordings = RecordingStore(runtime.database)
    setup = RoomSetup(
        runtime.directory,
        runtime.deliveries,
        stt,
        tts,
        settings.voice.vad(),
        settings.voice.jitter_packets,
        settings.rooms.max_speakers,
        settings.rooms.max_listeners,
        Metronome(),
        recordings,
        settings.recordings.store_seconds,
        public_base(settings.base_url),
    )
    records = RoomRecords(runtime.database, settings.replicas.url or settings.base_url)
    rooms = Rooms(setup, runtime.floors, settings.rooms.max_rooms, records, metrics)
    lease = settings.replicas.room_lease
    leases = RoomLeases(rooms, records, lease, shared=runtime.database.shared)
    task_leases: TaskLeases | None = None
    if runtime.database.shared:  # replicas: a stopped replica's turns are ended by another
        task_leases = TaskLeases(
            runtime.database, records.replica, settings.replicas.task_lease, runtime.fail_abandoned
        )
        runtime.turn_logs.on_open.append(task_leases.opened)
        runtime.turn_logs.on_end.append(task_leases.ended)
    identity = identity_of(settings)
    limiter: Limiter = (  # replicas: one limit for the cluster, kept in the database
        SharedRateLimiter(settings.limits.rates(), runtime.database.engine)
        if runtime.database.shared
        else RateLimiter(settings.limits.rates())
    )
    background = BackgroundTasks("server")
    ice = IceServers(settings.webrtc)
    proof = ForwardProof()  # its key: the database's shared secret, once it is open
    forwarder = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None))  # to other replicas
    fetcher = httpx.AsyncClient(timeout=settings.remote_agents.timeout)  # audio, agent cards
    hearing = AudioHearing(stt, settings.voice.vad(), fetcher, settings.push.allow_private_urls)

    async def voicer(text: str, voice: str, accepted: list[str]) -> tuple[bytes, str] | None:
        if (media_type := output_type(accepted)) is None:
            return None
        return await asyncio.to_thread(spoken, tts, text, voice, media_type), media_type

    for service in runtime.directory.all():
        service.handler.hearing = hearing
        if isinstance(service.executor, DebaterExecutor):
            service.executor.voicer = voicer

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if runtime.database.shared:  # replicas prove to each other what they forward
            proof.key = await shared_secret(runtime.database, "forwarding")
        held = await leases.start()
        if held:
            log.info("holding %d room(s) on record", held)
        background.spawn(leases.run())
        if task_leases is not None:
            await task_leases.start()
            background.spawn(task_leases.run())
        warming = asyncio.create_task(asyncio.to_thread(stt.warm))  # decoders load meanwhile
        background.spawn(ice.probe())  # a TURN server that does not work is said at start
        if settings.recordings.retention_days > 0:
            background.spawn(expire(recordings, settings.recordings.retention_days))
        heap.settle()  # what start-up made lives on: later collections skip it
        try:
            yield
        finally:
            if isinstance(stt, ProcessSpeechToText):
                stt.close()  # at once, even while its workers still load
            with contextlib.suppress(RecognitionError, OSError):
                await warming  # (its thread ends once the workers are gone)
            await drain()
            await background.aclose()
            await forwarder.aclose()
            await fetcher.aclose()
            await hub.aclose()
            await runtime.aclose()

    draining = asyncio.Event()

    async def drain() -> None:
        """The server is stopping: running turns end ``failed`` ("the server is shutting
        down"), so every ``/stream`` follower gets its final status; rooms close (their
        subscribers get ``room_closed``) and stay on record, free for another replica at once.
        Runs when the stop begins (``begin_drain``), before open connections are cut."""
        if draining.is_set():
            return
        draining.set()
        stopped = await runtime.stop_turns()
        if task_leases is not None:
            await task_leases.aclose()
        await leases.aclose()
        await rooms.aclose()
        if stopped:
            log.info("stopping: %d running turn(s) ended failed", stopped)

    def begin_drain() -> None:
        if not draining.is_set():
            background.spawn(drain())

    # FastAPI's own HTTP spans and metrics only when they are exported (a no-op provider
    # counts as configured to it, and each request would open spans for nobody).
    quiet: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(
        title="Podium",
        version=VERSION,
        lifespan=lifespan,
        telemetry=None if exporting() else quiet,
    )
    app.state.begin_drain = begin_drain
    app.state.runtime = runtime
    app.state.metrics = metrics
    install_error_handlers(app)

    @app.get("/healthz", tags=["Ops"])
    async def healthz() -> JSONResponse:
        problem = await runtime.database.problem()
        body: dict[str, Any] = {
            "status": "ok" if problem is None else "unavailable",
            "version": VERSION,
            "agents": len(runtime.directory.all()),
            "database": problem or "ok",
        }
        return JSONResponse(body, status_code=200 if problem is None else 503)

    def gauges() -> dict[str, float]:
        everyone = [p for room in rooms.all() for p in room.participants]
        return {
            "agents": len(runtime.directory.all()),
            "rooms": len(rooms.all()),
            "speakers": sum(1 for p in everyone if p.role == "speaker"),
            "listeners": sum(1 for p in everyone if p.role != "speaker"),
            "running_turns": len(runtime.turn_logs.running()),
        }

    metrics.gauges(gauges)
    runtime.turn_logs.on_end.append(
        lambda turn: metrics.inc("turns", agent=turn.agent, state=turn.state or "unknown")
    )

    @app.get("/metrics", tags=["Ops"])
    async def metrics_text() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/agents", tags=["Agents"])
    async def agents() -> JSONResponse:
        base = public_base(settings.base_url)
        cards = [agent_card_to_dict(s.card) for s in runtime.directory.debaters]
        for card, service in zip(cards, runtime.directory.debaters, strict=True):
            card["podium"] = {
                "name": service.name,
                "color": service.persona.color,
                "temperament": service.persona.temperament.value,
                "card_url": base + service.path + "/.well-known/agent-card.json",
                "jsonrpc_url": base + service.path,
            }
        return JSONResponse(cards)

    @app.get("/agents/{name}", tags=["Agents"])
    async def agent(name: str) -> JSONResponse:
        """That debater's agent card (as at its ``/.well-known/agent-card.json``)."""
        for service in runtime.directory.debaters:
            if service.name == name:
                return JSONResponse(agent_card_to_dict(service.card))
        raise NotFound(f"unknown agent {name!r}")

    app.include_router(stream_router(runtime, hub))
    links = identity.links if identity.enabled else None
    invites = Invites(runtime, settings, fetcher)
    rooms.on_close.append(invites.release)
    rooms.reinvite = invites.reinvite
    if runtime.moderator is not None:
        runtime.moderator.guests = DebateGuests(invites)
    app.include_router(
        rooms_router(
            rooms,
            leases,
            forwarder,
            links,
            settings.auth.room_link_ttl,
            ice,
            proof,
            limiter,
            invites,
        )
    )
    app.include_router(recordings_router(recordings, rooms))
    app.include_router(broadcast_router(rooms))
    app.state.rooms = rooms

    if WEB_DIR.is_dir():
        app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")

        @app.get("/", include_in_schema=False)
        async def index() -> FileResponse:
            return FileResponse(WEB_DIR / "index.html")

    proxied = settings.trust_proxy_headers
    mount_agents(app, runtime.directory.all(), rebased_card(settings.base_url) if proxied else None)
    app.add_middleware(RoomForwarding, leases=leases, http=forwarder, proof=proof)
    app.add_middleware(StreamingErrorsAsEvents)
    app.add_middleware(Throttle, limiter=limiter)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Gate, identity=identity, allowed_origins=settings.cors_origins)
    app.add_middleware(ForwardedCheck, proof=proof, max_body_bytes=settings.max_body_bytes)
    if proxied:
        app.add_middleware(ProxyBase)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["authorization", "content-type", "last-event-id", "a2a-extensions"],
            expose_headers=["retry-after", "www-authenticate"],
            max_age=600,
        )
    return app
