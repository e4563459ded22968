"""What is particular to the Kimi Code CLI 2.x (`@moonshot-ai/kimi-code`, the `kimi` people
install today): its meta lines, how a failed run says why, and where its sessions are kept.

Checked against the real 2.1.0 (AGENT-FACTS.md, `tests/fixtures/agent-streams/kimicode_*`):
- stdout meta lines `{"role":"meta","type":...}`: `system.version` first, `turn.step.retrying`
  for each failed request that is tried again, `session.resume_hint` last, on success only.
  They become `Notice`s (`meta_events`), never raw JSON.
- A failed run exits 1 with `error: failed to run prompt: <code>: <message>` on stderr, then
  `See log: <path>`. `stderr_failure` reads the code and the message; `failure_of` maps them to
  a failure kind: `loop.max_steps_exceeded` max_steps; `provider.connection_error`,
  `provider.rate_limit`, `provider.overloaded`, `provider.timeout` and a 5xx
  `provider.api_error` transient; `provider.auth_error` auth; a 429 whose message says the
  quota is used up (only the `kimi` provider type says so, as `provider.api_error`) quota; any
  other error agent_error (a 400, say).
- A failed run prints no resume hint: its session is the last `session_index.jsonl` entry of
  the run's `KIMI_CODE_HOME` whose `workDir` is the worktree (`session_for_workdir`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hybrid_tui.agents.base import FailureKind, as_str
from hybrid_tui.agents.events import AgentEvent, Notice

HOME_ENV = "KIMI_CODE_HOME"
SESSION_INDEX = "session_index.jsonl"
MAX_STEPS_ENV = "KIMI_LOOP_MAX_STEPS_PER_TURN"
# Print mode waits for background tasks by default ("steer"), then runs extra model turns;
# "exit" ends the run with the turn and stops the tasks.
BACKGROUND_MODE_ENV = "KIMI_CODE_BACKGROUND_PRINT_BACKGROUND_MODE"

LOGIN_HINT = (
    "log in with `kimi login` (or set a valid API key for the model in the Kimi Code config, "
    "$KIMI_CODE_HOME/config.toml, or KIMI_MODEL_API_KEY)"
)

_FAILURE = re.compile(
    r"^error: failed to run prompt: (?:(?P<code>[a-z_]+(?:\.[a-z_]+)+): )?(?P<message>.*)$",
    re.MULTILINE,
)
_STATUS = re.compile(r"^(\d{3})\b")
# Moonshot's words for a used-up quota (the CLI's own test for it, checked in its 2.1.0 source).
_QUOTA = re.compile(
    r"quota|insufficient[ _]balance|exceeded your current|account balance|recharge|in arrears", re.IGNORECASE
)
_TRANSIENT_CODES = frozenset(
    {"provider.connection_error", "provider.rate_limit", "provider.overloaded", "provider.timeout"}
)


# -- the stream's meta lines ---------------------------------------------------------------


def retry_label(data: dict[str, Any]) -> str:
    """What went wrong with a request that is tried again, in two or three words."""
    name = as_str(data.get("error_name"))
    status = data.get("status_code")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    lowered = name.lower()
    if status == 429 or "ratelimit" in lowered:
        return "rate limited"
    if status in (503, 529) or "overload" in lowered:
        return "provider overloaded"
    if "connection" in lowered or "network" in lowered:
        return "provider unreachable"
    if "timeout" in lowered:
        return "provider timed out"
    if status is not None and status >= 500:
        return f"provider error {status}"
    if status is not None:
        return f"HTTP {status}"
    return _words(name) or "request failed"


def _words(error_name: str) -> str:
    """`APIProviderRateLimitError` -> "api provider rate limit"."""
    name = re.sub(r"Error$", "", error_name)
    return re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).lower().strip()


def retry_notice(data: dict[str, Any]) -> Notice:
    """`retrying 3/10 in 2.2 s: rate limited` for a `turn.step.retrying` line."""
    attempt, most = data.get("next_attempt"), data.get("max_attempts")
    delay = data.get("delay_ms")
    count = f" {attempt}/{most}" if isinstance(attempt, int) and isinstance(most, int) else ""
    wait = f" in {delay / 1000:.1f} s" if isinstance(delay, int | float) and delay >= 0 else ""
    return Notice(f"retrying{count}{wait}: {retry_label(data)}", level="warning")


def meta_notice(data: dict[str, Any]) -> Notice | None:
    """A meta line other than the retries and the resume hint, in words (None: nothing to
    show). `system.version` names the CLI; an unknown meta type is shown with its scalar
    fields, so a newer CLI's lines still read as words, not JSON."""
    kind = as_str(data.get("type"))
    if kind == "system.version":
        version = as_str(data.get("version"))
        return Notice(f"Kimi Code CLI {version}".strip())
    fields = [
        f"{key} {value}"
        for key, value in data.items()
        if key not in ("role", "type") and isinstance(value, str | int | float) and not isinstance(value, bool)
    ]
    text = f"{kind}: {', '.join(fields)}" if fields else kind
    return Notice(text) if text else None


def hook_result(content: Any, calls: Any) -> str | None:
    """The text of a `{"role":"assistant","content":"<Event> hook\\n\\n..."}` line, which the
    CLI prints for a hook's output (not a model step), else None."""
    if calls or not isinstance(content, str):
        return None
    head, _, body = content.partition("\n\n")
    if re.fullmatch(r"[A-Z][A-Za-z]+ hook( blocked)?", head):
        return f"{head}: {body.strip()}" if body.strip() else head
    return None


def meta_events(data: dict[str, Any]) -> list[AgentEvent]:
    notice = retry_notice(data) if data.get("type") == "turn.step.retrying" else meta_notice(data)
    return [notice] if notice else []


# -- how a run failed ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """What the CLI said on stderr: `code` (e.g. `provider.rate_limit`, "" when it gave none)
    and its message, with a provider's JSON error body reduced to its message."""

    code: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


def stderr_failure(stderr: str) -> Failure | None:
    """The last `error: failed to run prompt: ...` line of `stderr`, else None."""
    matches = list(_FAILURE.finditer(stderr))
    if not matches:
        return None
    last = matches[-1]
    return Failure(last.group("code") or "", _plain_message(last.group("message").strip()))


def _plain_message(message: str) -> str:
    """`429 {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}` ->
    `429 rate_limit_error: slow down` (a provider's JSON body is not for people)."""
    start = message.find("{")
    if start < 0:
        return message
    try:
        body = json.loads(message[start:])
    except ValueError:
        return message
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return message
    inner = as_str(error.get("message"))
    kind = as_str(error.get("type")) or as_str(error.get("code"))
    said = f"{kind}: {inner}" if kind and inner else inner or kind
    return f"{message[:start].strip()} {said}".strip() if said else message


def failure_of(failure: Failure) -> FailureKind:
    """The run's failure kind for what the CLI said."""
    code, message = failure.code, failure.message
    status_match = _STATUS.match(message)
    status = int(status_match.group(1)) if status_match else None
    if code == "loop.max_steps_exceeded":
        return "max_steps"
    if code == "provider.auth_error" or status in (401, 403):
        return "auth"
    if status == 429 and _QUOTA.search(message):
        return "quota"
    if code in _TRANSIENT_CODES or (status is not None and (status >= 500 or status == 429)):
        return "transient"
    return "agent_error"


# -- where its sessions are ----------------------------------------------------------------


def code_home(env: dict[str, str]) -> Path:
    """The `KIMI_CODE_HOME` a process with extra `env` uses: that variable, else ~/.kimi-code."""
    value = env.get(HOME_ENV) or os.environ.get(HOME_ENV)
    return Path(value).expanduser() if value else Path.home() / ".kimi-code"


def session_for_workdir(home: Path, workdir: Path) -> str | None:
    """The id of the newest session `home`'s index records for `workdir`, else None. The index
    is one JSON object a line (`sessionId`, `sessionDir`, `workDir`); broken lines are skipped."""
    try:
        lines = (home / SESSION_INDEX).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    wanted = {str(workdir), os.path.realpath(workdir)}
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        work_dir, session = entry.get("workDir"), entry.get("sessionId")
        if isinstance(work_dir, str) and isinstance(session, str) and session:
            if work_dir in wanted or os.path.realpath(work_dir) in wanted:
                return session
    return None
