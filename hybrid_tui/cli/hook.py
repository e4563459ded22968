"""`hybrid-tui hook install | uninstall | status | permission-request`: the choice on Claude's
approval screen (see `core.plan.approval` and `core.plan.hook_install`).

- `install [--project | --user]` adds the `PermissionRequest` hook for `ExitPlanMode` to the
  repository's `.claude/settings.json` (`--project`, the default: only this repository's
  Claude sessions ask hybrid-tui) or to the user's `$CLAUDE_CONFIG_DIR/settings.json`
  (`--user`: every project's; the hook finds the TUI of each plan's project).
- `uninstall [--project | --user]` takes out exactly what install added.
- `status` says where the hook is installed and whether a hybrid-tui answers for this
  repository now.
- `permission-request` is the hook itself, run by Claude Code with the hook's JSON on stdin. It
  never fails Claude: whatever goes wrong (bad input, no TUI, a stale socket, no answer in
  `[hook] answer_timeout` seconds) ends in exit 0 with no output, which leaves the choice to
  Claude's own dialog; what went wrong is logged to `hook.log` in the state dir.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.cli.common import EXIT_OK
from hybrid_tui.core.errors import InputError

if TYPE_CHECKING:
    from hybrid_tui.config import Settings

DEFAULT_ANSWER_TIMEOUT = 300.0
TIMEOUT_MARGIN = 30  # Claude's own limit for the hook is this much longer than its wait
MAX_STDIN = 16 << 20


def hook_command() -> str:
    """How Claude Code runs the hook: the installed `hybrid-tui` by its absolute path, else
    this Python with `-m hybrid_tui`."""
    found = shutil.which("hybrid-tui")
    program = [str(Path(found).resolve())] if found else [sys.executable, "-m", "hybrid_tui"]
    return shlex.join([*program, "hook", "permission-request"])


def settings_file(args: argparse.Namespace) -> Path:
    from hybrid_tui.core.plan.projects import claude_config_dir, repository_of

    if args.user:
        return claude_config_dir() / "settings.json"
    return repository_of((args.repo or Path.cwd()).resolve()) / ".claude" / "settings.json"


def cmd_hook(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.plan import hook_install

    state = settings.resolved_state_dir()
    if args.action == "status":
        return _status(args, settings)
    path = settings_file(args)
    if args.action == "install":
        timeout = int(settings.hook.answer_timeout) + TIMEOUT_MARGIN
        done = hook_install.install(path, hook_command(), timeout, state)
        print(f"hybrid-tui: {done} the ExitPlanMode approval hook in {path}")
        if done == "installed":
            print("When Claude asks to leave plan mode, a running hybrid-tui for the plan's project "
                  "offers: Claude implements / Delegate to Kimi / decide in Claude. "
                  "`hybrid-tui hook uninstall` takes it out again.")
        return EXIT_OK
    gone = hook_install.uninstall(path, state)
    print(f"hybrid-tui: removed the approval hook from {path}" if gone == "removed"
          else f"hybrid-tui: the approval hook is not installed in {path}")
    return EXIT_OK


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from hybrid_tui.core.plan import hook_install
    from hybrid_tui.core.plan.approval import listening, socket_path
    from hybrid_tui.core.plan.projects import claude_config_dir, repository_of

    repo = repository_of((args.repo or Path.cwd()).resolve())
    for where, path in (("project", repo / ".claude" / "settings.json"), ("user", claude_config_dir() / "settings.json")):
        try:
            hooks = hook_install.installed_hooks(path)
        except InputError as err:
            print(f"{where}: {err}")
            continue
        if hooks:
            hook = hooks[0]
            print(f"{where}: installed in {path} (timeout {hook.get('timeout', 'default')} s): {hook.get('command')}")
        else:
            print(f"{where}: not installed ({path})")
    answering = listening(socket_path(repo))
    print(f"hybrid-tui for {repo}: {'running, answers Claude' if answering else 'not running'}")
    return EXIT_OK


# -- the hook itself ---------------------------------------------------------------------------


def permission_request(stdin: Any = None, stdout: Any = None) -> int:
    """Run as Claude Code's `PermissionRequest` hook: always exit 0; print a decision only when
    the user made one in hybrid-tui."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    started = time.monotonic()
    log = _Log()
    try:
        table = _config_table()
        log.state_dir = _state_dir(table)
        raw = stdin.buffer.read(MAX_STDIN + 1) if hasattr(stdin, "buffer") else stdin.read().encode()
        event = _event(raw)
        if event is None:
            log.write(f"not an ExitPlanMode permission request: {raw[:200]!r}")
            return EXIT_OK
        decided = _decide(event, _answer_timeout(table), log)
        if decided is not None:
            from hybrid_tui.core.plan.approval import hook_output

            stdout.write(json.dumps(hook_output(event["tool_input"], *decided)) + "\n")
            stdout.flush()
        log.write(f"{decided[0] if decided else 'no decision'} after {time.monotonic() - started:.2f} s")
    except Exception as err:  # never fail Claude: no decision, and say why in the log
        log.write(f"error: {type(err).__name__}: {err}")
    return EXIT_OK


def _decide(event: dict[str, Any], wait: float, log: _Log) -> tuple[Any, str] | None:
    from hybrid_tui.core.plan.approval import ask, socket_path
    from hybrid_tui.core.plan.projects import PlanProjects, repository_of

    cwd = Path(event["cwd"])
    plan_file = event["tool_input"].get("planFilePath")
    if isinstance(plan_file, str) and plan_file and log.state_dir is not None:
        PlanProjects.open(log.state_dir).record(Path(plan_file), cwd)  # the plan's project, from Claude itself
    repo = repository_of(cwd)
    request = {"type": "permission-request", "cwd": str(cwd), "session_id": event.get("session_id"),
               "tool_input": event["tool_input"]}
    answer = ask(socket_path(repo), request, wait)
    if answer is None:
        log.write(f"no answer from a hybrid-tui for {repo}")
    return answer


def _event(raw: bytes) -> dict[str, Any] | None:
    if len(raw) > MAX_STDIN:
        return None
    try:
        event = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("tool_name") != "ExitPlanMode":
        return None
    if event.get("hook_event_name") not in ("PermissionRequest", None):
        return None
    if not isinstance(event.get("cwd"), str) or not isinstance(event.get("tool_input"), dict):
        return None
    return event


def _config_table() -> dict[str, Any]:
    """The config file's table, leniently: the hook must not fail on a broken file."""
    from hybrid_tui.config_file import config_path, read_config_table

    try:
        return read_config_table(config_path()) or {}
    except InputError:
        return {}


def _state_dir(table: dict[str, Any]) -> Path:
    from hybrid_tui.config_file import state_dir

    configured = table.get("state_dir")
    return state_dir(Path(configured) if isinstance(configured, str) and configured else None)


def _answer_timeout(table: dict[str, Any]) -> float:
    hook = table.get("hook")
    value = hook.get("answer_timeout") if isinstance(hook, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return DEFAULT_ANSWER_TIMEOUT


class _Log:
    """`hook.log` in the state dir, appended to (0600); silent when it cannot be written."""

    def __init__(self) -> None:
        self.state_dir: Path | None = None

    def write(self, text: str) -> None:
        if self.state_dir is None:
            return
        try:
            from hybrid_tui.core.private_files import private_dir, private_opener

            private_dir(self.state_dir)
            with open(self.state_dir / "hook.log", "a", encoding="utf-8", opener=private_opener) as handle:
                handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}\n")
        except OSError:
            pass
