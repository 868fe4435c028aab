"""Mounts each agent service's A2A surfaces (cards, JSON-RPC, REST; 1.0 and 0.3) on the app.

Debaters live under ``/agents/{name}``; the root agent (moderator) at ``/``. Root routes are
added last so that Podium's own paths win over the REST binding's ``/tasks`` family.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from a2a.server.routes import (
    add_a2a_routes_to_fastapi,
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.types import a2a_pb2 as pb
from fastapi import FastAPI
from starlette.routing import BaseRoute, Route

from agents.service import AgentService

CardModifier = Callable[[pb.AgentCard], Awaitable[pb.AgentCard]]
CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")


def _routes(
    service: AgentService, modifier: CardModifier | None
) -> tuple[list[BaseRoute], list[BaseRoute], list[BaseRoute]]:
    cards: list[BaseRoute] = []
    for card_path in CARD_PATHS:
        cards += create_agent_card_routes(
            service.card, card_url=service.path + card_path, card_modifier=modifier
        )
    jsonrpc: list[BaseRoute] = list(
        create_jsonrpc_routes(service.handler, rpc_url=service.path or "/", enable_v0_3_compat=True)
    )
    # The REST binding also mounts a catch-all "/{tenant}" copy; Podium has no tenants.
    rest: list[BaseRoute] = [
        route
        for route in create_rest_routes(
            service.handler, enable_v0_3_compat=True, path_prefix=service.path
        )
        if isinstance(route, Route)
    ]
    return cards, jsonrpc, rest


def mount_agents(
    app: FastAPI, services: list[AgentService], modifier: CardModifier | None = None
) -> None:
    """Adds the routes of ``services`` (debaters first, the root agent last); ``modifier``
    adapts each card to the request (the URLs a proxy's clients reach)."""
    for service in sorted(services, key=lambda s: s.path == ""):
        cards, jsonrpc, rest = _routes(service, modifier)
        add_a2a_routes_to_fastapi(
            app, agent_card_routes=cards, jsonrpc_routes=jsonrpc, rest_routes=rest
        )
