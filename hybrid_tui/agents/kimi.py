"""The Kimi worker: argv builder, stream-json parser and exit verdict for the `kimi` CLI.

Against the legacy Python `kimi-cli` 1.x (see AGENT-FACTS.md, "Stream-json lines"):
- one assistant line per LLM request, so `steps` counts assistant lines (= quota used);
- tool results carry a `<system>...</system>` status part, `<system>ERROR: ...` on failure;
- errors come as plain non-JSON text on stdout (`Connection error.`, `Max number of steps
  reached: 1`, `Error code: 400 - ...`), so every non-JSON line is shown as raw text and the
  verdict reads the last of them; `COLUMNS` is set wide so rich does not wrap them;
- the session id is only on stderr: `To resume this session: kimi -r <id>`.
The parser never raises: whatever it does not recognise comes back as `Text(line, raw=True)`.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

from hybrid_tui.agents.base import MAX_ARGV_PROMPT_BYTES, Invocation, ProcessOutcome, Verdict
from hybrid_tui.agents.events import AgentEvent, Notice, Text, Thinking, ToolCall, ToolResult
from hybrid_tui.config import KimiSettings

INSTALL_HINT = (
    "install the legacy Kimi CLI with `pipx install --python python3.13 kimi-cli==1.50.0` "
    "(the last working release; needs Python >= 3.13; a plain `pip install kimi-cli` now "
    "gives a tombstone that only prints a notice), or the Kimi Code CLI with its installer "
    "(`curl -LsSf https://code.kimi.com/install.sh | bash`); or set agents.kimi.command"
)

_RESUME = re.compile(r"To resume this session: kimi -r (\S+)")
_MAX_STEPS = re.compile(r"Max number of steps reached", re.IGNORECASE)
_AUTH = re.compile(
    r"LLM not set|\b401\b|unauthori[sz]ed|invalid[ _-]?api[ _-]?key|authentication", re.IGNORECASE
)
_KEY_ARGS = ("path", "command", "pattern", "url")
_LEVELS = {"error": "error", "critical": "error", "warning": "warning", "warn": "warning"}


class KimiParser:
    """Kimi stream-json lines -> `AgentEvent`s; counts steps and picks up the session id."""

    def __init__(self) -> None:
        self.steps = 0
        self.session_id: str | None = None

    def feed(self, line: str) -> list[AgentEvent]:
        if not line.strip():
            return []
        try:
            return self._feed(line)
        except Exception:  # defensive: a parser bug must not take the run down
            return [Text(line, raw=True)]

    def feed_stderr(self, text: str) -> None:
        for match in _RESUME.finditer(text):
            self.session_id = match.group(1)

    def _feed(self, line: str) -> list[AgentEvent]:
        if line.lstrip()[:1] != "{":
            return [Text(line, raw=True)]
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            return [Text(line, raw=True)]
        if not isinstance(data, dict):
            return [Text(line, raw=True)]
        role = data.get("role")
        events: list[AgentEvent] | None = None
        if role == "assistant":
            events = self._assistant(data)
        elif role == "tool":
            events = _tool_result(data)
        elif role is None and ("category" in data or "type" in data) and "title" in data:
            events = [_notice(data)]
        return [Text(line, raw=True)] if events is None else events

    def _assistant(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        content = data.get("content")
        calls = data.get("tool_calls")
        if not isinstance(content, str | list | None) or not isinstance(calls, list | None):
            return None
        self.steps += 1
        events: list[AgentEvent] = []
        if isinstance(content, str):
            if content:
                events.append(Text(content))
        elif content:
            for part in content:
                if not isinstance(part, dict):
                    continue
                kind = part.get("type")
                if kind == "text" and isinstance(text := part.get("text"), str) and text:
                    events.append(Text(text))
                elif kind == "think" and isinstance(think := part.get("think"), str) and think:
                    events.append(Thinking(think))
        for call in calls or ():
            if isinstance(call, dict):
                events.append(_tool_call(call))
        if not events:
            events.append(Notice(f"step {self.steps}: no text and no tool call"))
        return events


def _tool_call(call: dict[str, Any]) -> ToolCall:
    function = call.get("function")
    function = function if isinstance(function, dict) else {}
    raw = function.get("arguments")
    if isinstance(raw, dict):
        arguments = raw
    elif isinstance(raw, str):
        try:
            parsed = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError):
            parsed = None
        arguments = parsed if isinstance(parsed, dict) else {"raw": raw}
    else:
        arguments = {}
    return ToolCall(
        id=_str(call.get("id")),
        name=_str(function.get("name")) or "?",
        arguments=arguments,
        key_arg=_key_arg(arguments),
    )


def _key_arg(arguments: dict[str, Any]) -> str:
    for key in _KEY_ARGS:
        if isinstance(value := arguments.get(key), str):
            return value
    for value in arguments.values():
        if isinstance(value, str):
            return value
    return ""


def _tool_result(data: dict[str, Any]) -> list[AgentEvent] | None:
    content = data.get("content")
    if isinstance(content, str):
        texts = [content]
    elif isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        ]
    elif content is None:
        texts = []
    else:
        return None
    is_error = any(text.lstrip().startswith("<system>ERROR") for text in texts)
    return [ToolResult(_str(data.get("tool_call_id")), "\n".join(texts), is_error=is_error)]


def _notice(data: dict[str, Any]) -> Notice:
    title, body = _str(data.get("title")), _str(data.get("body"))
    text = f"{title}: {body}" if title and body else (title or body)
    return Notice(text, level=_LEVELS.get(_str(data.get("severity")).lower(), "info"))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_json_line(line: str) -> bool:
    if line.lstrip()[:1] != "{":
        return False
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _error_text(outcome: ProcessOutcome) -> str:
    """The trailing non-JSON stdout lines (Kimi's error text), else stderr's last real line."""
    tail: list[str] = []
    for line in reversed(outcome.last_lines):
        if _is_json_line(line):
            break
        if line.strip():
            tail.append(line.strip())
        if len(tail) == 3:
            break
    if tail:
        return " ".join(reversed(tail))
    for line in reversed(outcome.stderr_tail.splitlines()):
        if line.strip() and not _RESUME.search(line):
            return line.strip()
    return ""


class KimiAgent:
    """The `kimi` CLI as a worker (legacy 1.x flavour by default)."""

    name = "kimi"
    display_name = "Kimi"
    author = "Kimi (hybrid-tui) <kimi@hybrid-tui.invalid>"
    install_hint = INSTALL_HINT

    def __init__(self, settings: KimiSettings) -> None:
        self.settings = settings

    def command(self, worktree: Path, prompt: str) -> Invocation:
        """argv for one headless run in `worktree`; a prompt too big for argv goes to stdin."""
        s = self.settings
        via_stdin = len(prompt.encode("utf-8")) > MAX_ARGV_PROMPT_BYTES
        if s.flavour == "legacy":
            argv = [
                *s.command,
                "--print",
                "--output-format",
                "stream-json",
                "--yolo",
                "--thinking" if s.thinking else "--no-thinking",
                "--max-steps-per-turn",
                str(s.max_steps),
                "-w",
                str(worktree),
                *(["--config-file", s.config_file] if s.config_file else []),
                *(["-m", s.model] if s.model else []),
                *s.extra_args,
            ]
        else:
            # Kimi Code CLI: `-p` alone is headless and auto-approves; it refuses `--yolo`.
            argv = [
                *s.command,
                "--output-format",
                "stream-json",
                *(["-m", s.model] if s.model else []),
                *s.extra_args,
            ]
        if not via_stdin:
            argv += ["-p", prompt]
        return Invocation(
            argv=argv,
            cwd=worktree,
            stdin=prompt.encode("utf-8") if via_stdin else None,
            env={"COLUMNS": "1000", **s.env},
        )

    def parser(self) -> KimiParser:
        return KimiParser()

    def verdict(self, outcome: ProcessOutcome, parser: KimiParser) -> Verdict:
        """Map how `kimi` ended (legacy print-mode exit codes) to the run's status."""
        if outcome.cancelled:
            return Verdict("cancelled", "cancelled", "cancelled; the work so far is on the branch")
        if outcome.timed_out:
            return Verdict(
                "timed_out",
                "timeout",
                f"Kimi did not finish within {self.settings.timeout:g} s: raise "
                "agents.kimi.timeout or split the spec; the work so far is on the branch",
            )
        rc = outcome.returncode
        detail = _error_text(outcome)
        if rc == 0:
            return Verdict("done", None, f"Kimi finished after {parser.steps} step(s)")
        if rc == 75:
            return Verdict(
                "failed",
                "transient",
                _join(detail, "the model provider did not answer; retry"),
            )
        if rc == 1:
            if _MAX_STEPS.search(detail):
                return Verdict(
                    "failed",
                    "max_steps",
                    _join(
                        detail,
                        "raise agents.kimi.max_steps or split the spec; "
                        "the work so far is on the branch",
                    ),
                )
            if _AUTH.search(detail) or _AUTH.search(outcome.stderr_tail[-4096:]):
                return Verdict(
                    "failed",
                    "auth",
                    _join(
                        detail,
                        "set a model and a valid API key in Kimi's config file "
                        "(agents.kimi.config_file, or config.toml in $KIMI_SHARE_DIR / ~/.kimi)",
                    ),
                )
            return Verdict(
                "failed",
                "agent_error",
                _join(detail or "Kimi exited with code 1", "see the transcript for details"),
            )
        if rc is None:
            how = "ended without an exit code"
        elif rc < 0:
            try:
                how = f"killed by signal {signal.Signals(-rc).name}"
            except ValueError:
                how = f"killed by signal {-rc}"
        else:
            how = f"exited with code {rc}"
        return Verdict("failed", "crashed", _join(f"Kimi {how}", detail))


def _join(first: str, second: str) -> str:
    return f"{first} -- {second}" if first and second else (first or second)
