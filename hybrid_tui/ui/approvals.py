"""`Approvals`: the app's end of Claude Code's approval hook (`hybrid-tui hook install`).

The app listens on its repository's socket (`core.plan.approval.socket_path`) from just after
its first frame until it closes. A request from the hook brings the plan to the front in an
`ApprovalScreen`, with its advice; the user's choice goes back to the hook at once:
- Claude implements: allow (Claude goes on in the user's checkout, edits auto-accepted);
- Delegate to Kimi: deny with the message that tells Claude to stop and wait, then the spec
  screen opens on the plan as `d` opens it from the plans screen;
- decide in Claude (escape): no decision; Claude's own dialog is the one that counts.
When the hook goes away first (Claude's own dialog was answered, or the hook's wait ran out),
the prompt is withdrawn.

Behaviour choices:
- One app answers per repository: when another live hybrid-tui holds the socket, this one
  says so once and does not listen; a socket file nobody listens on is stale and is replaced.
- The plan is the one Claude sends (`tool_input.plan`); the spec screen reads the plan file
  Claude named when it exists, else a copy of the plan kept under the state dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.core.plan.approval import (
    MAX_LINE,
    answer_line,
    listening,
    private_socket_dir,
    socket_path,
)
from hybrid_tui.core.plan.projects import repository_of

if TYPE_CHECKING:
    from hybrid_tui.core.plan.advice import Advice
    from hybrid_tui.ui.app import HybridApp


class Approvals:
    def __init__(self, app: HybridApp, repo: Path) -> None:
        self.app = app
        self.repo = repository_of(repo)
        self.path = socket_path(self.repo)
        self.server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self.asked = 0  # requests received (tests wait on it)

    async def start(self) -> str | None:
        """Listen; None, or why this app does not answer Claude's approvals."""
        try:
            private_socket_dir()
        except OSError as err:
            return f"Claude's approval hook cannot reach hybrid-tui: {err}"
        if self.path.exists() or self.path.is_symlink():
            if await asyncio.to_thread(listening, self.path):
                return "Another hybrid-tui answers Claude's approval hook for this repository."
            with contextlib.suppress(OSError):
                self.path.unlink()  # stale: its app is gone
        try:
            self.server = await asyncio.start_unix_server(self._connection, path=str(self.path), limit=MAX_LINE)
            os.chmod(self.path, 0o600)
            self._inode = self.path.lstat().st_ino
        except OSError as err:
            return f"Claude's approval hook cannot reach hybrid-tui: {err}"
        return None

    async def close(self) -> None:
        if self.server is None:
            return
        self.server.close()
        with contextlib.suppress(OSError):
            if self.path.lstat().st_ino == self._inode:  # still ours
                self.path.unlink()
        self.server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = _request(await reader.readline())
            if request is None:
                writer.write(answer_line(None))
                return
            self.asked += 1
            choice = await self._ask(request, reader)
            if choice is _GONE:
                return
            writer.write(answer_line("allow" if choice == "claude" else "deny" if choice == "kimi" else None))
            with contextlib.suppress(OSError):
                await writer.drain()
            if choice == "kimi":
                self.app.delegate_approved_plan(request)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            return
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    async def _ask(self, request: dict[str, Any], reader: asyncio.StreamReader) -> object:
        """The user's choice, or `_GONE` when the hook went away first (the prompt withdrawn)."""
        from hybrid_tui.ui.dialogs.approval import ApprovalScreen

        tool_input = request["tool_input"]
        plan_text = tool_input.get("plan") if isinstance(tool_input.get("plan"), str) else ""
        plan_file = tool_input.get("planFilePath")
        advice = await asyncio.to_thread(_advice, plan_text, self.app)
        from hybrid_tui.core.plan.plans import plan_title

        name = Path(plan_file).name if isinstance(plan_file, str) and plan_file else "the plan"
        title = plan_title(plan_text, Path(name).stem)
        screen = ApprovalScreen(title, f"{self.repo.name} · {name}", advice)
        chosen: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def done(choice: str | None) -> None:
            if not chosen.done():
                chosen.set_result(choice)

        self.app.push_screen(screen, done)
        gone: asyncio.Future[bytes] = asyncio.ensure_future(reader.read(1))  # b"" when the hook closes its end
        try:
            waiting: list[asyncio.Future[Any]] = [chosen, gone]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if chosen.done():
            return chosen.result()
        if self.app.screen is screen:  # (one under another prompt stays; its answer then goes nowhere)
            screen.dismiss(None)  # Claude's own dialog was answered, or the hook gave up
        chosen.cancel()
        return _GONE


_GONE = object()


def _request(line: bytes) -> dict[str, Any] | None:
    try:
        request = json.loads(line)
    except ValueError:
        return None
    if not isinstance(request, dict) or request.get("type") != "permission-request":
        return None
    if not isinstance(request.get("tool_input"), dict):
        return None
    return request


def _advice(plan_text: str, app: HybridApp) -> Advice | None:
    """The Claude-or-Kimi advice for the plan (a worker thread: it converts the plan)."""
    if not plan_text.strip():
        return None
    from hybrid_tui.core.plan.advice import advise
    from hybrid_tui.core.spec.convert import convert_plan

    try:
        return advise(plan_text, convert_plan(plan_text, source="plan.md"), app.context.settings.advice)
    except Exception:  # advice is a hint: a plan the converter chokes on still gets the choice
        return None
