"""A brain backed by any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from agents.brains.brain import BrainError, BrainRequest
from agents.debate.bidding import BidRequest

log = logging.getLogger(__name__)


def _system_prompt(request: BrainRequest) -> str:
    persona = request.persona
    lines = [
        f"You are {persona.display_name}, a debater. {persona.description}",
        f"Style: {persona.style}.",
        "Answer in two to four spoken sentences, no lists, no markdown.",
    ]
    if request.topic:
        lines.append(f"The debate topic is: {request.topic}.")
        lines.append("Answer your opponent's last point directly, then add one new argument.")
    if request.cut_in:
        lines.append(
            f"You are cutting in on {request.interrupting or 'your opponent'}, who just said: "
            f'"{request.cut_in}". Open by challenging that sentence.'
        )
    return " ".join(lines)


def bid_messages(request: BidRequest) -> list[ChatCompletionMessageParam]:
    """A cheap structured check: should this persona cut in on the sentence just heard?"""
    persona = request.persona
    return [
        {
            "role": "system",
            "content": (
                f"You are {persona.display_name}, a debater ({persona.style}), listening to "
                f"{request.speaker} on: {request.topic}. Decide whether to interrupt now. "
                'Reply with JSON only: {"interrupt": true|false, "urgency": 0.0-1.0}.'
            ),
        },
        {
            "role": "user",
            "content": f"They have spoken {request.elapsed:.0f}s. They just said: "
            f'"{request.heard}"',
        },
    ]


def chat_messages(request: BrainRequest) -> list[ChatCompletionMessageParam]:
    """The chat transcript for ``request``: others' turns as user messages, ours as assistant."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": _system_prompt(request)}
    ]
    for utterance in request.history:
        if utterance.speaker == request.persona.name:
            messages.append({"role": "assistant", "content": utterance.text})
        else:
            cut = " (interrupted)" if utterance.interrupted else ""
            messages.append(
                {"role": "user", "content": f"{utterance.speaker}{cut}: {utterance.text}"}
            )
    messages.append({"role": "user", "content": request.prompt})
    return messages


class OpenAIBrain:
    """Streams chat completions; a backend error at any point raises :class:`BrainError`."""

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.8,
        max_tokens: int = 220,
        timeout: float = 30.0,
    ) -> None:
        self.label = f"openai:{model}"
        self._model = model
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
        )

    async def stream(self, request: BrainRequest) -> AsyncIterator[str]:
        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                messages=chat_messages(request),
                temperature=self._temperature,
                max_tokens=self._max_tokens,
                stream=True,
            )
            async with response:
                async for chunk in response:
                    if not chunk.choices:
                        continue
                    delta = chunk.choices[0].delta.content
                    if delta:
                        yield delta
        except (openai.OpenAIError, httpx.HTTPError) as error:
            raise BrainError(f"{self.label} failed: {error or type(error).__name__}") from error

    async def bid(self, request: BidRequest) -> float | None:
        """One short JSON-mode completion at a sentence boundary; any failure is no bid."""
        try:
            response = await self._client.chat.completions.create(
                model=self._model,
                messages=bid_messages(request),
                temperature=0.0,
                max_tokens=24,
                response_format={"type": "json_object"},
            )
            answer = json.loads(response.choices[0].message.content or "{}")
        except (openai.OpenAIError, httpx.HTTPError, json.JSONDecodeError, IndexError) as error:
            log.debug("%s bid check failed: %s", self.label, error)
            return None
        if not isinstance(answer, dict) or not answer.get("interrupt"):
            return None
        try:
            return max(0.0, min(1.0, float(answer.get("urgency", 0.7))))
        except (TypeError, ValueError):
            return 0.7

    async def aclose(self) -> None:
        await self._client.close()
