"""Everything one server process holds: task stores, agent services, history, live turn logs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from a2a.server.cluster import DatabaseTaskEventStream, TaskEventStream
from a2a.server.context import ServerCallContext

from agents.brains.brain import Brain
from agents.brains.catalog import make_brain
from agents.debate.moderator import ModeratorExecutor
from agents.delivery import Deliveries
from agents.executor import DebaterExecutor
from agents.floor.floors import Floors
from agents.persona import Persona
from agents.recovery import fail_abandoned_task, fail_orphaned_tasks
from agents.service import AgentDirectory, AgentService, PodiumRequestHandler, build_card
from agents.settled_store import SettledTaskStore, SettledVersionedTaskStore
from agents.transcript import Transcript
from agents.turn import SHUTDOWN
from agents.turn_log import TurnLogs
from server.api.push import Push
from server.replicas.task_leases import Abandoned
from server.settings import Settings
from store.database import Database, open_database
from store.history import DatabaseHistory
from store.tasks import ClusterTaskStore, GroupCommitTaskStore

log = logging.getLogger(__name__)
VERSION = "0.1.0"
EVENT_POLL = 0.1  # seconds between a replica's looks for another replica's task events


@dataclass
class Runtime:
    database: Database
    directory: AgentDirectory
    transcript: Transcript
    turn_logs: TurnLogs
    floors: Floors
    deliveries: Deliveries
    brains: list[Brain] = field(default_factory=list)
    push: Push | None = None
    events: TaskEventStream | None = None  # replicas: every replica's task events
    moderator: ModeratorExecutor | None = None  # the root agent's executor

    def invite(self, persona: Persona, settings: Settings) -> AgentService:
        """A remote agent invited into a room: its own debater service, in-process only."""
        brain = make_brain(persona.brain)
        executor = DebaterExecutor(persona, brain, self.transcript, self.turn_logs, self.deliveries)
        service = _service(
            persona,
            f"/agents/{persona.name}",
            executor,
            self.database,
            self.events,
            self.turn_logs,
            settings,
            brain.label,
            self.push,
        )
        self.directory.invite(service)
        self.brains.append(brain)
        return service

    async def uninvite(self, name: str) -> None:
        service = self.directory.uninvite(name)
        if service is not None and isinstance(service.executor, DebaterExecutor):
            brain = service.executor.brain
            if brain in self.brains:
                self.brains.remove(brain)
            if (close := getattr(brain, "aclose", None)) is not None:
                await close()

    async def fail_abandoned(self, turn: Abandoned) -> bool:
        """Ends ``turn``, left running by a replica that stopped, ``failed``."""
        service = self.directory.get(turn.agent) or self.directory.root
        if service is None or service.versioned is None:
            return False
        return await fail_abandoned_task(service.versioned, self.events, turn.task_id, turn.owner)

    async def start(self) -> None:
        """Opens the database (``DatabaseUnavailable`` if it cannot) and repairs what a dead
        process left running."""
        await self.database.start()
        if self.database.shared:
            return  # other replicas may be running those tasks
        for service in self.directory.all():
            failed = 0
            for owner in await self.database.task_owners(f"{service.name}/"):
                failed += await fail_orphaned_tasks(service.store, owner)
            if failed:
                log.warning(
                    "%s: %d task(s) left running by the last process marked failed",
                    service.name,
                    failed,
                )

    async def stop_turns(self) -> int:
        """Ends every running turn ``failed`` ("the server is shutting down"): debates first,
        so they start no new turn. Returns how many were running."""
        running = self.turn_logs.running()
        running.sort(key=lambda log: log.agent != "moderator")
        for log_ in running:
            service = self.directory.get(log_.agent) or self.directory.root
            if service is not None and not log_.finished:
                await service.cancel(log_.task_id, SHUTDOWN, log_.owner)
        return len(running)

    async def aclose(self) -> None:
        for service in self.directory.all():
            await service.handler.aclose()
        for brain in self.brains:
            await brain.aclose()
        if self.push is not None:
            await self.push.aclose()
        await self.database.aclose()


def agent_scope(agent: str) -> Callable[[ServerCallContext], str]:
    def resolve(context: ServerCallContext) -> str:
        return f"{agent}/{context.user.user_name}"

    return resolve


def _service(
    persona: Persona,
    path: str,
    executor: DebaterExecutor | ModeratorExecutor,
    database: Database,
    events: TaskEventStream | None,
    turn_logs: TurnLogs,
    settings: Settings,
    brain_label: str,
    push: Push | None,
) -> AgentService:
    card = build_card(
        persona,
        settings.base_url + path,
        VERSION,
        brain_label,
        settings.auth.enabled,
        push is not None,
    )
    pushing: dict[str, Any] = {}
    if push is not None:
        pushing = {
            "push_config_store": push.configs,
            "push_sender": push.sender,
            "push_url_validator": push.config_validator,
        }
    # One table; each agent sees only its own tasks through the SDK's owner scoping.
    owner = agent_scope(persona.name)
    if events is None:  # one process: group commit
        tasks = GroupCommitTaskStore(database, owner_resolver=owner)
        handler = PodiumRequestHandler(
            agent_executor=executor,
            task_store=SettledTaskStore(tasks, turn_logs),
            agent_card=card,
            **pushing,
        )
        return AgentService(persona, path, card, executor, handler, tasks, turn_logs.owner)
    # Replicas: the SDK's cluster mode (versioned saves, events every replica can follow).
    versioned = ClusterTaskStore(database.engine, create_table=False, owner_resolver=owner)
    settled = SettledVersionedTaskStore(versioned, turn_logs)
    handler = PodiumRequestHandler(
        agent_executor=executor,
        task_store=settled,
        agent_card=card,
        event_stream=events,
        **pushing,
    )
    return AgentService(
        persona, path, card, executor, handler, versioned.as_task_store, turn_logs.owner, settled
    )


def build_runtime(settings: Settings) -> Runtime:
    database = open_database(settings.database)
    events = (
        DatabaseTaskEventStream(database.engine, create_table=False, poll_interval_s=EVENT_POLL)
        if database.shared
        else None
    )
    transcript = Transcript(DatabaseHistory(database))
    turn_logs = TurnLogs()
    directory = AgentDirectory()
    deliveries = Deliveries()
    default_brain = settings.default_brain()
    brains: list[Brain] = []
    push = (
        Push(
            database.engine,
            database.shared,
            settings.push.allow_private_urls,
            settings.push.attempts,
            settings.push.timeout,
            settings.push.encryption_key,
        )
        if settings.push.enabled
        else None
    )
    for persona_settings in settings.debaters:
        persona = persona_settings.persona(default_brain)
        brain = make_brain(persona.brain)
        brains.append(brain)
        executor = DebaterExecutor(persona, brain, transcript, turn_logs, deliveries)
        path = f"/agents/{persona.name}"
        directory.add(
            _service(
                persona, path, executor, database, events, turn_logs, settings, brain.label, push
            )
        )
    moderator = settings.moderator.persona(default_brain)
    floors = Floors(settings.floor)
    moderator_executor = ModeratorExecutor(
        directory,
        transcript,
        turn_logs,
        floors,
        deliveries,
        settings.debate.rounds,
        settings.debate.order,
        settings.debate.text_wpm,
    )
    directory.root = _service(
        moderator,
        "",
        moderator_executor,
        database,
        events,
        turn_logs,
        settings,
        "moderator",
        push,
    )
    return Runtime(
        database,
        directory,
        transcript,
        turn_logs,
        floors,
        deliveries,
        brains,
        push,
        events,
        moderator_executor,
    )
