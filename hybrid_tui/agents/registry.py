"""The agents hybrid-tui can drive, by name (`--agent`, `run.json`'s `agent`)."""

from __future__ import annotations

from hybrid_tui.agents.base import Agent
from hybrid_tui.agents.claude import ClaudeAgent
from hybrid_tui.agents.kimi import KimiAgent
from hybrid_tui.config import Settings
from hybrid_tui.core.errors import InputError

AGENT_NAMES = ("kimi", "claude")


def make_agent(name: str, settings: Settings) -> Agent:
    if name == "kimi":
        return KimiAgent(settings.agents.kimi)
    if name == "claude":
        return ClaudeAgent(settings.agents.claude)
    raise InputError(f"unknown agent {name!r}: choose one of {', '.join(AGENT_NAMES)}")


def agent_timeout(name: str, settings: Settings) -> float:
    return getattr(settings.agents, name).timeout


def agent_identity(name: str) -> tuple[str, str]:
    """(display name, git author) of an agent, for commits made without a live agent."""
    if name == "claude":
        return ClaudeAgent.display_name, ClaudeAgent.author
    return KimiAgent.display_name, KimiAgent.author
