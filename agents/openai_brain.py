"""A brain backed by any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import openai
from openai import AsyncOpenAI

from agents.brain import BrainError, BrainRequest


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
    return " ".join(lines)


def chat_messages(request: BrainRequest) -> list[dict[str, str]]:
    """The chat transcript for ``request``: others' turns as user messages, ours as assistant."""
    messages = [{"role": "system", "content": _system_prompt(request)}]
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
                messages=chat_messages(request),  # type: ignore[arg-type]
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

    async def aclose(self) -> None:
        await self._client.close()
