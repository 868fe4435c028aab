"""Builds the brain a persona's :class:`BrainSpec` names."""

from __future__ import annotations

from agents.brains.brain import Brain
from agents.brains.openai_brain import OpenAIBrain
from agents.brains.remote_brain import RemoteA2ABrain
from agents.brains.scripted_brain import ScriptedBrain
from agents.persona import BrainSpec


def make_brain(spec: BrainSpec) -> Brain:
    match spec.kind:
        case "scripted":
            return ScriptedBrain(seed=spec.seed, words_per_second=spec.words_per_second)
        case "openai":
            return OpenAIBrain(
                model=spec.model,
                base_url=spec.base_url,
                api_key=spec.api_key,
                temperature=spec.temperature,
                max_tokens=spec.max_tokens,
            )
        case "a2a":
            if not spec.url:
                raise ValueError("a brain of kind 'a2a' needs a url")
            return RemoteA2ABrain(spec.url)
    raise ValueError(f"unknown brain kind {spec.kind!r}")
