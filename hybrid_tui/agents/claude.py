"""The Claude Code worker: argv builder, stream-json parser and exit verdict for `claude -p`.

Against Claude Code 2.1.x (AGENT-FACTS.md, "Stream-json lines"; recorded runs in
tests/fixtures/agent-streams/claude_*):
- `system/init` carries the session id, the cwd, the model and the permission mode;
  `system/api_retry` is a retry after a failed request (shown as a warning); `system/status`
  is shown only when it says something (a permission-mode change, a status other than
  "requesting"); `system/thinking_tokens` and other subtypes are skipped.
- `assistant` lines hold one content block each (text, thinking, tool_use) and the blocks of
  one API response share `message.id`: `steps` counts distinct ids = model requests = quota.
  An API failure comes as a synthetic assistant message (`is_api_error_message`, model
  `<synthetic>`, a top-level `error` such as `authentication_failed`): shown as an error
  notice, not as text, and not a step.
- `user` lines carry `tool_result` blocks (content a string or a list of text blocks).
- The final `result` line has `subtype`, `is_error`, `terminal_reason`, `num_turns`,
  `total_cost_usd`, `usage`, `result` (or `errors`); kept in `parser.result` and summarised as
  a notice. An API failure still says `subtype: "success"`: only `is_error` tells.
- Other line types (`stream_event`, `control_request`, ...) are skipped; a line that is not a
  JSON object, or a known type in a shape we do not understand, comes back as
  `Text(line, raw=True)`, so nothing is lost. The parser never raises.
- Paths in tool calls are shown relative to the session's cwd (the run's worktree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from hybrid_tui.agents.base import (
    MAX_ARGV_PROMPT_BYTES,
    Invocation,
    ProcessOutcome,
    StreamParser,
    Verdict,
    as_str,
    describe_exit,
    join_message,
    stopped_verdict,
)
from hybrid_tui.agents.events import (
    AgentEvent,
    Notice,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from hybrid_tui.config import ClaudeSettings

INSTALL_HINT = (
    "install Claude Code with `npm install -g @anthropic-ai/claude-code` (the native binary "
    "comes in the per-platform package it pulls in, e.g. @anthropic-ai/claude-code-linux-x64), "
    "or its official installer; or set agents.claude.command to the binary's path"
)

_KEY_ARGS = ("file_path", "notebook_path", "command", "pattern", "url", "path", "query")
_PATH_ARGS = frozenset({"file_path", "notebook_path", "path"})
_AUTH = re.compile(
    r"\b401\b|authentication_error|authentication_failed|failed to authenticate|"
    r"invalid[ _-]?api[ _-]?key|not logged in|please run /login|oauth token",
    re.IGNORECASE,
)
_CONNECTION = re.compile(
    r"connection (?:refused|error|reset)|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|"
    r"EAI_AGAIN|socket hang up|fetch failed|timed? ?out|overloaded",
    re.IGNORECASE,
)
# The `error` of a synthetic assistant message that says "try again later".
_TRANSIENT_ERRORS = frozenset({"server_error", "rate_limit", "overloaded", "connection_failed"})
_ROOT_REFUSAL = re.compile(r"cannot be used with root/sudo privileges", re.IGNORECASE)


class ClaudeParser:
    """Claude stream-json lines -> `AgentEvent`s, plus what the run record wants to know."""

    def __init__(self) -> None:
        self.steps = 0
        self.session_id: str | None = None
        self.finished = False  # Claude's process ends on its result line: nothing lingers
        self.prompt_file: str | None = None  # a long prompt goes to stdin, never to a file
        self.prompt_reads = 0
        self.cwd: str | None = None
        self.model: str | None = None
        self.result: dict[str, Any] | None = None  # the final `result` line, as it came
        self.api_error: str | None = None  # `error` of the last synthetic API-error message
        self.retries = 0  # `api_retry` lines seen
        self._message_ids: set[str] = set()
        self._last_error_text: str | None = None

    @property
    def requests(self) -> int:
        """Model requests: the distinct message ids (`steps`)."""
        return self.steps

    # -- what the result line said -----------------------------------------------------------

    @property
    def turns(self) -> int | None:
        return _int(self.result.get("num_turns")) if self.result else None

    @property
    def cost_usd(self) -> float | None:
        value = self.result.get("total_cost_usd") if self.result else None
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def input_tokens(self) -> int | None:
        return _usage(self.result, "input_tokens")

    @property
    def output_tokens(self) -> int | None:
        return _usage(self.result, "output_tokens")

    @property
    def tokens(self) -> int | None:
        """Every token of the run: input (fresh, cache writes, cache reads) plus output."""
        if not self.result or not isinstance(self.result.get("usage"), dict):
            return None
        keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                "output_tokens")  # fmt: skip
        return sum(_usage(self.result, key) or 0 for key in keys)

    @property
    def result_text(self) -> str:
        """The result line's text, or its `errors` joined (error_max_turns has no `result`)."""
        if not self.result:
            return ""
        if isinstance(text := self.result.get("result"), str) and text.strip():
            return text.strip()
        errors = self.result.get("errors")
        if isinstance(errors, list):
            return "; ".join(str(e) for e in errors if e)
        return ""

    def stats(self) -> dict[str, Any]:
        """What the run record keeps of the result line (None where it was not reported)."""
        return {
            "turns": self.turns,
            "cost_usd": self.cost_usd,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "tokens": self.tokens,
        }

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, line: str) -> list[AgentEvent]:
        if not line.strip():
            return []
        try:
            return self._feed(line)
        except Exception:  # defensive: a parser bug must not take the run down
            return [Text(line, raw=True)]

    def feed_stderr(self, text: str) -> None:
        """Claude's session id is on stdout; stderr holds only error text (for the verdict)."""

    def _feed(self, line: str) -> list[AgentEvent]:
        if line.lstrip()[:1] != "{":
            return [Text(line, raw=True)]
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            return [Text(line, raw=True)]
        if not isinstance(data, dict):
            return [Text(line, raw=True)]
        if self.session_id is None and isinstance(sid := data.get("session_id"), str):
            self.session_id = sid
        kind = data.get("type")
        if kind == "assistant":
            events = self._assistant(data)
        elif kind == "user":
            events = _user(data)
        elif kind == "system":
            events = self._system(data)
        elif kind == "result":
            events = self._result(data)
        else:
            return []  # stream_event, control_request, and whatever later versions add
        return [Text(line, raw=True)] if events is None else events

    def _system(self, data: dict[str, Any]) -> list[AgentEvent]:
        subtype = data.get("subtype")
        if subtype == "init":
            if isinstance(sid := data.get("session_id"), str):
                self.session_id = sid
            self.cwd = as_str(data.get("cwd")) or self.cwd
            self.model = as_str(data.get("model")) or None
            mode = as_str(data.get("permissionMode"))
            return [Notice(f"model {self.model or '?'}, permission mode {mode or '?'}")]
        if subtype == "api_retry":
            self.retries += 1
            attempt, limit = data.get("attempt"), data.get("max_retries")
            status, error = data.get("error_status"), as_str(data.get("error"))
            why = " ".join(
                [*([f"HTTP {status}"] if isinstance(status, int) else []),
                 *([error] if error and error != "unknown" else [])]
            )  # fmt: skip
            delay = data.get("retry_delay_ms")
            after = f" in {delay / 1000:.1f} s" if isinstance(delay, int | float) else ""
            count = f"attempt {attempt} of {limit}" if limit is not None else f"attempt {attempt}"
            return [Notice(f"retrying: {count}{after}" + (f" ({why})" if why else ""), "warning")]
        if subtype == "status":
            parts = []
            if isinstance(new_mode := data.get("permissionMode"), str):
                parts.append(f"permission mode now {new_mode}")
            if isinstance(status := data.get("status"), str) and status != "requesting":
                parts.append(status)
            return [Notice(", ".join(parts))] if parts else []
        return []  # thinking_tokens, hook and other informational subtypes

    def _assistant(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        message = data.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            return None
        content = message["content"]
        synthetic = bool(data.get("is_api_error_message")) or message.get("model") == "<synthetic>"
        if synthetic:
            if isinstance(error := data.get("error"), str):
                self.api_error = error
            text = "\n".join(
                b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
            ).strip()
            self._last_error_text = text
            return [Notice(text or "the API request failed", "error")]
        if isinstance(mid := message.get("id"), str) and mid not in self._message_ids:
            self._message_ids.add(mid)
            self.steps += 1
        events: list[AgentEvent] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and isinstance(said := block.get("text"), str) and said:
                events.append(Text(said))
            elif kind == "thinking" and isinstance(think := block.get("thinking"), str) and think:
                events.append(Thinking(think))
            elif kind == "tool_use":
                events.append(self._tool_call(block))
        return events

    def _tool_call(self, block: dict[str, Any]) -> ToolCall:
        arguments = block.get("input")
        arguments = arguments if isinstance(arguments, dict) else {}
        return ToolCall(
            id=as_str(block.get("id")),
            name=as_str(block.get("name")) or "?",
            arguments=arguments,
            key_arg=self._key_arg(arguments),
        )

    def _key_arg(self, arguments: dict[str, Any]) -> str:
        for key in _KEY_ARGS:
            if isinstance(value := arguments.get(key), str) and value:
                return self._relative(value) if key in _PATH_ARGS else value
        for value in arguments.values():
            if isinstance(value, str) and value:
                return value
        return ""

    def _relative(self, path: str) -> str:
        """`path` relative to the session's cwd when it lies inside it, else as it came."""
        if not self.cwd or not path.startswith("/"):
            return path
        cwd = self.cwd.rstrip("/")
        if path == cwd:
            return "."
        return path[len(cwd) + 1 :] if path.startswith(cwd + "/") else path

    def _result(self, data: dict[str, Any]) -> list[AgentEvent]:
        self.result = data
        parts = []
        if (turns := self.turns) is not None:
            parts.append(f"{turns} turn{'s' if turns != 1 else ''}")
        if (tokens := self.tokens) is not None:
            parts.append(f"{tokens:,} tokens")
        if (cost := self.cost_usd) is not None:
            parts.append(f"${cost:.4f}")
        events: list[AgentEvent] = []
        if parts:
            events.append(Notice(", ".join(parts)))
        if data.get("is_error") is True:
            text = self.result_text or f"Claude ended with {as_str(data.get('subtype')) or 'an error'}"
            if text != self._last_error_text:
                events.append(Notice(text, "error"))
        return events


def _user(data: dict[str, Any]) -> list[AgentEvent] | None:
    message = data.get("message")
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    if isinstance(content, str):
        return []  # a replayed prompt
    if not isinstance(content, list):
        return None
    events: list[AgentEvent] = []
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "tool_result":
            continue
        result = block.get("content")
        if isinstance(result, str):
            text = result
        elif isinstance(result, list):
            text = "\n".join(
                part["text"]
                for part in result
                if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
        else:
            text = ""
        events.append(
            ToolResult(as_str(block.get("tool_use_id")), text, is_error=block.get("is_error") is True)
        )
    return events


def _usage(result: dict[str, Any] | None, key: str) -> int | None:
    usage = result.get("usage") if result else None
    return _int(usage.get(key)) if isinstance(usage, dict) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None



def _stderr_line(outcome: ProcessOutcome) -> str:
    for line in reversed(outcome.stderr_tail.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _raw_tail(outcome: ProcessOutcome) -> str:
    """The last non-JSON stdout line (text a crash printed), if any."""
    for line in reversed(outcome.last_lines):
        if line.strip() and line.lstrip()[:1] != "{":
            return line.strip()
    return ""


class ClaudeAgent:
    """The `claude` CLI (Claude Code) as a worker: `claude -p` with stream-json output."""

    name = "claude"
    display_name = "Claude"
    author = "Claude (hybrid-tui) <claude@hybrid-tui.invalid>"
    install_hint = INSTALL_HINT
    flavour = ""  # one kind of `claude`
    linger_grace = 10.0  # never used: the parser never says `finished` before the process ends

    def __init__(self, settings: ClaudeSettings) -> None:
        self.settings = settings

    @property
    def step_budget(self) -> int | None:
        return self.settings.max_turns

    def profile(self) -> str | None:
        """Claude's data is its config dir, the same for every run: nothing to record."""
        return None

    def command(self, worktree: Path, prompt: str, *, resume: str | None = None) -> Invocation:
        """argv for one headless run with cwd `worktree`; a prompt too big for argv goes to
        stdin (`claude -p` without a prompt argument reads it from stdin). `resume`: a session
        id to continue (`--resume ID`; Claude finds it by the same cwd)."""
        s = self.settings
        via_stdin = len(prompt.encode("utf-8")) > MAX_ARGV_PROMPT_BYTES
        argv = [
            *s.command,
            "-p",
            *([] if via_stdin else [prompt]),
            "--output-format",
            "stream-json",
            "--verbose",
            "--permission-mode",
            s.permission_mode,
            *(["--model", s.model] if s.model else []),
            *(["--max-turns", str(s.max_turns)] if s.max_turns else []),
            *(["--resume", resume] if resume else []),
            *s.extra_args,
        ]
        return Invocation(
            argv=argv,
            cwd=worktree,
            stdin=prompt.encode("utf-8") if via_stdin else None,
            env=dict(s.env),
        )

    def parser(self) -> ClaudeParser:
        return ClaudeParser()

    def verdict(self, outcome: ProcessOutcome, parser: StreamParser) -> Verdict:
        """Map how `claude` ended (its result line first, then its exit code) to a status."""
        assert isinstance(parser, ClaudeParser), "a Claude run is read by ClaudeParser"
        stopped = stopped_verdict(outcome, "Claude", "agents.claude.timeout", self.settings.timeout)
        if stopped:
            return stopped
        rc = outcome.returncode
        result = parser.result
        if result is None:
            return self._without_result(outcome, parser)
        text = parser.result_text
        subtype = as_str(result.get("subtype"))
        # Success needs all of it said: is_error false (not missing), subtype success, rc 0.
        clean = result.get("is_error") is False and result.get("terminal_reason") != "api_error"
        if clean and subtype == "success" and rc == 0:
            turns = parser.turns if parser.turns is not None else parser.steps
            cost = f", ${parser.cost_usd:.4f}" if parser.cost_usd is not None else ""
            return Verdict("done", None, f"Claude finished after {turns} turn(s){cost}")
        if subtype == "error_max_turns" or result.get("terminal_reason") == "max_turns":
            return Verdict(
                "failed",
                "max_steps",
                join_message(
                    text or "max turns reached",
                    "raise agents.claude.max_turns or split the spec; "
                    "the work so far is on the branch",
                ),
            )
        if not clean or subtype != "success":
            return self._api_failure(text or f"Claude ended with {subtype or 'an error'}", parser)
        # The result says success but the process did not exit 0.
        return Verdict(
            "failed",
            "agent_error",
            join_message(f"Claude reported success but exited with code {rc}", _stderr_line(outcome)),
        )

    def _api_failure(self, text: str, parser: ClaudeParser) -> Verdict:
        result = parser.result or {}
        status = _int(result.get("api_error_status"))
        kind = as_str(result.get("api_error_type"))
        if (
            status == 401
            or kind == "authentication_error"
            or parser.api_error == "authentication_failed"
            or _AUTH.search(text)
        ):
            return Verdict(
                "failed",
                "auth",
                join_message(
                    text,
                    "set ANTHROPIC_API_KEY (agents.claude.env) or log in with `claude` "
                    "and /login, then retry",
                ),
            )
        if (
            (status is not None and (status >= 500 or status in (408, 429)))
            or kind in ("api_error", "overloaded_error", "rate_limit_error")
            or parser.api_error in _TRANSIENT_ERRORS
            or as_str(result.get("api_error")) == "connection_failed"
            or _CONNECTION.search(text)
        ):
            return Verdict(
                "failed", "transient", join_message(text, "the Anthropic API did not answer; retry")
            )
        return Verdict("failed", "agent_error", join_message(text, "see the transcript for details"))

    def _without_result(self, outcome: ProcessOutcome, parser: ClaudeParser) -> Verdict:
        rc = outcome.returncode
        detail = _stderr_line(outcome) or _raw_tail(outcome)
        if rc == 0:
            return Verdict(
                "failed",
                "agent_error",
                join_message("Claude exited without a result line", detail or "see the transcript"),
            )
        if rc is None or rc < 0:
            how = describe_exit(rc)
            return Verdict("failed", "crashed", join_message(f"Claude {how}", detail))
        if _ROOT_REFUSAL.search(outcome.stderr_tail):
            return Verdict(
                "failed",
                "agent_error",
                join_message(
                    detail,
                    "as root Claude Code refuses bypassPermissions: set "
                    "agents.claude.permission_mode = \"acceptEdits\", or IS_SANDBOX=1 in "
                    "agents.claude.env inside a sandbox",
                ),
            )
        if _AUTH.search(outcome.stderr_tail[-4096:]) or (
            parser.api_error == "authentication_failed"
        ):
            return Verdict(
                "failed", "auth", join_message(detail, "set ANTHROPIC_API_KEY (agents.claude.env)")
            )
        if parser.retries:
            return Verdict(
                "failed",
                "transient",
                join_message(
                    f"Claude exited with code {rc} while retrying a failed API request "
                    f"({parser.retries} retr{'y' if parser.retries == 1 else 'ies'})",
                    "the Anthropic API did not answer; retry (CLAUDE_CODE_MAX_RETRIES in "
                    "agents.claude.env bounds the retries)",
                ),
            )
        if rc == 1:
            return Verdict(
                "failed",
                "agent_error",
                join_message(detail or "Claude exited with code 1", "see the transcript for details"),
            )
        return Verdict("failed", "crashed", join_message(f"Claude exited with code {rc}", detail))

