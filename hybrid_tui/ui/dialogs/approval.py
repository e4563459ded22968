"""`ApprovalScreen`: Claude asks to leave plan mode; the plan comes to the front with its advice
and the choice Claude's own approval screen cannot offer.

Dismisses with "claude" (c: Claude implements), "kimi" (d: Delegate to Kimi) or None (escape:
decide in Claude's own dialog). The prompt says what each does: "Claude implements" lets
Claude edit the user's checkout itself with edits auto-accepted (Claude Code's own flow; the
plans screen's `c` instead runs Claude in a worktree), "Delegate to Kimi" tells Claude to stop
and opens the spec. When Claude's own dialog is answered first the app withdraws the prompt.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from hybrid_tui.core.inert import inert
from hybrid_tui.core.plan.advice import Advice

Choice = str  # "claude" | "kimi"


class ApprovalScreen(ModalScreen[Choice | None]):
    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; background: $background 60%; }
    ApprovalScreen > #dialog {
        width: 72;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ApprovalScreen #title { text-style: bold; width: 1fr; }
    ApprovalScreen #plan { width: 1fr; margin-top: 1; }
    ApprovalScreen #advice { width: 1fr; color: $text-muted; }
    ApprovalScreen #choices { width: 1fr; margin-top: 1; }
    """

    BINDINGS = [
        Binding("c", "choose('claude')", "Claude implements", id="approval.claude"),
        Binding("d", "choose('kimi')", "Delegate to Kimi", id="approval.kimi"),
        Binding("escape", "choose(None)", "Decide in Claude", id="approval.claude-dialog"),
    ]

    def __init__(self, title: str, where: str, advice: Advice | None) -> None:
        super().__init__()
        self.plan_title = title
        self.where = where
        self.advice = advice

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Claude asks to leave plan mode", id="title", markup=False)
            yield Static(Content(inert(f"{self.plan_title}\n{self.where}")), id="plan")
            if self.advice is not None:
                advice = inert(f"Advice: {self.advice.label} — {self.advice.reason}")
                yield Static(Content(advice), id="advice")
            yield Static(Content.from_markup(
                "[b]c[/b]  Claude implements: Claude edits your checkout itself, its edits auto-accepted\n"
                "[b]d[/b]  Delegate to Kimi: Claude is told to stop; the spec opens here\n"
                "[b]esc[/b]  Decide in Claude's own dialog"
            ), id="choices")

    def action_choose(self, choice: Choice | None) -> None:
        self.dismiss(choice)
