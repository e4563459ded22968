"""`ReviewScreen`: a run's result, file by file and hunk by hunk, with its checks and scope, and
the ways to land it: accept all, accept a selection, reject, rebase first; or to send it back:
revise (the agent resumes its session with a note), Claude's review, a pull request.

What the review knows and does is a `core.review.session.ReviewSession` (no Textual; its git
work is called from thread workers here). The widgets own what they show: `ReviewHeader`
(title, status, branch, "N files, +A -R", scope, selection), `FileList`, `DiffView` (and its
cache of laid-out files), `ChecksPanel` (re-runs the checks itself) and `ClaudeReviewPanel`
(runs Claude's review itself). The screen wires them: its `@work` thread workers post typed
messages (`FilesRead`, `CountsRead`, ...) whose handlers update the session and the widgets;
one handler, `on_worker_state_changed`, says every worker's failure.

Behaviour choices:
- Loading is lazy and in steps: the file list first (`git.diff_names`: git's `--raw`,
  names and status, no content diff; and the scope check against the spec), started from
  `compose` so that git runs while the screen is built; the +/- counts follow, then the whole
  patch, read once; each file is parsed and laid out (`diff_model.prepare_file`) in a worker
  when it is opened, and the last `CACHED_FILES` are kept.
- `space` toggles the file under the list cursor, or the hunk under the diff cursor (a file
  without hunks, binary or mode-only, goes whole). `a` accepts the selection when there is
  one (one commit on the base branch; the run stays under review), else the whole branch with
  `[merge] strategy`. Before asking, a worker runs the merge preflight: a blocking finding
  refuses the accept in the message area with its exact fix; advice (the base moved ahead) is
  said in the confirmation and offers `b` (rebase the run's branch, `u` undoes it).
- The same preflight runs once the files are counted, to offer `b` early; its blocking
  findings wait for `a` (opening a review should not shout).
- `c` lists the checks for approval (`CheckApprovalScreen`: they come from the spec, or the
  plan of a plan run, so they are untrusted), then the panel runs them; their output streams
  into its output pane (`o` shows or hides it, with the last run's output).
- `R` sends the run back (`ReviseScreen`; the note starts as Claude's points when a review
  is shown), then asks for the checks to run after it; a thread worker checks and records
  the revision (a refusal goes to the message area with its fix), then the app opens the run
  screen in this one's place, where the agent resumes its session on the same branch.
- `C` asks Claude for a read-only review, shown beside the diff from 100 columns on, below it
  when narrower; `C` again stops it, and so does leaving the screen. A review the run already
  has is shown when the screen opens (marked when it was of an older tip). Choosing a point
  opens its file at its line.
- `P` (push the branch, open a pull request with gh) is only offered when
  `pull_request.pr_available` says so (a remote and gh on PATH), worked out in a thread when
  the screen opens; it asks first, then notifies the PR's URL.
- Accept, reject, rebase, revise, the checks and the pull request wait for each other, and
  for Claude's review: their keys are greyed out meanwhile.
- A refusal (`ActionFailed`) keeps its message and fix in the message area, not a passing
  toast; nothing else changes. Messages name the repository by its directory name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.message import Message
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState, get_current_worker

from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.land.hunks import PatchIndex, Whole
from hybrid_tui.core.review.session import (
    Busy,
    Chosen,
    LandAction,
    Landed,
    Listing,
    Question,
    RebaseAction,
    ReviewSession,
    describe_selection,
    totals,
)
from hybrid_tui.core.runs import Run
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.hybrid_screen import HybridScreen
from hybrid_tui.ui.review.checks_panel import ChecksPanel
from hybrid_tui.ui.review.claude_panel import ClaudeReviewPanel
from hybrid_tui.ui.review.diff_model import FileModel, prepare_file
from hybrid_tui.ui.review.diff_view import DiffView
from hybrid_tui.ui.review.file_list import MARK_ALL, MARK_SOME, FileList
from hybrid_tui.ui.review.header import ReviewHeader

if TYPE_CHECKING:
    from hybrid_tui.core.git import FileDiff
    from hybrid_tui.core.land.merge import Finding
    from hybrid_tui.core.review.claude_review import ClaudeReviewer

__all__ = ["CACHED_FILES", "ReviewScreen", "describe_selection", "line_position", "totals"]

CACHED_FILES = 8


def line_position(model: FileModel, line: int, split: bool) -> tuple[int, int]:
    """(hunk, row) where `model` shows line `line` of the new file: its row when a hunk holds
    it, else the header row of the hunk nearest to it. (-1, 0) for a file without hunks."""
    best: tuple[int, int, int] | None = None  # (distance, hunk, row)
    starts = model.starts(split)
    for index, hunk in enumerate(model.hunks):
        numbers = [n for n in hunk.new if n]
        for position, number in enumerate(hunk.new):
            if number == line:
                if split:
                    rows = list(hunk.right)
                    position = rows.index(position) if position in rows else 0
                return index, starts[index] + 1 + position
        if numbers:
            distance = min(abs(numbers[0] - line), abs(numbers[-1] - line))
            if best is None or distance < best[0]:
                best = (distance, index, starts[index])
    if best is None:
        return (0, starts[0]) if model.hunks else (-1, 0)
    return best[1], best[2]


class ReviewScreen(HybridScreen):
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

    # -- what the thread workers post --------------------------------------------------------

    @dataclass
    class FilesRead(Message):
        listing: Listing

    @dataclass
    class CountsRead(Message):
        generation: int
        files: list[FileDiff]

    @dataclass
    class PatchRead(Message):
        generation: int
        index: PatchIndex

    @dataclass
    class FilePrepared(Message):
        generation: int
        path: str
        model: FileModel

    @dataclass
    class PreflightDone(Message):
        purpose: str  # "advice" (after loading, a landing, a rebase) or "accept"
        selection: dict[str, Chosen] | None
        findings: list[Finding]

    @dataclass
    class LandDone(Message):
        landed: Landed

    @dataclass
    class RebaseDone(Message):
        action: RebaseAction
        run: Run

    @dataclass
    class RevisionReady(Message):
        checks: list[str] | None

    @dataclass
    class PrChecked(Message):
        available: bool
        reason: str

    @dataclass
    class PrOpened(Message):
        url: str

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        self.session = ReviewSession(self.hybrid.context.store, run, self.hybrid.context.settings)
        self._pending_hunk: int | str = 0  # the hunk to put the cursor on when the next file opens
        self._pending_line: tuple[str, int] | None = None  # a Claude point's file and line, to show

    # What tests and the app read of the review, kept by the session and the panels.
    @property
    def files(self) -> list[FileDiff] | None:
        return self.session.files

    @property
    def counted(self) -> bool:
        return self.session.counted

    @property
    def selection(self) -> dict[str, Chosen]:
        return self.session.selection

    @property
    def busy(self) -> str | None:
        return self.session.busy

    @property
    def pr_reason(self) -> str:
        return self.session.pr_reason

    @property
    def checks_running(self) -> bool:
        return self.query_one(ChecksPanel).running

    @property
    def claude_reviewing(self) -> bool:
        return self.query_one(ClaudeReviewPanel).reviewing

    @property
    def reviewer(self) -> ClaudeReviewer | None:
        return self.query_one(ClaudeReviewPanel).reviewer

    @property
    def idle(self) -> bool:
        """Nothing under way that accept, reject, rebase, revise or a pull request must wait for."""
        return not (self.session.busy or self.checks_running or self.claude_reviewing)

    def compose(self) -> ComposeResult:
        self._load()  # git starts while the widgets are built and styled
        yield ReviewHeader(self.run, id="review-header")
        yield ChecksPanel(self.run, id="review-checks")
        yield FileList(id="review-files")
        with Container(id="review-body"):
            yield DiffView(id="review-diff")
            yield ClaudeReviewPanel(self.run.claude_review, id="review-claude")
        yield Static(id="review-message", markup=False)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        if self.session.files is None:  # the file list may have come first
            self.query_one(DiffView).show_message("Loading the diff…")
        self.query_one(ClaudeReviewPanel).set_class(self.run.claude_review is not None, "-shown")
        self._read_pr_available()

    # -- the one handler of worker failures --------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        group, error = event.worker.group, event.worker.error
        if group in ("preflight", "land", "rebase", "revise", "pr"):
            self.session.busy = None
            self.refresh_bindings()
        if group == "pr-check":
            return  # no pull request offered: nothing to say unasked
        if group == "diff":
            self.query_one(DiffView).show_message(f"Cannot show this file's diff: {error}")
        elif group == "patch":
            self.query_one(DiffView).show_message(f"Cannot read the diff: {error}")
        else:
            self.show_error(error)

    def _post(self, message: Message) -> None:
        """Post from a thread worker, unless the worker was cancelled (a newer one replaced it)."""
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    # -- loading -----------------------------------------------------------------------------

    def _load(self) -> None:
        """(Re)load the file list; the counts, the patch and the open file follow."""
        if self.is_mounted:
            self.query_one(DiffView).forget()  # the files laid out for the old tip
        self._read_files(self.session.reload())

    @work(thread=True, group="files", exclusive=True, exit_on_error=False)
    def _read_files(self, generation: int) -> None:
        self._post(self.FilesRead(self.session.read_files(generation)))

    @work(thread=True, group="counts", exclusive=True, exit_on_error=False)
    def _read_counts(self, generation: int, tip: str) -> None:
        self._post(self.CountsRead(generation, self.session.read_counts(tip)))

    @work(thread=True, group="patch", exclusive=True, exit_on_error=False)
    def _read_patch(self, generation: int, tip: str) -> None:
        self._post(self.PatchRead(generation, self.session.read_patch(tip)))

    @work(thread=True, group="diff", exclusive=True, exit_on_error=False)
    def _prepare(self, generation: int, path: str, section: str) -> None:
        self._post(self.FilePrepared(generation, path, prepare_file(section)))

    @on(FilesRead)
    def _show_files(self, message: FilesRead) -> None:
        session = self.session
        if not session.take_files(message.listing):
            return
        files, tip, scope = message.listing.files, message.listing.tip, message.listing.scope
        self.query_one(FileList).set_files(
            files, flagged=session.flagged(), untouched=scope.untouched if scope else None, counted=False,
        )
        if not files:
            self.query_one(DiffView).show_message("No changes on this branch: the agent changed nothing.")
        self.query_one(ClaudeReviewPanel).tip = tip
        self.query_one(ChecksPanel).tip = tip
        self._sync_header()
        self._read_counts(session.generation, tip)  # then the patch and the preflight

    @on(CountsRead)
    def _show_counts(self, message: CountsRead) -> None:
        session = self.session
        if not session.take_counts(message.generation, message.files):
            return
        self.query_one(FileList).set_counts(message.files)
        self._sync_header()
        assert session.tip is not None
        self._read_patch(message.generation, session.tip)
        if not session.busy:
            self._preflight("advice", None)

    @on(PatchRead)
    def _patch_ready(self, message: PatchRead) -> None:
        if not self.session.take_patch(message.generation, message.index):
            return
        row = self.query_one(FileList).current
        if row is not None and row.file is not None:
            self._open(row.path)

    @on(FileList.Highlighted)
    def _file_highlighted(self, event: FileList.Highlighted) -> None:
        row = event.row
        if row.file is None:
            nothing = "" if self.session.files else "No changes on this branch: the agent changed nothing. "
            self.query_one(DiffView).show_message(
                f"{nothing}The spec names {row.path}, but the run did not change it.", row.path)
            return
        self._open(row.path)

    def _open(self, path: str) -> None:
        view = self.query_one(DiffView)
        if (model := view.recall(path)) is not None:
            self._set_model(model, path)
            return
        view.show_message(f"Loading {path}…", path)
        patch = self.session.patch
        if patch is None:
            return  # opened when the patch is read
        section = patch.section(path)
        if section is None:
            view.show_message(f"{path}: not in the patch (the branch moved?)", path)
            return
        self._prepare(self.session.generation, path, section)

    @on(FilePrepared)
    def _show_model(self, message: FilePrepared) -> None:
        if message.generation != self.session.generation:
            return
        path, model = message.path, message.model
        view = self.query_one(DiffView)
        view.remember(path, model, keep=CACHED_FILES)
        self.session.hunk_counts[path] = model.hunk_count
        if view.path == path:  # still the file under the cursor
            self._set_model(model, path)

    def _set_model(self, model: FileModel, path: str) -> None:
        view = self.query_one(DiffView)
        view.set_model(model, path, hunk=self._pending_hunk)
        self._pending_hunk = 0
        view.set_selected(self.session.selection.get(path))
        if self._pending_line is not None and self._pending_line[0] == path:
            self._show_line(self._pending_line[1])

    def _show_line(self, line: int) -> None:
        """Put the diff's cursor on the hunk that shows new line `line`, that line in sight."""
        self._pending_line = None
        view = self.query_one(DiffView)
        if view.model is None:
            return
        hunk, row = line_position(view.model, line, view.split)
        if hunk < 0:
            return
        view.set_cursor(hunk)
        start = view.model.starts(view.split)[hunk]
        view.scroll_to(y=max(start, row - 2), animate=False, immediate=True, force=True)

    def _sync_header(self) -> None:
        header, session = self.query_one(ReviewHeader), self.session
        header.files, header.counted, header.scope = session.files, session.counted, session.scope
        header.selected = session.selection_summary()

    # -- keys and greying out ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        offered = {
            "rebase": self.session.offer_rebase,
            "undo_rebase": self.run.rebase is not None,
            "pull_request": self.session.pr_available,
        }
        if not offered.get(action, True):
            return False
        if action in ("accept", "reject", "rebase", "undo_rebase", "rerun_checks", "revise", "pull_request"):
            return True if self.idle else None  # greyed out meanwhile
        if action == "claude_review":  # C again stops a review under way
            return None if (self.session.busy or self.checks_running) else True
        return True

    def action_next_file(self) -> None:
        self.query_one(FileList).action_cursor(1)

    def action_previous_file(self) -> None:
        self.query_one(FileList).action_cursor(-1)

    def action_next_hunk(self) -> None:
        if self.query_one(DiffView).move_hunk(1):
            return
        file_list, files = self.query_one(FileList), self.session.files
        if files and file_list.cursor + 1 < len(files):
            self._pending_hunk = 0
            file_list.move_to(file_list.cursor + 1)

    def action_previous_hunk(self) -> None:
        if self.query_one(DiffView).move_hunk(-1):
            return
        file_list, files = self.query_one(FileList), self.session.files
        if files and 0 < file_list.cursor <= len(files):
            self._pending_hunk = "last"
            file_list.move_to(min(file_list.cursor, len(files)) - 1)

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
        view = self.query_one(DiffView)
        view.set_split(not view.split)

    def action_back(self) -> None:
        if self.checks_running:
            self.query_one(ChecksPanel).stop()
            self.notify("The checks were stopped.", severity="warning")
        if self.claude_reviewing:
            self.notify("Claude's review was stopped.", severity="warning")
        self.hybrid.go_back()

    # -- the selection -----------------------------------------------------------------------

    def action_toggle_selection(self) -> None:
        view, session = self.query_one(DiffView), self.session
        if view.has_focus and view.model is not None and view.path is not None:
            if view.model.selectable_hunks and view.cursor_hunk >= 0:
                session.toggle_hunk(view.path, view.cursor_hunk, view.model.hunk_count)
            else:
                session.toggle_file(view.path)
        else:
            row = self.query_one(FileList).current
            if row is None or row.file is None:
                return
            session.toggle_file(row.path)
        self._selection_changed()

    def _selection_changed(self) -> None:
        selection = self.session.selection
        marks = {path: MARK_ALL if isinstance(chosen, Whole) else MARK_SOME for path, chosen in selection.items()}
        self.query_one(FileList).set_marks(marks)
        view = self.query_one(DiffView)
        view.set_selected(selection.get(view.path) if view.path else None)
        self._sync_header()

    # -- landing: accept, reject, rebase -----------------------------------------------------

    @work(thread=True, group="preflight", exclusive=True, exit_on_error=False)
    def _preflight(self, purpose: str, selection: dict[str, Chosen] | None) -> None:
        self._post(self.PreflightDone(purpose, selection, self.session.findings(selection)))

    def action_accept(self) -> None:
        if not self.idle or self.session.files is None:
            return
        self._start("preflight")
        self._preflight("accept", self.session.selection_copy())

    @on(PreflightDone)
    def _preflight_done(self, message: PreflightDone) -> None:
        session, findings = self.session, message.findings
        session.take_findings(findings)
        self.refresh_bindings()
        if message.purpose == "advice":
            advice = session.advice_text(findings)
            if advice and not session.busy:
                self.show_message(advice, advice=True)
            return
        self._end()
        if (refusal := session.refusal_text(findings)) is not None:
            self.show_message(refusal)
            return
        selection = message.selection or None
        self._confirm(session.accept_question(selection, findings),
                      lambda: self._land("accept", selection))

    def action_reject(self) -> None:
        if self.idle:
            self._confirm(self.session.reject_question(), lambda: self._land("reject", None))

    def _confirm(self, question: Question, then: Callable[[], object]) -> None:
        def answer(confirmed: bool | None) -> None:
            if confirmed and self.idle:
                then()

        self.app.push_screen(ConfirmScreen(question.title, question.body, question.yes, "Keep reviewing"), answer)

    @work(thread=True, group="land", exclusive=True, exit_on_error=False)
    def _land_in_thread(self, action: LandAction, selection: dict[str, Chosen] | None) -> None:
        self._post(self.LandDone(self.session.land(action, selection)))

    def _land(self, action: LandAction, selection: dict[str, Chosen] | None) -> None:
        self._start(action)
        self._land_in_thread(action, selection)

    @on(LandDone)
    def _landed(self, message: LandDone) -> None:
        session, landed = self.session, message.landed
        self._end()
        title, text = session.landed_text(landed)
        self.notify(text, title=title)
        if landed.action == "partial":
            self.show_message(session.take_partial(landed), advice=True)
            self._selection_changed()
            self._preflight("advice", None)
            return
        self.hybrid.back_to_plans()

    def action_rebase(self) -> None:
        if self.idle and self.session.offer_rebase:
            self._start("rebase")
            self._rebase("rebase")

    def action_undo_rebase(self) -> None:
        if self.idle and self.run.rebase is not None:
            self._start("undo")
            self._rebase("undo")

    @work(thread=True, group="rebase", exclusive=True, exit_on_error=False)
    def _rebase(self, action: RebaseAction) -> None:
        self._post(self.RebaseDone(action, self.session.rebase(action)))

    @on(RebaseDone)
    def _rebased(self, message: RebaseDone) -> None:
        self._end()
        self.show_message(self.session.take_rebase(message.action, message.run), advice=True)
        self._selection_changed()
        self.query_one(DiffView).show_message("Loading the diff…")
        self._load()

    def _start(self, busy: Busy) -> None:
        """Something that the other landing keys wait for is under way."""
        self.session.busy = busy
        self.clear_message()
        self.refresh_bindings()

    def _end(self) -> None:
        self.session.busy = None
        self.refresh_bindings()

    # -- the checks --------------------------------------------------------------------------

    def action_rerun_checks(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.ui.dialogs.check_approval import ask_check_approval

        if (commands := self._check_commands()) is None:
            return
        if not commands:
            what = "plan" if self.run.prompt_source == "plan" else "spec"
            self.notify(f"The {what} names no checks.", markup=False)
            return

        def approved(checks: list[str] | None) -> None:
            if checks and self.idle:
                self.clear_message()
                self.query_one(ChecksPanel).rerun(self.session.store, self.session.settings, checks)
                self.refresh_bindings()

        ask_check_approval(
            self.app, "Run the checks again?", commands, self.session.settings, approved,
            allow_skip=False, approve_label="Run them",
        )  # fmt: skip

    def _check_commands(self) -> list[str] | None:
        """The run's checks (from its spec, or its plan); None, said, when they cannot be read."""
        from hybrid_tui.core.verify import check_commands

        try:
            return check_commands(self.run)
        except HybridError as err:
            self.show_error(err)
            return None

    @on(ChecksPanel.Finished)
    def _checks_done(self, message: ChecksPanel.Finished) -> None:
        self.refresh_bindings()
        if message.error is not None:
            self.show_error(message.error)
            return
        results = message.results or []
        failed = sum(1 for check in results if not check.ok)
        if not results:
            self.notify("The spec names no checks.")
        elif failed:
            self.notify(f"{failed} of {len(results)} checks failed.", severity="warning")
        else:
            self.notify(f"All {len(results)} checks passed." if len(results) > 1 else "The check passed.")

    def action_toggle_output(self) -> None:
        self.query_one(ChecksPanel).toggle_output()

    # -- sending it back: revise, Claude's review, a pull request ----------------------------

    def action_revise(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.ui.dialogs.check_approval import ask_check_approval
        from hybrid_tui.ui.review.revise import ReviseScreen

        def sent(note: str | None) -> None:
            if not (note and self.idle) or (commands := self._check_commands()) is None:
                return

            def approved(checks: list[str] | None) -> None:
                if self.idle:
                    self._start("revise")
                    self._prepare_revision(note, checks)

            ask_check_approval(
                self.app, "Send the note, then run the checks again?", commands, self.session.settings, approved
            )

        note = self.query_one(ClaudeReviewPanel).note() or ""  # Claude's points, when shown
        self.app.push_screen(ReviseScreen(self.run, initial_note=note), sent)

    @work(thread=True, group="revise", exclusive=True, exit_on_error=False)
    def _prepare_revision(self, note: str, checks: list[str] | None) -> None:
        self.session.prepare_revision(note)
        self._post(self.RevisionReady(checks))

    @on(RevisionReady)
    def _revision_ready(self, message: RevisionReady) -> None:
        self._end()
        self.hybrid.open_run(self.run, revision=True, approved_checks=message.checks, replace=True)

    def action_claude_review(self) -> None:
        panel = self.query_one(ClaudeReviewPanel)
        if panel.reviewing:
            panel.stop()  # its worker ends with "cancelled; nothing was stored"
            return
        if self.session.busy or self.checks_running:
            return
        panel.start_review(self.session.store, self.run, self.session.settings.agents.claude)
        self.refresh_bindings()

    @on(ClaudeReviewPanel.Finished)
    def _claude_done(self) -> None:
        self.refresh_bindings()

    @on(ClaudeReviewPanel.PointSelected)
    def _point_selected(self, event: ClaudeReviewPanel.PointSelected) -> None:
        """Open the point's file, at its line when it has one."""
        point = event.point
        file_list = self.query_one(FileList)
        index = file_list.index_of(point.file) if point.file else -1
        if index < 0:
            self.notify(f"{point.file or 'This point'} is not among the files the run changed.", severity="warning")
            return
        path = file_list.rows[index].path
        view = self.query_one(DiffView)
        self._pending_line = (path, point.line) if point.line else None
        if index != file_list.cursor:
            self._pending_hunk = 0
            file_list.move_to(index)  # the diff opens, then `_set_model` finds the line
        elif view.path == path and view.model is not None and point.line:
            self._show_line(point.line)
        view.focus()

    @work(thread=True, group="pr-check", exclusive=True, exit_on_error=False)
    def _read_pr_available(self) -> None:
        self._post(self.PrChecked(*self.session.read_pr_available()))

    @on(PrChecked)
    def _pr_checked(self, message: PrChecked) -> None:
        self.session.take_pr_available((message.available, message.reason))
        self.refresh_bindings()

    def action_pull_request(self) -> None:
        if self.session.pr_available and self.idle:
            self._confirm(self.session.pr_question(), self._open_pull_request_now)

    def _open_pull_request_now(self) -> None:
        self._start("pr")
        self._open_pull_request()

    @work(thread=True, group="pr", exclusive=True, exit_on_error=False)
    def _open_pull_request(self) -> None:
        self._post(self.PrOpened(self.session.open_pull_request()))

    @on(PrOpened)
    def _pr_opened(self, message: PrOpened) -> None:
        self._end()
        self.notify(message.url, title="Pull request opened", timeout=15)

    # -- the message area --------------------------------------------------------------------

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
        message.update(inert(self.session.short(text)))  # git's and the agent's words: outside text
        message.set_class(advice, "-advice")
        message.add_class("-shown")

    def clear_message(self) -> None:
        self.query_one("#review-message", Static).remove_class("-shown")

    def message_text(self) -> str | None:
        message = self.query_one("#review-message", Static)
        return str(message.render()) if message.has_class("-shown") else None
