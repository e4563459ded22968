"""`ConfirmScreen`: a yes/no question that says exactly what will happen.

Dismisses with True (y or enter, or the yes button) or False (n or escape, or the no button).
The buttons are for the mouse and cannot take focus, so enter always means yes whatever was
clicked before.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from hybrid_tui.core.inert import inert


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        background: $background 60%;
    }
    ConfirmScreen > #dialog {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ConfirmScreen #title { text-style: bold; width: 1fr; }
    ConfirmScreen #body { width: 1fr; margin: 1 0; }
    ConfirmScreen #buttons { height: auto; width: 1fr; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; min-width: 8; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("enter", "answer(True)", "Yes", show=False, id="confirm.yes-enter"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "No", show=False, id="confirm.no-escape"),
    ]

    def __init__(
        self, title: str, body: str, yes_label: str = "Yes", no_label: str = "No"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body_text = body
        self.yes_label = yes_label
        self.no_label = no_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            # What lands, what is deleted: file names, branch names, the run's title (core.inert).
            yield Static(inert(self.title_text), id="title", markup=False)
            yield Static(inert(self.body_text), id="body", markup=False)
            with Horizontal(id="buttons"):
                yield self._button(f"{self.yes_label} (y)", "yes", "primary")
                yield self._button(f"{self.no_label} (n)", "no", "default")

    @staticmethod
    def _button(label: str, id: str, variant: str) -> Button:
        button = Button(label, id=id, variant=variant, compact=True)  # type: ignore[arg-type]
        button.can_focus = False
        return button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
