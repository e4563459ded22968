"""Adding hybrid-tui's one hook to Claude Code's settings, and taking it out again exactly.

    install(path, command, timeout, state_dir)   # -> "installed" | "already installed"
    uninstall(path, state_dir)                    # -> "removed" | "not installed"
    installed_hooks(path)                         # our hook entries in that file

The hook is a `PermissionRequest` hook with matcher `ExitPlanMode` whose command is
`hybrid-tui hook permission-request` (the absolute path of the installed command, so that it
runs whatever PATH Claude Code has) and whose `timeout` (seconds) bounds how long Claude waits.

Behaviour choices:
- Install keeps every other setting and hook: it adds one entry to `hooks.PermissionRequest`
  (creating those keys, or the file and its `.claude` folder, as needed) and rewrites the file
  as JSON with two-space indents. Installing twice changes nothing.
- What install found is kept in the state dir (`claude-installs/<hash of the path>.json`):
  whether hybrid-tui created the file, and its bytes before. Uninstall removes our entries
  (and the keys it created that are left empty); when what remains is what was there before,
  the file gets its old bytes back exactly (or is removed, when hybrid-tui created it); when
  the user changed it since, the rest is kept as JSON.
- A settings file that is not JSON (Claude Code reads strict JSON: comments are not allowed)
  or not a JSON object is reported with its line, and never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from hybrid_tui.core.errors import InputError

EVENT = "PermissionRequest"
MATCHER = "ExitPlanMode"
COMMAND_TAIL = "hook permission-request"


def is_ours(hook: Any) -> bool:
    command = hook.get("command") if isinstance(hook, dict) else None
    return isinstance(command, str) and command.endswith(COMMAND_TAIL) and "hybrid" in command


def _read(path: Path) -> tuple[dict[str, Any], str | None]:
    """The file's settings and its text (None: no file). InputError for one that is not a
    JSON object; an empty file is no settings yet."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:  # its bytes as they are (CRLF too)
            text = handle.read()
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the settings file ({err})") from err
    if not text.strip():
        return {}, text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}: line {err.lineno}: not valid JSON ({err.msg}); Claude Code reads it as strict JSON "
            "(no comments), and hybrid-tui does not rewrite it",
            fix="Fix that line (or remove the comment), then run this again.",
        ) from err
    if not isinstance(data, dict):
        raise InputError(f"{path}: the settings are not a JSON object; hybrid-tui does not rewrite it")
    return data, text


def installed_hooks(path: Path) -> list[dict[str, Any]]:
    """hybrid-tui's hook entries in the settings file at `path` (InputError: unreadable)."""
    return _ours(_read(path)[0])


def _ours(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    hooks = data.get("hooks")
    for group in (hooks.get(EVENT) if isinstance(hooks, dict) else None) or []:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            found += [hook for hook in group["hooks"] if is_ours(hook)]
    return found


def _record_path(state_dir: Path, path: Path) -> Path:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return state_dir / "claude-installs" / f"{digest}.json"


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.hybrid-tui.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def install(path: Path, command: str, timeout: int, state_dir: Path) -> Literal["installed", "already installed"]:
    data, text = _read(path)
    if _ours(data):
        return "already installed"
    record = _record_path(state_dir, path)
    if not record.exists():
        from hybrid_tui.core.runs import atomic_write

        made_dir = not path.parent.exists()
        atomic_write(record, json.dumps({"path": str(path), "created": text is None, "before": text,
                                         "made_dir": made_dir}))
    hooks = data.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise InputError(f"{path}: \"hooks\" is not a JSON object; hybrid-tui does not rewrite it")
    groups = hooks.setdefault(EVENT, [])
    if not isinstance(groups, list):
        raise InputError(f"{path}: \"hooks.{EVENT}\" is not a list; hybrid-tui does not rewrite it")
    groups.append({"matcher": MATCHER, "hooks": [{"type": "command", "command": command, "timeout": timeout}]})
    _write(path, data)
    return "installed"


def uninstall(path: Path, state_dir: Path) -> Literal["removed", "not installed"]:
    data, text = _read(path)
    record_path = _record_path(state_dir, path)
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if text is None or not _ours(data):
        record_path.unlink(missing_ok=True)
        return "not installed"
    hooks = data["hooks"]
    kept_groups = []
    for group in hooks[EVENT]:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            rest = [hook for hook in group["hooks"] if not is_ours(hook)]
            if not rest and any(is_ours(hook) for hook in group["hooks"]):
                continue  # our group: gone whole
            group = {**group, "hooks": rest}
        kept_groups.append(group)
    hooks[EVENT] = kept_groups
    before: dict[str, Any] | None = None
    if isinstance(record, dict):
        old = record.get("before")
        before = {} if old is None or not str(old).strip() else json.loads(old)
        # The keys install made and that are left empty go with it.
        old_hooks = before.get("hooks") if isinstance(before, dict) else None
        if not kept_groups and not (isinstance(old_hooks, dict) and EVENT in old_hooks):
            del hooks[EVENT]
        if not hooks and not isinstance(old_hooks, dict):
            del data["hooks"]
    if isinstance(record, dict) and data == before:
        if record.get("created"):
            path.unlink()
            if record.get("made_dir"):
                try:
                    path.parent.rmdir()
                except OSError:
                    pass  # something else is in it now
        else:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(record["before"])
    else:
        _write(path, data)
    record_path.unlink(missing_ok=True)
    return "removed"
