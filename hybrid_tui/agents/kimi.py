"""The Kimi worker: argv builder, stream-json parser and exit verdict for the `kimi` CLI.

Two flavours of `kimi` exist (AGENT-FACTS.md); `flavour = "auto"` asks the installed binary
which one it is (`detect_flavour`):
- **code**, the Kimi Code CLI 2.x (what people install today, the documented default):
  `kimi -p PROMPT --output-format stream-json [-m M] [-S SESSION]` with cwd = the worktree (no
  work-dir flag; `--yolo`/`--auto`/`--plan` are refused with `-p`, which runs in auto mode; its
  `-w` would create another git worktree). The step budget reaches it as
  `KIMI_LOOP_MAX_STEPS_PER_TURN` (print mode is otherwise unlimited), background tasks end with
  the turn (`KIMI_CODE_BACKGROUND_PRINT_BACKGROUND_MODE=exit`), and a profile is a
  `KIMI_CODE_HOME` directory (`agents.kimi.home`). It never reads stdin, so a prompt too big for
  one argv element is written to `<worktree>.prompt/prompt.md` beside the worktree, that
  directory is added with `--add-dir`, and `-p` asks the agent to Read all of it (Read pages
  through 100,000 characters a call; those Reads are counted as `prompt_reads`). Its meta
  lines, failures and session index are read by `kimi_code.py`. A process still alive
  `linger_grace` seconds after its resume hint (an MCP server, a stuck handle) is stopped and
  the run counts as finished.
- **legacy**, the Python kimi-cli 1.x (1.50.0, archived): `kimi --print --output-format
  stream-json --yolo --thinking --max-steps-per-turn N -w WORKTREE [--config-file F] [-m M]
  -p PROMPT`; a prompt too big for argv goes to stdin (print mode reads it when `-p` is absent).
  One assistant line per LLM request; tool results carry a `<system>...</system>` status part,
  `<system>ERROR: ...` on failure; errors come as plain non-JSON text on stdout (`Connection
  error.`, `Max number of steps reached: 1`), so every non-JSON line is shown as raw text and
  the verdict reads the last of them (`COLUMNS` is set wide so rich does not wrap them); the
  session id is on stderr: `To resume this session: kimi -r <id>`. It prints no retries.

Steps and requests: a step is one assistant line (one model answer); `requests` also counts
each failed request (a Kimi Code retry line, and the request a provider error ended the run
on): the quota is spent by requests. The parser never raises: whatever it does not recognise
comes back as `Text(line, raw=True)`, and no meta line is ever shown as JSON.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from hybrid_tui.agents import kimi_code
from hybrid_tui.agents.base import (
    MAX_ARGV_PROMPT_BYTES,
    FailureKind,
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
from hybrid_tui.config import KimiSettings
from hybrid_tui.core.private_files import private_dir, write_private

INSTALL_HINT = (
    "install the Kimi Code CLI with `npm install -g @moonshot-ai/kimi-code` (needs Node >= "
    "22.19) or its official installer; or the legacy Kimi CLI with "
    "`pipx install --python python3.13 kimi-cli==1.50.0` (the last working release; needs "
    "Python >= 3.13; a plain `pip install kimi-cli` gives a tombstone that only prints a "
    "notice); or set agents.kimi.command"
)

_RESUME = re.compile(r"To resume this session: kimi -r (\S+)")
_MAX_STEPS = re.compile(r"Max number of steps reached", re.IGNORECASE)
_AUTH = re.compile(
    r"LLM not set|\b401\b|unauthori[sz]ed|invalid[ _-]?api[ _-]?key|authentication", re.IGNORECASE
)
_KEY_ARGS = ("path", "command", "pattern", "url")
_LEVELS = {"error": "error", "critical": "error", "warning": "warning", "warn": "warning"}


class KimiParser:
    """Kimi stream-json lines -> `AgentEvent`s; counts steps, retries and the Reads of a prompt
    file, and picks up the session id. `finished` turns true at Kimi Code's resume hint, the
    last line of a run that succeeded."""

    def __init__(self, prompt_file: Path | None = None) -> None:
        self.steps = 0
        self.retries = 0  # failed requests that were tried again (Kimi Code's retry lines)
        self.failed_requests = 0  # the request a provider error ended the run on (verdict)
        self.session_id: str | None = None
        self.finished = False
        self.prompt_file = str(prompt_file) if prompt_file else None
        self.prompt_reads = 0

    @property
    def requests(self) -> int:
        """Model requests made, against the quota: every step, every retried failure and the
        failure that ended the run."""
        return self.steps + self.retries + self.failed_requests

    def stats(self) -> dict[str, Any]:
        """Kimi's stream reports no turns, tokens or cost."""
        return {}

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
        elif role == "meta" and data.get("type") == "session.resume_hint":
            if isinstance(session := data.get("session_id"), str) and session:
                self.session_id = session
            self.finished = True
            events = []
        elif role == "meta":
            if data.get("type") == "turn.step.retrying":
                self.retries += 1
            events = kimi_code.meta_events(data)
        elif role is None and data.get("type") == "error" and _error_message(data):
            events = [Notice(_error_message(data), level="error")]
        return [Text(line, raw=True)] if events is None else events

    def _assistant(self, data: dict[str, Any]) -> list[AgentEvent] | None:
        content = data.get("content")
        calls = data.get("tool_calls")
        if not isinstance(content, str | list | None) or not isinstance(calls, list | None):
            return None
        if (hook := kimi_code.hook_result(content, calls)) is not None:
            return [Notice(hook)]  # a hook's output, not a model step
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
                events.append(tool_call := _tool_call(call))
                if self.prompt_file and tool_call.name in ("Read", "ReadFile") and tool_call.key_arg == self.prompt_file:
                    self.prompt_reads += 1
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
        id=as_str(call.get("id")),
        name=as_str(function.get("name")) or "?",
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
    return [ToolResult(as_str(data.get("tool_call_id")), "\n".join(texts), is_error=is_error)]


def _notice(data: dict[str, Any]) -> Notice:
    title, body = as_str(data.get("title")), as_str(data.get("body"))
    text = f"{title}: {body}" if title and body else (title or body)
    return Notice(text, level=_LEVELS.get(as_str(data.get("severity")).lower(), "info"))



def _error_message(data: dict[str, Any]) -> str:
    """`code: message` of a Kimi Code CLI `{"type":"error",...}` line."""
    message, code = as_str(data.get("message")), as_str(data.get("code"))
    return f"{code}: {message}" if code and message else message


def _json_object(line: str) -> dict[str, Any] | None:
    if line.lstrip()[:1] != "{":
        return None
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _error_text(outcome: ProcessOutcome) -> str:
    """The trailing non-JSON stdout lines (Kimi's error text) or a trailing JSON error line,
    else stderr's last real line."""
    tail: list[str] = []
    for line in reversed(outcome.last_lines):
        data = _json_object(line)
        if data is not None:
            if not tail and data.get("type") == "error" and _error_message(data):
                return _error_message(data)
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


# -- flavour detection -------------------------------------------------------------------------

DETECT_TIMEOUT = 10.0  # seconds per probe; kimi-cli 1.50.0 answers --version in ~0.1 s
# Click's version line, which kimi-cli 1.x prints: "kimi, version 1.50.0".
_LEGACY_VERSION = re.compile(r"^kimi, version 1\.\d+", re.MULTILINE)
_PRINT_FLAG = re.compile(r"(?<![\w-])--print(?![\w-])")

_detected: dict[tuple[Any, ...], str] = {}
_detect_lock = threading.Lock()


def _probe(argv: list[str], env: dict[str, str], timeout: float) -> str | None:
    """stdout + stderr of a short command, or None when it cannot run, times out or fails.
    It runs in its own session so a timeout kills whatever it started too (a grandchild holding
    the pipes would otherwise keep us waiting)."""
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError:
        return None
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        return None
    if proc.returncode != 0:
        return None
    return out.decode("utf-8", "replace")


def _classify(command: list[str], env: dict[str, str], timeout: float) -> str | None:
    """"legacy" or "code" from what the binary says about itself; None when it says nothing."""
    version = _probe([*command, "--version"], env, timeout)
    if version is not None and _LEGACY_VERSION.search(version):
        return "legacy"
    help_text = _probe([*command, "--help"], env, timeout)
    if help_text is None:
        return None
    return "legacy" if _PRINT_FLAG.search(help_text) else "code"


def _cache_key(command: list[str], env: dict[str, str]) -> tuple[Any, ...] | None:
    path = shutil.which(command[0], path=env.get("PATH", os.defpath))
    if path is None:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return (os.path.realpath(path), mtime, *command[1:])


def detect_flavour(
    command: list[str], *, env: dict[str, str] | None = None, timeout: float = DETECT_TIMEOUT
) -> str:
    """Which `kimi` `command` is: "legacy" (kimi-cli 1.x) or "code" (Kimi Code CLI).

    Rule: `kimi --version` printing click's `kimi, version 1.x` is legacy; otherwise
    `kimi --help` decides: only the legacy CLI has a `--print` flag (the Kimi Code CLI's `-p`
    runs headless by itself). When neither probe answers (not installed, hangs, exits non-zero)
    the answer is "legacy", the default, and it is not cached, so installing the CLI later is
    noticed; the run itself then reports the real problem. Answers are cached per resolved
    binary (path and mtime) and arguments. Runs subprocesses: never call it on a UI thread.
    """
    return _detect(command, env or {}, timeout) or "legacy"


def _detect(command: list[str], env: dict[str, str], timeout: float) -> str | None:
    full_env = {**os.environ, **env, "COLUMNS": "1000"}  # rich must not cut `--print` short
    key = _cache_key(command, full_env)
    if key is None:
        return None
    with _detect_lock:
        if key in _detected:
            return _detected[key]
    flavour = _classify(command, full_env, timeout)
    if flavour is not None:
        with _detect_lock:
            _detected[key] = flavour
    return flavour


def clear_flavour_cache() -> None:
    with _detect_lock:
        _detected.clear()


# -- the agent ---------------------------------------------------------------------------------

CODE_PROMPT_FILE = "prompt.md"


def code_prompt_dir(worktree: Path) -> Path:
    """Where a too-long prompt for the Kimi Code CLI is written: beside the worktree, so it is
    neither in the user's checkout nor committed on the run's branch."""
    return worktree.with_name(worktree.name + ".prompt")


class KimiAgent:
    """The `kimi` CLI as a worker; `flavour` "auto" asks the binary once, on first use."""

    name = "kimi"
    display_name = "Kimi"
    author = "Kimi (hybrid-tui) <kimi@hybrid-tui.invalid>"
    install_hint = INSTALL_HINT

    def __init__(self, settings: KimiSettings) -> None:
        self.settings = settings
        self._flavour: str | None = None if settings.flavour == "auto" else settings.flavour

    @property
    def flavour(self) -> str:
        """"legacy" or "code". With "auto", the first call runs `detect_flavour` (subprocesses:
        call it from a worker); an undetermined answer is "legacy" and is asked again later."""
        if self._flavour is None:
            found = _detect(self.settings.command, self.settings.env, DETECT_TIMEOUT)
            if found is None:
                return "legacy"
            self._flavour = found
        return self._flavour

    @property
    def linger_grace(self) -> float:
        """Seconds the process may stay after its resume hint before it is stopped."""
        return self.settings.linger_grace

    @property
    def step_budget(self) -> int | None:
        return self.settings.max_steps

    def profile(self) -> str | None:
        """The profile a run records (a revise resumes with the same one): the Kimi Code CLI's
        `KIMI_CODE_HOME`, resolved; the legacy CLI's config file (None: its default)."""
        if self.flavour == "code":
            return str(kimi_code.code_home(self._code_env()))
        return self.settings.config_file

    def _code_env(self) -> dict[str, str]:
        s = self.settings
        env = {
            "COLUMNS": "1000",
            kimi_code.MAX_STEPS_ENV: str(s.max_steps),
            kimi_code.BACKGROUND_MODE_ENV: "exit",
        }
        if s.home:
            env[kimi_code.HOME_ENV] = str(Path(s.home).expanduser())
        return {**env, **s.env}

    def command(self, worktree: Path, prompt: str, *, resume: str | None = None) -> Invocation:
        """argv for one headless run in `worktree`; a prompt too big for argv goes to stdin
        (legacy) or to a file the agent is told to read (code). `resume`: a session id to
        continue (`-S ID`, both flavours) instead of starting a new session; Kimi Code resumes
        a session only from the directory it was created in, which is the worktree."""
        s = self.settings
        too_long = len(prompt.encode("utf-8")) > MAX_ARGV_PROMPT_BYTES
        if self.flavour == "code":
            argv = [*s.command, "--output-format", "stream-json"]
            argv += ["-m", s.model] if s.model else []
            argv += ["-S", resume] if resume else []
            argv += s.extra_args
            prompt_file = None
            if too_long:
                folder = code_prompt_dir(worktree)
                private_dir(folder)  # 0700, the file 0600: it is a run's prompt, as private as prompt.md
                prompt_file = folder / CODE_PROMPT_FILE
                write_private(prompt_file, prompt)
                argv += ["--add-dir", str(folder)]
                prompt = code_prompt_pointer(prompt_file, prompt)
            return Invocation(
                argv=[*argv, "-p", prompt], cwd=worktree, env=self._code_env(), prompt_file=prompt_file
            )
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
            *(["-S", resume] if resume else []),
            *s.extra_args,
        ]
        env = {"COLUMNS": "1000", **s.env}
        if too_long:
            return Invocation(argv=argv, cwd=worktree, stdin=prompt.encode("utf-8"), env=env)
        return Invocation(argv=[*argv, "-p", prompt], cwd=worktree, env=env)

    def parser(self) -> KimiParser:
        return KimiParser()

    def verdict(self, outcome: ProcessOutcome, parser: StreamParser) -> Verdict:
        """Map how `kimi` ended to the run's status (see the module docstring)."""
        assert isinstance(parser, KimiParser), "a Kimi run is read by KimiParser"
        if self.flavour == "code":
            return self._code_verdict(outcome, parser)
        return self._legacy_verdict(outcome, parser)

    def _code_verdict(self, outcome: ProcessOutcome, parser: KimiParser) -> Verdict:
        """Kimi Code: rc 0 done; rc 1 with `error: failed to run prompt: <code>: <message>`
        mapped by `kimi_code.failure_of`, the CLI's own message shown. A run whose process
        stayed after its resume hint and was stopped is done. A failed run's session id comes
        from the session index, so that revise can resume it."""
        invocation = outcome.invocation
        if parser.session_id is None and invocation is not None:
            home = kimi_code.code_home(invocation.env)
            parser.session_id = kimi_code.session_for_workdir(home, invocation.cwd)
        steps = f"Kimi finished after {parser.steps} step(s)"
        if outcome.lingered and parser.finished and not outcome.cancelled:
            return Verdict(
                "done",
                None,
                f"{steps}; its process was still running {self.settings.linger_grace:g} s after "
                "the run ended and was stopped",
            )
        stopped = stopped_verdict(outcome, "Kimi", "agents.kimi.timeout", self.settings.timeout)
        if stopped:
            return stopped
        rc = outcome.returncode
        if rc == 0:
            return Verdict("done", None, steps)
        failure = kimi_code.stderr_failure(outcome.stderr_tail)
        if failure is None:
            detail = _error_text(outcome)
            if rc == 1:
                return Verdict(
                    "failed",
                    "agent_error",
                    join_message(detail or "Kimi exited with code 1", "see the transcript for details"),
                )
            return Verdict("failed", "crashed", join_message(f"Kimi {describe_exit(rc)}", detail))
        kind = kimi_code.failure_of(failure)
        if failure.code.startswith("provider."):
            parser.failed_requests = 1  # the request the run ended on
        return Verdict("failed", kind, join_message(failure.text, _CODE_FIXES[kind]))

    def _legacy_verdict(self, outcome: ProcessOutcome, parser: KimiParser) -> Verdict:
        """Map how the legacy `kimi` ended (print-mode exit codes) to the run's status."""
        stopped = stopped_verdict(outcome, "Kimi", "agents.kimi.timeout", self.settings.timeout)
        if stopped:
            return stopped
        rc = outcome.returncode
        detail = _error_text(outcome)
        if rc == 0:
            return Verdict("done", None, f"Kimi finished after {parser.steps} step(s)")
        if rc == 75:
            return Verdict(
                "failed",
                "transient",
                join_message(detail, "the model provider did not answer; retry"),
            )
        if rc == 1:
            if _MAX_STEPS.search(detail):
                return Verdict("failed", "max_steps", join_message(detail, _CODE_FIXES["max_steps"]))
            if _AUTH.search(detail) or _AUTH.search(outcome.stderr_tail[-4096:]):
                return Verdict(
                    "failed",
                    "auth",
                    join_message(
                        detail,
                        "set a model and a valid API key in Kimi's config file "
                        "(agents.kimi.config_file, or config.toml in $KIMI_SHARE_DIR / ~/.kimi)",
                    ),
                )
            return Verdict(
                "failed",
                "agent_error",
                join_message(detail or "Kimi exited with code 1", "see the transcript for details"),
            )
        how = describe_exit(rc)
        return Verdict("failed", "crashed", join_message(f"Kimi {how}", detail))


# What to do about each way a Kimi run fails, shown after the CLI's own message.
_CODE_FIXES: dict[FailureKind, str] = {
    "max_steps": "raise agents.kimi.max_steps or split the spec; the work so far is on the branch",
    "transient": "the model provider did not answer or is busy; retry",
    "auth": kimi_code.LOGIN_HINT,
    "quota": (
        "Kimi's request quota is used up: wait for it to renew (weekly, with a 5-hour window), "
        "switch to another profile (agents.kimi.home), or let Claude implement it"
    ),
    "agent_error": "see the transcript for details",
}


def code_prompt_pointer(path: Path, prompt: str) -> str:
    """The short `-p` prompt that sends Kimi Code to the long one in `path`."""
    pages = -(-len(prompt) // 100_000)
    return (
        f"Your task is in the file {path} ({len(prompt):,} characters, too long to pass here). "
        f"Read all of it first with the Read tool: it takes about {pages} Read call(s); follow "
        "each result's `Next Read` arguments until the end of the file, and do not start before "
        "you have read the end. Then do exactly what it says."
    )
