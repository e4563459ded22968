"""The worker interface: what every agent (Kimi, Claude) provides to the run machinery.

An agent is an argv builder (`command`), a stream parser (`parser`) that turns stdout lines into
`AgentEvent`s, and a `verdict` that maps how the process ended to a run status. The process
itself is run by `agents.process.AgentProcess`, the same for every agent.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

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
    prompt_file: Path | None = None  # a prompt too long for argv, written for the agent to read


@dataclass(slots=True)
class ProcessOutcome:
    """How the agent process ended, as the process runner saw it."""

    returncode: int | None  # negative: killed by that signal (asyncio convention)
    timed_out: bool = False
    cancelled: bool = False
    stderr_tail: str = ""
    last_lines: list[str] = field(default_factory=list)  # last stdout lines, for the verdict
    lingered: bool = False  # still alive `linger_grace` s after it said it finished: stopped
    invocation: Invocation | None = None  # how it was started


# Why a run failed, as the run record, `--json` and the README name it. `agent_error`: an error
# the agent reported itself (an HTTP 4xx from its provider, say); `crashed`: a death by signal or
# an exit code the agent does not document; `sandbox`: the sandbox the run requires is missing.
FailureKind = Literal[
    "agent_missing", "transient", "quota", "max_steps", "auth", "agent_error", "crashed", "timeout", "cancelled",
    "sandbox",
]
VerdictStatus = Literal["done", "failed", "timed_out", "cancelled"]


@dataclass(slots=True)
class Verdict:
    """The run's status after the agent ended: `done` or `failed`/`timed_out`/`cancelled`."""

    status: VerdictStatus
    failure_kind: FailureKind | None = None
    message: str = ""


class StreamParser(Protocol):
    """Turns the agent's stdout into events and keeps what the run record wants to know."""

    steps: int  # model answers seen
    session_id: str | None  # the session a revision resumes
    finished: bool  # the agent said its run is over: a process still alive `linger_grace` s later is stopped
    prompt_file: str | None  # a prompt passed as a file (`Invocation.prompt_file`): its Reads are counted
    prompt_reads: int  # ... in here

    @property
    def requests(self) -> int:
        """Model requests made, against the quota (steps, plus retries where the agent says)."""
        ...

    def stats(self) -> dict[str, Any]:
        """What the agent reported of the run: `turns`, `tokens`, `cost_usd` (None: not said)."""
        ...

    def feed(self, line: str) -> list[AgentEvent]:
        """Events for one stdout line (no trailing newline). Never raises."""
        ...

    def feed_stderr(self, text: str) -> None:
        """Look at stderr text (e.g. Kimi's `To resume this session: kimi -r <id>`)."""
        ...


class Agent(Protocol):
    """Everything dispatch needs of a worker; a revision is the same path with `resume=`."""

    name: str  # "kimi", "claude": also the branch prefix
    display_name: str  # "Kimi"
    author: str  # git author of the run's commits
    install_hint: str

    @property
    def flavour(self) -> str:
        """Which CLI answers (Kimi: "legacy" or "code", known once `command` was built); ""
        for an agent with one kind."""
        ...

    @property
    def linger_grace(self) -> float:
        """Seconds the process may stay after the parser saw it finish before it is stopped."""
        ...

    @property
    def step_budget(self) -> int | None:
        """The most steps (Kimi) or turns (Claude) one attempt may take; None: no limit."""
        ...

    def profile(self) -> str | None:
        """The data the run's sessions live in (a revise resumes from the same), None: default."""
        ...

    def command(self, worktree: Path, prompt: str, *, resume: str | None = None) -> Invocation:
        """How to start one attempt in `worktree`; `resume`: the session to continue."""
        ...

    def parser(self) -> StreamParser: ...

    def verdict(self, outcome: ProcessOutcome, parser: StreamParser) -> Verdict: ...


# -- shared pieces of the agents' verdicts ----------------------------------------------------


def join_message(first: str, second: str) -> str:
    """`first -- second`, or whichever of the two is not empty."""
    return f"{first} -- {second}" if first and second else (first or second)


def as_str(value: Any) -> str:
    """`value` when it is a string, else "" (for JSON fields of unknown type)."""
    return value if isinstance(value, str) else ""


def describe_exit(returncode: int | None) -> str:
    """How a process ended, in words: "killed by signal SIGKILL", "exited with code 3"."""
    if returncode is None:
        return "ended without an exit code"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def stopped_verdict(outcome: ProcessOutcome, display_name: str, setting: str, timeout: float) -> Verdict | None:
    """The verdict for a run hybrid-tui stopped itself (cancel, timeout), else None."""
    if outcome.cancelled:
        return Verdict("cancelled", "cancelled", "cancelled; the work so far is on the branch")
    if outcome.timed_out:
        return Verdict(
            "timed_out",
            "timeout",
            f"{display_name} did not finish within {timeout:g} s: raise {setting} (or pass --timeout) or split the "
            "spec; the work so far is on the branch",
        )
    return None
