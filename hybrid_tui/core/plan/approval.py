"""The choice on Claude's approval screen: how Claude Code's `PermissionRequest` hook (for
`ExitPlanMode`) reaches the hybrid-tui running for the plan's project, and what it answers.

    path = socket_path(repo_root)       # one per repository: where that repository's TUI listens
    answer = ask(path, request, wait)   # the hook's side: "allow", "deny" (+ message) or None
    hook_output(request, answer)        # what the hook prints for Claude Code

The protocol is one JSON line each way over a Unix socket. The hook sends
`{"type": "permission-request", "cwd", "session_id", "tool_input": {"plan", "planFilePath"}}`;
the TUI answers `{"decision": "allow"}`, `{"decision": "deny", "message": ...}` or
`{"decision": "none"}` (the user chose to decide in Claude's own dialog).

Behaviour choices:
- The socket lives in `$XDG_RUNTIME_DIR/hybrid-tui/`, else `/tmp/hybrid-tui-<uid>/` (a Unix
  socket's path must stay under 108 bytes), named by a hash of the repository's main checkout,
  so a plan written in a subdirectory or a worktree reaches the same TUI. The directory is
  0700 and must be the user's own; the socket is 0600.
- Every failure on the hook's side (no socket, nobody listening, a stale file, the TUI closing,
  no answer within `wait` seconds, a reply that is not one of the three) is None: no decision,
  and Claude's own dialog works as it would without hybrid-tui. Connecting gives up after
  `CONNECT_SECONDS`.
- "allow" echoes the tool's input as `updatedInput` (an allow without it is dropped by recent
  Claude Code versions) and switches the session to `acceptEdits`: Claude then implements the
  plan in the user's own checkout, as Claude Code's own "yes, auto-accept edits" does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import stat
import time
from pathlib import Path
from typing import Any, Literal

CONNECT_SECONDS = 0.5
MAX_LINE = 16 << 20  # a plan is at most a few hundred KiB; the request carries it once
DELEGATED_MESSAGE = (
    "The user delegated this plan to Kimi with hybrid-tui: a worker agent implements it on its own "
    "git branch, and the user reviews the result there. Do not implement the plan and do not edit "
    "files: stop here and wait for the user. To follow the run: `hybrid-tui runs --json` (newest "
    "first: its id, status and checks), then `hybrid-tui diff RUN_ID` for its changes."
)

Decision = Literal["allow", "deny"]


def socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and os.path.isdir(runtime):
        return Path(runtime) / "hybrid-tui"
    return Path("/tmp") / f"hybrid-tui-{os.getuid()}"


def socket_path(repo_root: Path) -> Path:
    """Where the TUI of the repository whose main checkout is `repo_root` listens."""
    digest = hashlib.sha256(str(Path(os.path.abspath(repo_root))).encode()).hexdigest()[:16]
    return socket_dir() / f"{digest}.sock"


def private_socket_dir() -> Path:
    """`socket_dir()`, made 0700 when missing; OSError when it is not a directory of ours
    that only we can enter (another user could listen there)."""
    directory = socket_dir()
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700, parents=False)
    st = directory.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{directory}: not a private directory of this user")
    return directory


def listening(path: Path) -> bool:
    """Whether a hybrid-tui listens on the socket at `path` now (a stale file: False)."""
    try:
        if not stat.S_ISSOCK(path.lstat().st_mode):
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_SECONDS)
            conn.connect(str(path))
    except OSError:
        return False
    return True


def ask(path: Path, request: dict[str, Any], wait: float) -> tuple[Decision, str] | None:
    """The TUI's answer to `request` (`(decision, message)`), or None: no decision."""
    deadline = time.monotonic() + wait
    try:
        st = path.lstat()
        if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.getuid():
            return None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_SECONDS)
            conn.connect(str(path))
            conn.sendall(json.dumps(request).encode() + b"\n")
            reply = b""
            while b"\n" not in reply:
                left = deadline - time.monotonic()
                if left <= 0 or len(reply) > MAX_LINE:
                    return None
                conn.settimeout(left)
                chunk = conn.recv(65536)
                if not chunk:
                    return None  # the TUI closed it
                reply += chunk
    except (OSError, ValueError):
        return None
    return parse_answer(reply.split(b"\n", 1)[0])


def parse_answer(line: bytes) -> tuple[Decision, str] | None:
    try:
        answer = json.loads(line)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    decision, message = answer.get("decision"), answer.get("message")
    if decision == "allow":
        return "allow", ""
    if decision == "deny":
        return "deny", message if isinstance(message, str) and message else DELEGATED_MESSAGE
    return None


def answer_line(decision: Decision | None, message: str = "") -> bytes:
    """The TUI's reply to the hook."""
    body: dict[str, str] = {"decision": decision or "none"}
    if decision == "deny":
        body["message"] = message or DELEGATED_MESSAGE
    return json.dumps(body).encode() + b"\n"


def hook_output(tool_input: dict[str, Any], decision: Decision, message: str = "") -> dict[str, Any]:
    """What the `PermissionRequest` hook prints for Claude Code."""
    if decision == "allow":
        verdict: dict[str, Any] = {
            "behavior": "allow",
            "updatedInput": tool_input,
            "updatedPermissions": [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}],
        }
    else:
        verdict = {"behavior": "deny", "message": message or DELEGATED_MESSAGE}
    return {"hookSpecificOutput": {"hookEventName": "PermissionRequest", "decision": verdict}}
