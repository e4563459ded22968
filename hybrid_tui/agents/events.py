"""What an agent said, as plain objects: the `AgentEvent` union.

Parsers (`kimi.py`, `claude.py`) turn each line of an agent's stdout into zero or more events;
the run pane and the CLI show them. Plain slotted dataclasses, not pydantic models: the live
pane must take tens of thousands of them a second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Text:
    """Assistant text. `raw` marks a line that was not JSON, shown as it came."""

    text: str
    raw: bool = False
    kind: str = field(default="text", init=False)


@dataclass(slots=True)
class Thinking:
    text: str
    kind: str = field(default="thinking", init=False)


@dataclass(slots=True)
class ToolCall:
    """A tool the agent called; `key_arg` is the argument worth showing (a path, a command)."""

    id: str
    name: str
    arguments: dict[str, Any]
    key_arg: str = ""
    kind: str = field(default="tool_call", init=False)


@dataclass(slots=True)
class ToolResult:
    id: str
    text: str
    is_error: bool = False
    kind: str = field(default="tool_result", init=False)


@dataclass(slots=True)
class Notice:
    """A status line: an agent notification, a retry, a message of hybrid-tui's own."""

    text: str
    level: str = "info"  # info | warning | error
    kind: str = field(default="notice", init=False)


@dataclass(slots=True)
class Exit:
    """The agent process ended; `status`/`failure_kind` are the run's verdict."""

    returncode: int | None
    status: str
    failure_kind: str | None = None
    message: str = ""
    kind: str = field(default="exit", init=False)


AgentEvent = Text | Thinking | ToolCall | ToolResult | Notice | Exit


def event_to_dict(event: AgentEvent) -> dict[str, Any]:
    """The JSON shape of an event (`hybrid-tui run --json`): `kind` plus the fields."""
    data = asdict(event)
    return {"kind": data.pop("kind"), **data}


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_event(event: AgentEvent) -> str:
    """One plain line for an event, as the headless CLI prints it."""
    match event:
        case Text(text=text):
            return text
        case Thinking(text=text):
            return f"  (thinking) {first_line(text)}"
        case ToolCall(name=name, key_arg=key_arg):
            return f"▶ {name} {first_line(key_arg)}".rstrip()
        case ToolResult(text=text, is_error=is_error):
            return f"  {'✗' if is_error else '⎿'} {first_line(text)}"
        case Notice(text=text, level=level):
            return f"• {level}: {text}" if level != "info" else f"• {text}"
        case Exit(status=status, failure_kind=kind, message=message):
            verdict = f"{status} ({kind})" if kind else status
            return f"■ agent ended: {verdict}" + (f": {message}" if message else "")
    return str(event)
