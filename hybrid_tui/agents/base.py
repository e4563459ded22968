"""The worker interface: what every agent (Kimi, Claude) provides to the run machinery.

An agent is an argv builder (`command`), a stream parser (`parser`) that turns stdout lines into
`AgentEvent`s, and a `verdict` that maps how the process ended to a run status. The process
itself is run by `agents.process.AgentProcess`, the same for every agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from hybrid_tui.agents.events import AgentEvent

# Linux caps one argv element at 128 KiB (MAX_ARG_STRLEN); stay well below it.
MAX_ARGV_PROMPT_BYTES = 100_000


@dataclass(slots=True)
class Invocation:
    """How to start the agent: argv list (never a shell string), stdin bytes, extra env."""

    argv: list[str]
    cwd: Path
    stdin: bytes | None = None
    env: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ProcessOutcome:
    """How the agent process ended, as the process runner saw it."""

    returncode: int | None  # negative: killed by that signal (asyncio convention)
    timed_out: bool = False
    cancelled: bool = False
    stderr_tail: str = ""
    last_lines: list[str] = field(default_factory=list)  # last stdout lines, for the verdict


@dataclass(slots=True)
class Verdict:
    """The run's status after the agent ended: `done` or `failed`/`timed_out`/`cancelled`."""

    status: str
    failure_kind: str | None = None
    message: str = ""


class StreamParser(Protocol):
    steps: int
    session_id: str | None

    def feed(self, line: str) -> list[AgentEvent]:
        """Events for one stdout line (no trailing newline). Never raises."""
        ...

    def feed_stderr(self, text: str) -> None:
        """Look at stderr text (e.g. Kimi's `To resume this session: kimi -r <id>`)."""
        ...


class Agent(Protocol):
    name: str  # "kimi", "claude": also the branch prefix
    display_name: str  # "Kimi"
    author: str  # git author of the run's commits
    install_hint: str

    def command(self, worktree: Path, prompt: str) -> Invocation: ...

    def parser(self) -> StreamParser: ...

    def verdict(self, outcome: ProcessOutcome, parser: StreamParser) -> Verdict: ...
