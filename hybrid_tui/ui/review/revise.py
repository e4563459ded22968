"""`ReviseScreen`: write the note that sends a run back to its agent.

    app.push_screen(ReviseScreen(run, initial_note=points_as_note(review)), on_note)

Dismisses with the note (ctrl+s, stripped) or None (escape). The screen only collects the note;
the caller runs `core.run.revise.prepare_revision` and `RunExecution(revision=True)` (in workers).

Behaviour choices:
- It says what will happen before the note is sent: which agent, whether it resumes its session
  (by a short id) or starts a fresh one with the spec, on which branch, and which failing checks
  go along with the note.
- An empty note is not sent: the screen stays and says why.
- ctrl+s and escape are priority bindings, so the text area never swallows them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from hybrid_tui.core.inert import inert
from hybrid_tui.core.runs import Run
from hybrid_tui.ui.widgets.inert_text_area import InertTextArea


def agent_name(run: Run) -> str:
    from hybrid_tui.agents.registry import agent_identity

    return agent_identity(run.agent)[0]


def revise_summary(run: Run) -> str:
    """What sending the note will do, in markup: agent, session, branch, failing checks."""
    name = agent_name(run)
    if run.session_id:
        how = f"{name} resumes its session [b]{escape(run.session_id[:8])}[/b]"
    else:
        how = f"{name} starts a fresh session with the spec"
    lines = [f"{how} on [b]{escape(run.branch)}[/b]."]
    failing = [check.command for check in run.checks or [] if not check.ok]
    if failing:
        shown = ", ".join(f"`{escape(command)}`" for command in failing[:3]) + (" …" if len(failing) > 3 else "")
        lines.append(f"[$error]{len(failing)} failing check(s) go along: {shown}[/]")
    return "\n".join(lines)


class ReviseScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ReviseScreen {
        align: center middle;
        background: $background 60%;
    }
    ReviseScreen > #revise-dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ReviseScreen #revise-title { text-style: bold; width: 1fr; }
    ReviseScreen #revise-summary { width: 1fr; margin: 1 0 0 0; color: $text-muted; }
    ReviseScreen #revise-note { height: 8; margin: 1 0 0 0; }
    ReviseScreen #revise-error { display: none; color: $text-error; width: 1fr; }
    ReviseScreen #revise-error.-shown { display: block; }
    ReviseScreen #revise-keys { color: $text-muted; width: 1fr; text-align: right; }
    """

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", priority=True, id="revise.send"),
        Binding("escape", "cancel", "Cancel", priority=True, id="revise.cancel"),
    ]

    def __init__(self, run: Run, initial_note: str = "") -> None:
        super().__init__()
        self.run = run
        self.initial_note = initial_note

    def compose(self) -> ComposeResult:
        with Vertical(id="revise-dialog"):
            yield Static(inert(f"Send back to {escape(agent_name(self.run))}: {escape(self.run.title)}"), id="revise-title")
            yield Static(inert(revise_summary(self.run)), id="revise-summary")
            # The note may start as Claude's points, which quote the branch: shown inert, sent so.
            yield InertTextArea(inert(self.initial_note), id="revise-note", soft_wrap=True)
            yield Static("Write what the agent should change.", id="revise-error", markup=False)
            yield Static("ctrl+s send · esc cancel", id="revise-keys", markup=False)

    def on_mount(self) -> None:
        note = self.query_one(TextArea)
        note.focus()
        note.move_cursor(note.document.end)

    @property
    def note(self) -> str:
        return self.query_one(TextArea).text.strip()

    def action_send(self) -> None:
        if not self.note:
            self.query_one("#revise-error").add_class("-shown")
            return
        self.dismiss(self.note)

    def action_cancel(self) -> None:
        self.dismiss(None)
