"""`ReviewScreen`: a run's result, file by file and hunk by hunk, with its checks and scope, and
the ways to land it: accept all, accept a selection, reject, rebase first; or to send it back:
revise (the agent resumes its session with a note), Claude's review, a pull request.

Loading is lazy and off the UI thread, in steps. A thread worker reads the file list first
(`workspace.diff_names`: git's `--raw`, names and status, no content diff; and the scope
check against the spec), started from `compose` so that git runs while the screen is built,
and the list shows at once; the +/- counts follow (`workspace.diff_files`), then the whole
patch, read once (`workspace.patch_text`, split per file by `diff_model.PatchIndex`); each
file is parsed and laid out (`diff_model.prepare_file`) in a worker when it is opened, and
the last few are cached. Hunk numbers are those of `core.hunks.parse_hunks` on that same
patch, so a selection means to `partial.accept_selection` what it shows here.

Behaviour choices:
- The header says what is reviewed: title, status (a failed run's kind and message), branch
  and base, "N files, +A -R", the scope flags ("! N not in the spec", "N untouched") and what
  is selected. The checks panel under it shows each check (✓/✗, exit, seconds).
- `space` toggles the file under the list cursor, or the hunk under the diff cursor (a file
  without hunks, binary or mode-only, goes whole). `a` accepts the selection when there is
  one (one commit on the base branch; the run stays under review), else the whole branch with
  `[merge] strategy`. Before asking, a worker runs the merge preflight: a blocking finding
  refuses the accept in the message area with its exact fix; advice (the base moved ahead) is
  said in the confirmation and offers `b` (rebase the run's branch, `u` undoes it).
- The same preflight runs once the files are listed, to offer `b` early; its blocking findings
  wait for `a` (opening a review should not shout).
- `c` re-runs the checks in an async worker (`verify.RunChecks`; not offered for a plan run, which has no
  spec); their output streams into the panel's output pane (`o` shows or hides it, with the
  last run's output, each check's from its own file). Accept, reject and rebase are greyed out while they
  run; leaving the screen stops them.
- `R` sends the run back (`ReviseScreen`): the note starts as Claude's points when a review
  is shown. A thread worker checks and records the revision (`revise.prepare_revision`; a
  refusal goes to the message area with its fix), then the `RunScreen` replaces this screen
  and runs it (`RunExecution(revision=True)`: the agent resumes its session on the same branch, the
  checks run again); its review shows the new commits.
- `C` asks Claude for a read-only review (`ClaudeReviewer`, in an async worker; its git work
  in a thread) shown in `ClaudeReviewPanel`, beside the diff from 100 columns on, below it
  when narrower; `C` again stops it, and so does leaving the screen. A review the run already
  has is shown when the screen opens (marked when it was of an older tip). Choosing a point
  opens its file at its line. A missing `claude` is said in the panel with its install hint.
- `P` (push the branch, open a pull request with gh) is only offered when `pull_request.
  pr_available` says so (a remote and gh on PATH), worked out in a thread when the screen
  opens; it asks first, then notifies the PR's URL.
- Accept, reject, rebase, revise, the checks and the pull request wait for each other, and
  for Claude's review: their keys are greyed out meanwhile.
- A refusal (`ActionFailed`) keeps its message and fix in the message area, not a passing
  toast; nothing else changes. Messages name the repository by its directory name.

The features live beside this module, one each: `loading` (file list, counts, patch, the open
file), `header`, `selection`, `checks`, `landing` (accept, reject, rebase), `revise`,
`claude_review` and `pull_request`; `ReviewScreen` mixes them in and keeps the layout, the keys,
moving about, the worker dispatch and the message area.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.runs import Run
from hybrid_tui.ui.screens.review.checks import ChecksMixin
from hybrid_tui.ui.screens.review.claude_review import ClaudeReviewMixin
from hybrid_tui.ui.screens.review.header import HeaderMixin
from hybrid_tui.ui.screens.review.landing import LandingMixin
from hybrid_tui.ui.screens.review.loading import LoadingMixin
from hybrid_tui.ui.screens.review.pull_request import PullRequestMixin
from hybrid_tui.ui.screens.review.revise import ReviseMixin
from hybrid_tui.ui.screens.review.selection import Chosen, SelectionMixin
from hybrid_tui.ui.widgets.checks_panel import ChecksPanel
from hybrid_tui.ui.widgets.claude_review import ClaudeReviewPanel
from hybrid_tui.ui.widgets.diff_model import FileModel, PatchIndex
from hybrid_tui.ui.widgets.diff_view import DiffView
from hybrid_tui.ui.widgets.file_list import FileList

if TYPE_CHECKING:
    from hybrid_tui.core.claude_review import ClaudeReviewer
    from hybrid_tui.core.scope import Scope
    from hybrid_tui.core.verify import RunChecks
    from hybrid_tui.core.workspace import FileDiff
    from hybrid_tui.ui.app import HybridApp


class ReviewScreen(
    LandingMixin, ChecksMixin, ReviseMixin, ClaudeReviewMixin, PullRequestMixin, SelectionMixin, LoadingMixin,
    HeaderMixin, Screen[None],
):
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
        min-height: 1;
        border-bottom: solid $primary 40%;
        scrollbar-size-vertical: 1;
    }
    ReviewScreen > #review-files:focus { border-bottom: solid $primary; }
    ReviewScreen > #review-body { height: 1fr; layout: vertical; }
    ReviewScreen.-wide > #review-body { layout: horizontal; }
    #review-body > DiffView { height: 1fr; width: 1fr; scrollbar-size-vertical: 1; }
    #review-body > ClaudeReviewPanel {
        display: none;
        border-top: solid $primary 40%;
        scrollbar-size-vertical: 1;
    }
    #review-body > ClaudeReviewPanel.-shown { display: block; }
    ReviewScreen.-wide > #review-body > ClaudeReviewPanel {
        width: 42%;
        height: 1fr;
        max-height: 100%;
        border-top: none;
        border-left: solid $primary 40%;
    }
    ReviewScreen > #review-message {
        display: none;
        height: auto;
        max-height: 8;
        padding: 0 1;
        color: $text-error;
        background: $error-muted;
    }
    ReviewScreen > #review-message.-shown { display: block; }
    ReviewScreen > #review-message.-advice { color: $text-warning; background: $warning-muted; }
    """

    AUTO_FOCUS = "#review-files"

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        # The footer shows these in this order and cuts what does not fit (a 60-column pane
        # shows about the first six): landing and leaving first, then the rest.
        Binding("a", "accept", "Accept", id="review.accept"),
        Binding("x", "reject", "Reject", id="review.reject"),
        Binding("space", "toggle_selection", "Select", id="review.select"),
        Binding("s", "toggle_split", "Split", id="review.split"),
        Binding("b", "rebase", "Rebase", id="review.rebase"),
        Binding("u", "undo_rebase", "Undo rebase", id="review.undo-rebase"),
        Binding("escape", "back", "Back", id="review.back"),
        Binding("c", "rerun_checks", "Checks", id="review.checks"),
        Binding("R", "revise", "Revise", id="review.revise"),
        Binding("C", "claude_review", "Claude", tooltip="Ask Claude to review the branch (read-only); C again stops it",
                id="review.claude-review"),
        Binding("P", "pull_request", "Pull request", id="review.pull-request"),
        Binding("j", "next_file", "Next file", show=False, id="review.next-file"),
        Binding("k", "previous_file", "Previous file", show=False, id="review.previous-file"),
        Binding("n", "next_hunk", "Next hunk", show=False, id="review.next-hunk"),
        Binding("p", "previous_hunk", "Previous hunk", show=False, id="review.previous-hunk"),
        Binding("]", "next_hunk", "Next hunk", show=False, id="review.next-hunk-bracket"),
        Binding("[", "previous_hunk", "Previous hunk", show=False, id="review.previous-hunk-bracket"),
        Binding("tab", "switch_focus", "Files/diff", show=False, id="review.switch-focus"),
        Binding("o", "toggle_output", "Check output", show=False, id="review.checks-output"),
    ]

    # `@on` handlers count only when defined in the screen's own class body: adopt the features'.
    _file_highlighted = LoadingMixin._file_highlighted
    _point_selected = ClaudeReviewMixin._point_selected

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.files: list[FileDiff] | None = None
        self.counted = False  # the files' +/- counts are in (they follow the names)
        self.tip: str | None = None
        self.scope: Scope | None = None
        self.patch: PatchIndex | None = None
        self.selection: dict[str, Chosen] = {}
        self.busy: str | None = None  # preflight | accept | reject | rebase | undo | revise | pr
        self.offer_rebase = False
        self.reviewer: ClaudeReviewer | None = None  # Claude's review while it runs
        self.pr_available = False
        self.pr_reason = ""
        self.split = False
        self.live_checks: RunChecks | None = None  # the checks re-running now
        self._models: OrderedDict[str, FileModel] = OrderedDict()
        self._hunk_counts: dict[str, int] = {}
        self._pending_hunk: int | str = 0
        self._loading = 0  # a generation: results of an older load are dropped
        self._lead: str | None = None  # said before the next advice (what just happened)
        self._pending_line: tuple[str, int] | None = None  # a Claude point's file and line, to show

    @property
    def hybrid(self) -> HybridApp:
        return self.app  # type: ignore[return-value]

    @property
    def repo_name(self) -> str:
        return Path(self.run.repo_root).name

    @property
    def strategy(self) -> str:
        return self.hybrid.context.settings.merge.strategy

    @property
    def checks_running(self) -> bool:
        return self.live_checks is not None

    @property
    def claude_reviewing(self) -> bool:
        return self.reviewer is not None

    @property
    def idle(self) -> bool:
        """Nothing under way that accept, reject, rebase, revise or a pull request must wait for."""
        return not (self.busy or self.checks_running or self.claude_reviewing)

    def compose(self) -> ComposeResult:
        self._load()  # git starts while the widgets are built and styled
        yield Static(id="review-header")
        yield ChecksPanel(id="review-checks")
        yield FileList(id="review-files")
        with Container(id="review-body"):
            yield DiffView(id="review-diff")
            yield ClaudeReviewPanel(self.run.claude_review, id="review-claude")
        yield Static(id="review-message", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        if self.files is None:  # the file list may have come first
            self.query_one(DiffView).show_message("Loading the diff…")
        self._refresh_header()
        self._refresh_checks()
        self.query_one(ClaudeReviewPanel).set_class(self.run.claude_review is not None, "-shown")
        self._worker(self._read_pr_available, "pr-check")

    def on_unmount(self) -> None:
        if self.live_checks is not None:
            self.live_checks.cancel()
        if self.reviewer is not None:
            self.reviewer.cancel()  # its worker goes with the screen; this stops claude gently

    def _worker(self, work: Any, name: str, group: str | None = None) -> None:
        self.run_worker(work, name=name, group=group or name, thread=True, exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        name = worker.name
        if state == WorkerState.SUCCESS:
            result: Any = worker.result
            handler = {
                "files": self._show_files, "counts": self._show_counts, "patch": self._patch_ready,
                "diff": self._show_model, "preflight": self._preflight_done, "land": self._landed,
                "rebase": self._rebased, "checks": self._checks_done, "checks-log": self._show_last_output,
                "revise": self._revision_ready, "claude": self._claude_done, "pr-check": self._pr_checked,
                "pr": self._pr_opened,
            }.get(name)
            if handler is not None:
                handler(result)
        elif state == WorkerState.CANCELLED and name == "claude":
            self.reviewer = None
        elif state == WorkerState.ERROR:
            error = worker.error
            if name in ("preflight", "land", "rebase", "revise", "pr"):
                self.busy = None
                self.refresh_bindings()
            if name == "checks":
                self._checks_ended()
            if name == "pr-check":
                return  # no pull request offered: nothing to say unasked
            if name == "claude":
                self.reviewer = None
                self.query_one(ClaudeReviewPanel).show_error(error or "Claude could not review.")
                self.refresh_bindings()
            elif name == "diff":
                self.query_one(DiffView).show_message(f"Cannot show this file's diff: {error}")
            elif name == "patch":
                self.query_one(DiffView).show_message(f"Cannot read the diff: {error}")
            else:
                self.show_error(error)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("accept", "reject"):
            return True if self.idle else None  # greyed out meanwhile
        if action == "rebase":
            if not self.offer_rebase:
                return False
            return True if self.idle else None
        if action == "undo_rebase":
            if self.run.rebase is None:
                return False
            return True if self.idle else None
        if action in ("rerun_checks", "revise"):
            return True if self.idle else None
        if action == "claude_review":  # C again stops a review under way
            return None if (self.busy or self.checks_running) else True
        if action == "pull_request":
            if not self.pr_available:
                return False
            return True if self.idle else None
        return True

    def action_next_file(self) -> None:
        self.query_one(FileList).action_cursor(1)

    def action_previous_file(self) -> None:
        self.query_one(FileList).action_cursor(-1)

    def action_next_hunk(self) -> None:
        if self.query_one(DiffView).move_hunk(1):
            return
        file_list = self.query_one(FileList)
        if self.files and file_list.cursor + 1 < len(self.files):
            self._pending_hunk = 0
            file_list.move_to(file_list.cursor + 1)

    def action_previous_hunk(self) -> None:
        if self.query_one(DiffView).move_hunk(-1):
            return
        file_list = self.query_one(FileList)
        if self.files and 0 < file_list.cursor <= len(self.files):
            self._pending_hunk = "last"
            file_list.move_to(min(file_list.cursor, len(self.files)) - 1)

    def action_switch_focus(self) -> None:
        """Files -> diff -> Claude's points (when shown) -> files."""
        file_list, view = self.query_one(FileList), self.query_one(DiffView)
        panel = self.query_one(ClaudeReviewPanel)
        points = panel.query_one(OptionList)
        if file_list.has_focus:
            view.focus()
        elif view.has_focus and panel.has_class("-shown") and points.option_count:
            if points.highlighted is None:
                points.highlighted = 0
            points.focus()
        else:
            file_list.focus()

    def action_toggle_split(self) -> None:
        self.split = not self.split
        self.query_one(DiffView).set_split(self.split)

    def action_back(self) -> None:
        if self.live_checks is not None:
            self.live_checks.cancel()
            self.notify("The checks were stopped.", severity="warning")
        if self.reviewer is not None:
            self.notify("Claude's review was stopped.", severity="warning")
        self.app.pop_screen()

    def _short(self, text: str) -> str:
        return text.replace(self.run.repo_root, self.repo_name)

    def show_error(self, error: BaseException | None) -> None:
        """The message area: what went wrong and, when known, the fix."""
        if isinstance(error, HybridError):
            text = error.message
            if error.fix:
                text += "\nFix: " + error.fix
        else:
            text = f"Unexpected error: {error}"
        self.show_message(text)

    def show_message(self, text: str, *, advice: bool = False) -> None:
        message = self.query_one("#review-message", Static)
        message.update(inert(self._short(text)))  # git's and the agent's words: outside text
        message.set_class(advice, "-advice")
        message.add_class("-shown")

    def clear_message(self) -> None:
        self.query_one("#review-message", Static).remove_class("-shown")

    def message_text(self) -> str | None:
        message = self.query_one("#review-message", Static)
        return str(message.render()) if message.has_class("-shown") else None
