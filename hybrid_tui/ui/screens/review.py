"""`ReviewScreen`: a run's result, file by file, with accept and reject.

Loading is lazy and off the UI thread: a thread worker reads the file list (`run_diff`, git's
numstat) first; each file's diff (`run_diff_text`, split and classified by `prepare_diff`) is
read in a worker only when the file is selected, and the last few are cached.

Behaviour choices:
- The header says what is being reviewed: title, branch and base, status (with the failure
  kind and message of a failed run: its branch is still reviewable) and "N files, +A -R".
- Accept and reject ask first, saying exactly what will happen; the action runs in a thread
  worker. When git or a precondition refuses (`ActionFailed`), the message and its fix stay
  in a message area on the screen (not a passing toast) and nothing else changes. On success
  the app goes back to the plans screen with a notification.
- Messages name the repository by its directory name, not its absolute path: the pane is
  narrow, and the user knows where their checkout is.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.runs import Run, Status
from hybrid_tui.ui.screens.confirm import ConfirmScreen
from hybrid_tui.ui.widgets.diff_view import DiffLines, DiffView, prepare_diff

if TYPE_CHECKING:
    from hybrid_tui.core.workspace import FileDiff
    from hybrid_tui.ui.app import HybridApp

STATUS_LETTERS = {
    "added": "A",
    "modified": "M",
    "deleted": "D",
    "renamed": "R",
    "copied": "C",
    "type-changed": "T",
}
CACHED_DIFFS = 8


def file_counts(file: FileDiff) -> str:
    return "bin" if file.binary else f"+{file.added} -{file.removed}"


def file_prompt(file: FileDiff) -> str:
    """One row of the file list: status letter, +/- counts, path (markup)."""
    letter = STATUS_LETTERS.get(file.status, "?")
    if file.binary:
        counts = "[$text-muted]bin[/]"
    else:
        counts = f"[$diff-added]+{file.added}[/] [$diff-removed]-{file.removed}[/]"
    path = escape(file.path)
    if file.old_path:
        path = f"{escape(file.old_path)} → {path}"
    return f"[b]{letter}[/b] {counts}  {path}"


def totals(files: list[FileDiff]) -> str:
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    return f"{len(files)} file{'' if len(files) == 1 else 's'}, +{added} -{removed}"


class ReviewScreen(Screen[None]):
    DEFAULT_CSS = """
    ReviewScreen { layout: vertical; }
    ReviewScreen > #review-header {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ReviewScreen > #review-files {
        height: auto;
        max-height: 30%;
        min-height: 3;
        border: none;
        border-bottom: solid $primary 40%;
    }
    ReviewScreen > DiffView { height: 1fr; }
    ReviewScreen > #review-message {
        display: none;
        height: auto;
        max-height: 8;
        padding: 0 1;
        color: $text-error;
        background: $error-muted;
    }
    ReviewScreen > #review-message.-shown { display: block; }
    """

    BINDINGS = [
        Binding("a", "accept", "Accept", id="review.accept"),
        Binding("x", "reject", "Reject", id="review.reject"),
        Binding("j", "next_file", "Next file", show=False, id="review.next"),
        Binding("k", "previous_file", "Previous file", show=False, id="review.previous"),
        Binding("escape", "back", "Back", id="review.back"),
    ]

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.files: list[FileDiff] | None = None
        self.tip: str | None = None
        self.busy = False  # an accept or reject is under way
        self._diffs: OrderedDict[str, DiffLines] = OrderedDict()

    @property
    def hybrid(self) -> HybridApp:
        return self.app  # type: ignore[return-value]

    @property
    def repo_name(self) -> str:
        return Path(self.run.repo_root).name

    def compose(self) -> ComposeResult:
        yield Static(id="review-header")
        yield OptionList(id="review-files", compact=True)
        yield DiffView(id="review-diff")
        yield Static(id="review-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.query_one(DiffView).show_message("Loading the diff…")
        self._refresh_header()
        self.run_worker(self._load_files, name="files", group="review", thread=True,
                        exclusive=True, exit_on_error=False)

    # -- loading (thread workers) --------------------------------------------------------

    def _load_files(self) -> tuple[list[FileDiff], str]:
        from hybrid_tui.core.land import run_diff, run_tip

        return run_diff(self.run), run_tip(self.run)

    def _load_diff(self, path: str) -> tuple[str, DiffLines]:
        from hybrid_tui.core.land import run_diff_text

        return path, prepare_diff(run_diff_text(self.run, path))

    def _land(self, action: str) -> tuple[str, Run]:
        from hybrid_tui.core.land import accept_run, reject_run

        store = self.hybrid.context.store
        assert store is not None
        land = accept_run if action == "accept" else reject_run
        return action, land(store, self.run)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if state == WorkerState.SUCCESS:
            result: Any = worker.result
            if worker.name == "files":
                self._show_files(*result)
            elif worker.name == "diff":
                self._show_diff(*result)
            elif worker.name == "land":
                self._landed(*result)
        elif state == WorkerState.ERROR:
            error = worker.error
            if worker.name == "land":
                self.busy = False
                self.refresh_bindings()
            if worker.name == "diff":
                self.query_one(DiffView).show_message(f"Cannot show this file's diff: {error}")
            else:
                self.show_error(error)

    def _show_files(self, files: list[FileDiff], tip: str) -> None:
        self.files, self.tip = files, tip
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(file_prompt(f), id=f.path) for f in files])
        if files:
            options.highlighted = 0  # loads the first file's diff
        else:
            self.query_one(DiffView).show_message("No changes on this branch: the agent changed nothing.")
        self._refresh_header()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        path = event.option.id
        if path is None:
            return
        if (diff := self._diffs.get(path)) is not None:
            self._diffs.move_to_end(path)
            self.query_one(DiffView).set_diff(diff, path)
            return
        self.query_one(DiffView).show_message(f"Loading {path}…", path)
        self.run_worker(lambda: self._load_diff(path), name="diff", group="diff", thread=True,
                        exclusive=True, exit_on_error=False)

    def _show_diff(self, path: str, diff: DiffLines) -> None:
        self._diffs[path] = diff
        while len(self._diffs) > CACHED_DIFFS:
            self._diffs.popitem(last=False)
        view = self.query_one(DiffView)
        if view.path == path:  # still the selected file
            view.set_diff(diff, path)

    # -- header and messages -------------------------------------------------------------

    def _refresh_header(self) -> None:
        run = self.run
        status = run.status.value + (f" ({run.failure_kind})" if run.failure_kind else "")
        colour = "$success" if run.status in (Status.REVIEW, Status.ACCEPTED) else "$warning"
        if run.status in (Status.FAILED, Status.TIMED_OUT):
            colour = "$error"
        lines = [
            f"[b]{escape(run.title)}[/b] · [{colour}]{escape(status)}[/]",
            f"[$text-muted]{escape(run.branch)} → {escape(run.base_branch)}@{run.base_sha[:7]}[/]",
        ]
        if run.failure_kind and run.message:
            lines.append(f"[{colour}]{escape(self._short(run.message))}[/]")
        lines.append(totals(self.files) if self.files is not None else "[$text-muted]Loading files…[/]")
        self.query_one("#review-header", Static).update("\n".join(lines))

    def _short(self, text: str) -> str:
        return text.replace(self.run.repo_root, self.repo_name)

    def show_error(self, error: BaseException | None) -> None:
        """The message area: what went wrong and, when known, the fix."""
        if isinstance(error, HybridError):
            text = self._short(error.message)
            if error.fix:
                text += "\nFix: " + self._short(error.fix)
        else:
            text = f"Unexpected error: {error}"
        message = self.query_one("#review-message", Static)
        message.update(text)
        message.add_class("-shown")

    def clear_error(self) -> None:
        self.query_one("#review-message", Static).remove_class("-shown")

    # -- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("accept", "reject"):
            return None if self.busy else True  # shown, greyed out while landing
        return True

    def action_next_file(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_previous_file(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def action_accept(self) -> None:
        run = self.run
        self._confirm(
            "accept",
            "Accept the run?",
            f"Merge {run.branch} into {run.base_branch} in {self.repo_name} (git merge --no-ff). "
            "The worktree and the branch are removed afterwards.",
            "Accept",
        )

    def action_reject(self) -> None:
        from hybrid_tui.core.land import (
            REJECTED_REF,  # loaded already by the file-list worker
        )

        run = self.run
        tip = (self.tip or run.head_sha or "")[:7] or "(unknown)"
        ref = REJECTED_REF.format(run_id=run.id)
        self._confirm(
            "reject",
            "Reject the run?",
            f"Delete branch {run.branch} and its worktree. Its tip {tip} is kept as {ref}.",
            "Reject",
        )

    def _confirm(self, action: str, title: str, body: str, yes: str) -> None:
        if self.busy:
            return

        def answer(confirmed: bool | None) -> None:
            if confirmed and not self.busy:
                self.busy = True
                self.clear_error()
                self.refresh_bindings()
                self.run_worker(lambda: self._land(action), name="land", group="land",
                                thread=True, exclusive=True, exit_on_error=False)

        self.app.push_screen(ConfirmScreen(title, body, yes, "Keep reviewing"), answer)

    def _landed(self, action: str, run: Run) -> None:
        self.busy = False
        if action == "accept":
            self.notify(f"Accepted: {run.branch} merged into {run.base_branch}.", title="Run accepted")
        else:
            self.notify(f"Rejected: {run.branch} deleted; its tip is kept as {run.rejected_ref}.",
                        title="Run rejected")
        self.hybrid.back_to_plans()

    def action_back(self) -> None:
        self.app.pop_screen()
