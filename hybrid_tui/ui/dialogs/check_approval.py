"""`CheckApprovalScreen`: the exact checks that will run, for the user to approve first.

    app.push_screen(CheckApprovalScreen(title, commands, where=..., allow_skip=True), answer)

A verification command comes from a plan or a spec, both untrusted: it runs only once the user
has seen it (issue 10). The screen lists each command as it will run, what is risky in it
(core/spec/risky_commands.py: deleting recursively, your home, absolute paths, `curl | sh`, sudo...)
under it, and where the checks run (in the sandbox without network, or with the user's own
permissions). It dismisses with:
- "approve" (y or enter): run with these checks;
- "skip" (s, when `allow_skip`): run the agent, but not the checks (the review's `c` can run
  them later, after approving them there);
- None (n or escape): nothing runs.

The buttons are for the mouse and cannot take focus, so enter always means approve. A long
list scrolls (the keys still answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from hybrid_tui.core.inert import inert
from hybrid_tui.core.spec.risky_commands import command_risks

if TYPE_CHECKING:
    from hybrid_tui.config import Settings


class CheckApprovalScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    CheckApprovalScreen {
        align: center middle;
        background: $background 60%;
    }
    CheckApprovalScreen > #dialog {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    CheckApprovalScreen #title { text-style: bold; width: 1fr; }
    CheckApprovalScreen #where { width: 1fr; margin-top: 1; }
    CheckApprovalScreen #commands { height: auto; max-height: 12; margin: 1 0; }
    CheckApprovalScreen .command { width: 1fr; color: $text; }
    CheckApprovalScreen .risk { width: 1fr; color: $warning; padding-left: 4; }
    CheckApprovalScreen #risky { width: 1fr; color: $warning; margin-bottom: 1; }
    CheckApprovalScreen #buttons { height: auto; width: 1fr; align-horizontal: right; }
    CheckApprovalScreen Button { margin-left: 1; min-width: 8; }
    """

    BINDINGS = [
        Binding("y", "answer('approve')", "Run with checks", id="checks-approval.approve"),
        Binding("enter", "answer('approve')", "Run with checks", show=False, id="checks-approval.approve-enter"),
        Binding("s", "answer('skip')", "Without checks", id="checks-approval.skip"),
        Binding("n", "answer(None)", "Cancel", id="checks-approval.cancel"),
        Binding("escape", "answer(None)", "Cancel", show=False, id="checks-approval.cancel-escape"),
    ]

    def __init__(
        self,
        title: str,
        commands: list[str],
        *,
        where: str,
        allow_skip: bool = True,
        approve_label: str = "Run with checks",
    ) -> None:
        """`where`: one sentence on where the checks run (`confine.checks_confinement`)."""
        super().__init__()
        self.title_text = title
        self.commands = list(commands)
        self.where = where
        self.allow_skip = allow_skip
        self.approve_label = approve_label
        self.risks = [command_risks(command) for command in self.commands]

    def compose(self) -> ComposeResult:
        count = len(self.commands)
        with Vertical(id="dialog"):
            yield Static(inert(self.title_text), id="title", markup=False)
            yield Static(inert(f"{'This check will' if count == 1 else f'These {count} checks'} {self.where}:"), id="where", markup=False)
            with VerticalScroll(id="commands", can_focus=False):
                for command, risks in zip(self.commands, self.risks):
                    yield Static(inert(f"$ {command}"), classes="command", markup=False)
                    for risk in risks:
                        yield Static(f"! {risk}", classes="risk", markup=False)
            if risky := sum(1 for risks in self.risks if risks):
                said = (
                    "it reaches outside the worktree or deletes data" if count == 1
                    else f"{risky} of {count} reach outside the worktree or delete data"
                )
                yield Static(f"Read {'it' if count == 1 else 'them'} before you approve: {said}.", id="risky", markup=False)
            with Horizontal(id="buttons"):
                yield self._button(f"{self.approve_label} (y)", "approve", "primary")
                if self.allow_skip:
                    yield self._button("Without checks (s)", "skip", "default")
                yield self._button("Cancel (n)", "cancel", "default")

    @staticmethod
    def _button(label: str, id: str, variant: str) -> Button:
        button = Button(label, id=id, variant=variant, compact=True)  # type: ignore[arg-type]
        button.can_focus = False
        return button

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters == ("skip",):
            return self.allow_skip
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(None if event.button.id == "cancel" else event.button.id)

    def action_answer(self, answer: str | None) -> None:
        if answer == "skip" and not self.allow_skip:
            return
        self.dismiss(answer)


def ask_check_approval(
    app: App,
    title: str,
    commands: list[str],
    settings: Settings,
    on_answer: Callable[[list[str] | None], None],
    *,
    allow_skip: bool = True,
    approve_label: str = "Run with checks",
) -> None:
    """Ask for `commands` and call `on_answer` with the approved checks: `commands` when
    approved, None for "without checks"; not at all when cancelled. With no commands there is
    nothing to approve: `on_answer([])` at once."""
    if not commands:
        on_answer([])
        return
    from hybrid_tui.core.run.confine import checks_confinement

    where = checks_confinement(settings.sandbox, settings.review.check_network)

    def answered(answer: str | None) -> None:
        if answer == "approve":
            on_answer(list(commands))
        elif answer == "skip":
            on_answer(None)

    app.push_screen(
        CheckApprovalScreen(title, commands, where=where, allow_skip=allow_skip, approve_label=approve_label), answered
    )
