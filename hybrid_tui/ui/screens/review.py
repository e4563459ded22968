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
- `c` re-runs the checks in a thread (`LiveChecks`; not offered for a plan run, which has no
  spec); their output streams into the panel's output pane (`o` shows or hides it, with the
  last run's output from `checks.log`). Accept, reject and rebase are greyed out while they
  run; leaving the screen stops them.
- `R` sends the run back (`ReviseScreen`): the note starts as Claude's points when a review
  is shown. A thread worker checks and records the revision (`revise.prepare_revision`; a
  refusal goes to the message area with its fix), then the `RunScreen` replaces this screen
  and runs it (`RevisionExecution`: the agent resumes its session on the same branch, the
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
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.markup import escape
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from hybrid_tui.core.errors import HybridError
from hybrid_tui.core.hunks import ALL, Whole
from hybrid_tui.core.runs import Run, Status
from hybrid_tui.ui.screens.confirm import ConfirmScreen
from hybrid_tui.ui.widgets.checks_panel import (
    ChecksPanel,
    LiveChecks,
    last_checks_output,
)
from hybrid_tui.ui.widgets.claude_review import ClaudeReviewPanel
from hybrid_tui.ui.widgets.diff_model import FileModel, PatchIndex, prepare_file
from hybrid_tui.ui.widgets.diff_view import DiffView
from hybrid_tui.ui.widgets.event_log import status_words
from hybrid_tui.ui.widgets.file_list import MARK_ALL, MARK_SOME, FileList

if TYPE_CHECKING:
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.core.claude_review import ClaudeReviewer
    from hybrid_tui.core.merge import Finding
    from hybrid_tui.core.runs import ClaudeReview
    from hybrid_tui.core.scope import Scope
    from hybrid_tui.core.workspace import FileDiff
    from hybrid_tui.ui.app import HybridApp

CACHED_FILES = 8
Chosen = set[int] | Whole


def totals(files: list[FileDiff]) -> str:
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    return f"{len(files)} file{'' if len(files) == 1 else 's'}, +{added} -{removed}"


def _numbers(indexes: list[int]) -> str:
    shown = [str(i + 1) for i in sorted(indexes)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def describe_selection(selection: dict[str, Chosen], hunk_counts: dict[str, int]) -> list[str]:
    """One line per selected file: "numbers.txt: hunks 1 and 3 of 3" or "new.txt: whole file"."""
    lines = []
    for path, chosen in selection.items():
        total = hunk_counts.get(path)
        if chosen is ALL or (total is not None and len(chosen) == total):
            lines.append(f"{path}: whole file")
        else:
            word = "hunk" if len(chosen) == 1 else "hunks"
            lines.append(f"{path}: {word} {_numbers(list(chosen))}" + (f" of {total}" if total else ""))
    return lines


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

    class ChecksOutput(Message):
        """Output of the re-running checks (posted from their thread)."""

        def __init__(self, events: list[AgentEvent]) -> None:
            super().__init__()
            self.events = events

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
        self.live_checks: LiveChecks | None = None
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

    # -- loading (thread workers) --------------------------------------------------------

    def _worker(self, work: Any, name: str, group: str | None = None) -> None:
        self.run_worker(work, name=name, group=group or name, thread=True, exclusive=True, exit_on_error=False)

    def _load(self) -> None:
        """(Re)load the file list; the patch and the open file follow."""
        self._loading += 1
        self.patch = None
        self._models.clear()
        self._hunk_counts.clear()
        generation = self._loading
        self._worker(lambda: (generation, *self._read_files()), "files")

    def _read_files(self) -> tuple[list[FileDiff], str, Scope | None]:
        """The changed files by name and status (no counts yet), the tip, the scope check."""
        from hybrid_tui.core.land import run_scope, run_tip
        from hybrid_tui.core.workspace import diff_names

        tip = run_tip(self.run)
        files = diff_names(Path(self.run.repo_root), self.run.base_sha, tip)
        return files, tip, run_scope(self.run, files)

    def _read_counts(self, generation: int, tip: str) -> tuple[int, list[FileDiff]]:
        from hybrid_tui.core import workspace

        return generation, workspace.diff_files(Path(self.run.repo_root), self.run.base_sha, tip)

    def _read_patch(self, generation: int, tip: str) -> tuple[int, PatchIndex]:
        from hybrid_tui.core import workspace

        return generation, PatchIndex(workspace.patch_text(Path(self.run.repo_root), self.run.base_sha, tip))

    def _prepare(self, generation: int, path: str, section: str) -> tuple[int, str, FileModel]:
        return generation, path, prepare_file(section)

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

    def _show_files(self, result: tuple[int, list[FileDiff], str, Scope | None]) -> None:
        generation, files, tip, scope = result
        if generation != self._loading:
            return
        self.files, self.tip, self.scope = files, tip, scope
        self.counted = False
        file_list = self.query_one(FileList)
        file_list.set_files(
            files,
            flagged={f.path for f in files if scope.flags(f)} if scope else None,
            untouched=scope.untouched if scope else None,
            counted=False,
        )
        if not files:
            self.query_one(DiffView).show_message("No changes on this branch: the agent changed nothing.")
        panel = self.query_one(ClaudeReviewPanel)
        if panel.review is not None and not self.claude_reviewing:
            panel.show_review(panel.review, tip=tip)  # says when it was of an older tip
        self._refresh_header()
        self._refresh_checks()
        # Then the counts (a diff of every file); then the patch and the preflight.
        self._worker(lambda: self._read_counts(generation, tip), "counts")

    def _show_counts(self, result: tuple[int, list[FileDiff]]) -> None:
        generation, files = result
        if generation != self._loading:
            return
        self.files, self.counted = files, True
        self.query_one(FileList).set_counts(files)
        self._refresh_header()
        tip = self.tip
        assert tip is not None
        self._worker(lambda: self._read_patch(generation, tip), "patch")
        if not self.busy:
            self._worker(lambda: ("advice", None, self._findings(None)), "preflight")

    def _patch_ready(self, result: tuple[int, PatchIndex]) -> None:
        generation, index = result
        if generation != self._loading:
            return
        self.patch = index
        row = self.query_one(FileList).current
        if row is not None and row.file is not None:
            self._open(row.path)

    @on(FileList.Highlighted)
    def _file_highlighted(self, event: FileList.Highlighted) -> None:
        row = event.row
        view = self.query_one(DiffView)
        if row.file is None:
            nothing = "" if self.files else "No changes on this branch: the agent changed nothing. "
            view.show_message(f"{nothing}The spec names {row.path}, but the run did not change it.", row.path)
            return
        self._open(row.path)

    def _open(self, path: str) -> None:
        view = self.query_one(DiffView)
        if (model := self._models.get(path)) is not None:
            self._models.move_to_end(path)
            self._set_model(model, path)
            return
        view.show_message(f"Loading {path}…", path)
        if self.patch is None:
            return  # opened when the patch is read
        section = self.patch.section(path)
        if section is None:
            view.show_message(f"{path}: not in the patch (the branch moved?)", path)
            return
        generation = self._loading
        self._worker(lambda: self._prepare(generation, path, section), "diff")

    def _show_model(self, result: tuple[int, str, FileModel]) -> None:
        generation, path, model = result
        if generation != self._loading:
            return
        self._models[path] = model
        self._hunk_counts[path] = model.hunk_count
        while len(self._models) > CACHED_FILES:
            self._models.popitem(last=False)
        if self.query_one(DiffView).path == path:  # still the file under the cursor
            self._set_model(model, path)

    def _set_model(self, model: FileModel, path: str) -> None:
        view = self.query_one(DiffView)
        view.set_model(model, path, hunk=self._pending_hunk)
        self._pending_hunk = 0
        view.set_selected(self.selection.get(path))
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

    # -- header, checks and messages -----------------------------------------------------

    def _refresh_header(self) -> None:
        run = self.run
        status = status_words(run.status.value, run.failure_kind)
        colour = "$success" if run.status in (Status.REVIEW, Status.ACCEPTED) else "$warning"
        if run.status in (Status.FAILED, Status.TIMED_OUT):
            colour = "$error"
        first = f"[b]{escape(run.title)}[/b] · [{colour}]{escape(status)}[/]"
        if run.partial_accepts:
            count = len(run.partial_accepts)
            first += f" · [$text-success]{count} part{'s' if count > 1 else ''} accepted[/]"
        second = f"[$text-muted]{escape(run.branch)} → {escape(run.base_branch)}@{run.base_sha[:7]}[/]"
        if run.rebase is not None:
            second += " [$text-warning](rebased · u undoes)[/]"
        lines = [first, second]
        if run.failure_kind and run.message:
            lines.append(f"[{colour}]{escape(self._short(run.message))}[/]")
        if self.files is None:
            lines.append("[$text-muted]Loading files…[/]")
        else:
            many = "" if len(self.files) == 1 else "s"
            facts = [totals(self.files) if self.counted else f"{len(self.files)} file{many}, counting…"]
            scope = self.scope
            if scope is not None and scope.out_of_scope:
                facts.append(f"[$text-warning]! {len(scope.out_of_scope)} not in the spec[/]")
            if scope is not None and scope.untouched:
                facts.append(f"[$text-muted]{len(scope.untouched)} untouched[/]")
            if self.selection:
                facts.append(f"[$text-success]{self._selection_summary()}[/]")
            lines.append(" · ".join(facts))
        self.query_one("#review-header", Static).update("\n".join(lines))

    def _selection_summary(self) -> str:
        whole = sum(1 for c in self.selection.values() if c is ALL)
        hunks = sum(len(c) for c in self.selection.values() if c is not ALL)
        parts = []
        if whole:
            parts.append(f"{whole} file{'s' if whole > 1 else ''}")
        if hunks:
            parts.append(f"{hunks} hunk{'s' if hunks > 1 else ''}")
        return "● " + " + ".join(parts) + " selected"

    def _refresh_checks(self) -> None:
        self.query_one(ChecksPanel).show_checks(self.run, self.tip)

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
        message.update(self._short(text))
        message.set_class(advice, "-advice")
        message.add_class("-shown")

    def clear_message(self) -> None:
        self.query_one("#review-message", Static).remove_class("-shown")

    def message_text(self) -> str | None:
        message = self.query_one("#review-message", Static)
        return str(message.render()) if message.has_class("-shown") else None

    # -- keys: moving --------------------------------------------------------------------

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
        if action == "rerun_checks" and self.run.prompt_source == "plan":
            return False  # the plan was the prompt: no spec, no checks to run
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

    # -- keys: selection -----------------------------------------------------------------

    def action_toggle_selection(self) -> None:
        view = self.query_one(DiffView)
        if view.has_focus and view.model is not None and view.path is not None:
            if view.model.selectable_hunks and view.cursor_hunk >= 0:
                self._toggle_hunk(view.path, view.cursor_hunk, view.model.hunk_count)
            else:
                self._toggle_file(view.path)
            return
        row = self.query_one(FileList).current
        if row is None or row.file is None:
            return
        self._toggle_file(row.path)

    def _toggle_file(self, path: str) -> None:
        if path in self.selection:
            del self.selection[path]
        else:
            self.selection[path] = ALL
        self._selection_changed()

    def _toggle_hunk(self, path: str, hunk: int, count: int) -> None:
        chosen = self.selection.get(path)
        indexes = set(range(count)) if chosen is ALL else set(chosen or ())
        indexes ^= {hunk}
        if not indexes:
            self.selection.pop(path, None)
        else:
            self.selection[path] = ALL if len(indexes) == count else indexes
        self._selection_changed()

    def _selection_changed(self) -> None:
        marks = {path: MARK_ALL if chosen is ALL else MARK_SOME for path, chosen in self.selection.items()}
        self.query_one(FileList).set_marks(marks)
        view = self.query_one(DiffView)
        view.set_selected(self.selection.get(view.path) if view.path else None)
        self._refresh_header()

    # -- keys: checks --------------------------------------------------------------------

    def action_rerun_checks(self) -> None:
        if not self.idle:
            return
        store = self.hybrid.context.store
        assert store is not None
        panel = self.query_one(ChecksPanel)
        self.clear_message()
        live = self.live_checks = LiveChecks(
            store, self.run, timeout=self.hybrid.context.settings.review.check_timeout,
            sink=lambda events: self.post_message(self.ChecksOutput(events)),
        )
        panel.running = True
        panel.start_output()
        self._refresh_checks()
        self.refresh_bindings()
        self._worker(live.run_blocking, "checks")

    @on(ChecksOutput)
    def _checks_output(self, message: ChecksOutput) -> None:
        self.query_one(ChecksPanel).add_output(message.events)

    def _checks_done(self, results: list) -> None:
        self._checks_ended()
        failed = sum(1 for check in results if not check.ok)
        if not results:
            self.notify("The spec names no checks.")
        elif failed:
            self.notify(f"{failed} of {len(results)} checks failed.", severity="warning")
        else:
            self.notify(f"All {len(results)} checks passed." if len(results) > 1 else "The check passed.")

    def _checks_ended(self) -> None:
        self.live_checks = None
        self.query_one(ChecksPanel).running = False
        self._refresh_checks()
        self.refresh_bindings()

    def action_toggle_output(self) -> None:
        panel = self.query_one(ChecksPanel)
        if panel.output_shown:
            panel.show_output(False)
            return
        panel.show_output(True)
        if not panel.output_loaded and not self.checks_running:
            store = self.hybrid.context.store
            assert store is not None
            path = store.checks_log_path(self.run.id)
            self._worker(lambda: last_checks_output(path), "checks-log")

    def _show_last_output(self, lines: list[str]) -> None:
        from hybrid_tui.agents.events import Text

        panel = self.query_one(ChecksPanel)
        panel.output_loaded = True
        panel.output.clear()
        panel.add_output([Text(line, raw=True) for line in lines] or [Text("(no output recorded)", raw=True)])

    # -- keys: landing -------------------------------------------------------------------

    def _findings(self, selection: dict[str, Chosen] | None) -> list[Finding]:
        """What stands in the way of accepting (thread worker): the whole branch, or the
        selection (the paths its hunks change, see `merge.preflight`)."""
        from hybrid_tui.core.merge import preflight

        if not selection:
            return preflight(self.run, self.strategy)
        from hybrid_tui.core.hunks import parse_hunks, selected_paths

        index = self.patch
        if index is None:
            assert self.tip is not None
            index = self._read_patch(0, self.tip)[1]
        files = [entry for path in selection for entry in parse_hunks(index.section(path) or "")]
        return preflight(self.run, self.strategy, paths=set(selected_paths(files, selection)))

    def _finding_text(self, finding: Finding) -> str:
        if finding.kind == "base_moved":
            run = self.run
            how = "the rebase strategy rebases first." if self.strategy == "rebase" else "the merge combines both sides."
            return (f"{finding.problem} b rebases {run.branch} onto {run.base_branch} (u undoes it); "
                    f"or accept as it is: {how}")
        return f"{finding.problem}\nFix: {finding.fix}"

    def _take_findings(self, findings: list[Finding]) -> None:
        self.offer_rebase = any(f.kind == "base_moved" for f in findings) and not any(
            f.kind == "conflict" for f in findings)
        self.refresh_bindings()

    def action_accept(self) -> None:
        if not self.idle or self.files is None:
            return
        self.clear_message()
        self.busy = "preflight"
        self.refresh_bindings()
        selection = {path: (chosen if chosen is ALL else set(chosen)) for path, chosen in self.selection.items()}
        self._worker(lambda: ("accept", selection, self._findings(selection)), "preflight")

    def _preflight_done(self, result: tuple[str, dict[str, Chosen] | None, list[Finding]]) -> None:
        purpose, selection, findings = result
        self._take_findings(findings)
        if purpose == "advice":
            advice = [f for f in findings if not f.blocking]
            lead, self._lead = self._lead, None
            if advice and not self.busy:
                self.show_message("\n".join([*([lead] if lead else []), *map(self._finding_text, advice)]),
                                  advice=True)
            return
        self.busy = None
        self.refresh_bindings()
        blocking = [f for f in findings if f.blocking]
        if blocking:
            text = self._finding_text(blocking[0]) + "".join(f"\nAlso: {f.problem}" for f in blocking[1:])
            self.show_message(text)
            return
        notes = "".join(f"\n\nNote: {f.problem}" for f in findings)
        if selection:
            self._confirm_selection(selection, notes)
        else:
            self._confirm_all(notes)

    def _confirm_all(self, notes: str) -> None:
        run, repo = self.run, self.repo_name
        strategy = self.strategy
        if strategy == "squash":
            body = (f"Squash {run.branch} into one commit on {run.base_branch} in {repo}; its tip is kept "
                    f"as refs/hybrid-tui/accepted/{run.id}. The worktree and the branch are removed afterwards.")
        elif strategy == "rebase":
            body = (f"Rebase {run.branch} onto {run.base_branch}, then fast-forward {run.base_branch} in "
                    f"{repo} to it. The worktree and the branch are removed afterwards.")
        else:
            body = (f"Merge {run.branch} into {run.base_branch} in {repo} (git merge --no-ff). "
                    "The worktree and the branch are removed afterwards.")
        self._confirm("accept", "Accept the run?", body + notes, "Accept", None)

    def _confirm_selection(self, selection: dict[str, Chosen], notes: str) -> None:
        run = self.run
        listed = "\n".join(f"- {line}" for line in describe_selection(selection, self._hunk_counts))
        body = (f"Land as one commit on {run.base_branch} in {self.repo_name}:\n{listed}\n"
                f"The rest stays on {run.branch} for a later look.")
        self._confirm("accept", "Accept the selection?", body + notes, "Accept selection", selection)

    def action_reject(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.core.land import (
            REJECTED_REF,  # loaded already by the file-list worker
        )

        run = self.run
        tip = (self.tip or run.head_sha or "")[:7] or "(unknown)"
        ref = REJECTED_REF.format(run_id=run.id)
        self._confirm(
            "reject", "Reject the run?",
            f"Delete branch {run.branch} and its worktree. Its tip {tip} is kept as {ref}.", "Reject", None,
        )

    def _confirm(self, action: str, title: str, body: str, yes: str, selection: dict[str, Chosen] | None) -> None:
        def answer(confirmed: bool | None) -> None:
            if confirmed and self.idle:
                self.busy = action
                self.clear_message()
                self.refresh_bindings()
                self._worker(lambda: self._land(action, selection), "land")

        self.app.push_screen(ConfirmScreen(title, body, yes, "Keep reviewing"), answer)

    def _land(self, action: str, selection: dict[str, Chosen] | None) -> tuple[str, Any]:
        from hybrid_tui.core.land import accept_run, reject_run

        store = self.hybrid.context.store
        assert store is not None
        if action == "reject":
            return "reject", reject_run(store, self.run)
        if selection:
            from hybrid_tui.core.partial import accept_selection

            return "partial", (accept_selection(store, self.run, selection), selection)
        return "accept", accept_run(store, self.run, self.strategy)

    def _landed(self, result: tuple[str, Any]) -> None:
        action, value = result
        self.busy = None
        self.refresh_bindings()
        run = self.run
        if action == "partial":
            sha, selection = value
            listed = "; ".join(describe_selection(selection, self._hunk_counts))
            self.selection.clear()
            self._selection_changed()
            self.notify(f"Landed on {run.base_branch} as {sha[:7]}.", title="Selection accepted")
            self._lead = f"Landed on {run.base_branch} as {sha[:7]}: {listed}. The rest stays on {run.branch}."
            self.show_message(self._lead, advice=True)
            self._refresh_header()
            self._worker(lambda: ("advice", None, self._findings(None)), "preflight")
            return
        if action == "accept":
            how = {"squash": "squashed onto", "rebase": "rebased onto"}.get(run.strategy or "", "merged into")
            self.notify(f"Accepted: {run.branch} {how} {run.base_branch}.", title="Run accepted")
        else:
            self.notify(f"Rejected: {run.branch} deleted; its tip is kept as {run.rejected_ref}.",
                        title="Run rejected")
        self.hybrid.back_to_plans()

    # -- keys: rebase --------------------------------------------------------------------

    def action_rebase(self) -> None:
        if not self.idle or not self.offer_rebase:
            return
        self._start_rebase("rebase")

    def action_undo_rebase(self) -> None:
        if not self.idle or self.run.rebase is None:
            return
        self._start_rebase("undo")

    def _start_rebase(self, action: str) -> None:
        self.busy = action
        self.clear_message()
        self.refresh_bindings()
        self._worker(lambda: self._do_rebase(action), "rebase")

    def _do_rebase(self, action: str) -> tuple[str, Run]:
        from hybrid_tui.core.merge import rebase_run, undo_rebase

        store = self.hybrid.context.store
        assert store is not None
        return action, (rebase_run if action == "rebase" else undo_rebase)(store, self.run)

    def _rebased(self, result: tuple[str, Run]) -> None:
        action, run = result
        self.busy = None
        self.offer_rebase = False
        self.selection.clear()
        self._selection_changed()
        self.refresh_bindings()
        if action == "rebase":
            self.show_message(
                f"Rebased {run.branch} onto {run.base_branch} ({run.base_sha[:7]}); u undoes it.", advice=True)
        else:
            self.show_message(f"Undid the rebase: {run.branch} is back on {run.base_sha[:7]}.", advice=True)
        self._refresh_header()
        self.query_one(DiffView).show_message("Loading the diff…")
        self._load()

    # -- keys: revise ---------------------------------------------------------------------

    def action_revise(self) -> None:
        if not self.idle:
            return
        from hybrid_tui.ui.screens.revise import ReviseScreen

        note = self.query_one(ClaudeReviewPanel).note() or ""  # Claude's points, when shown

        def sent(text: str | None) -> None:
            if text and self.idle:
                self.busy = "revise"
                self.clear_message()
                self.refresh_bindings()
                self._worker(lambda: self._prepare_revision(text), "revise")

        self.app.push_screen(ReviseScreen(self.run, initial_note=note), sent)

    def _prepare_revision(self, note: str) -> str:
        """Check and record the revision (thread worker: git); the prompt for the agent."""
        from hybrid_tui.core.revise import agent_for_run, prepare_revision

        context = self.hybrid.context
        agent = agent_for_run(self.run, context.settings)
        prompt, _ = prepare_revision(context.store, self.run, note, agent=agent)
        return prompt

    def _revision_ready(self, prompt: str) -> None:
        from hybrid_tui.ui.screens.run import RunScreen

        self.busy = None
        self.app.switch_screen(RunScreen(self.run, revision_prompt=prompt))

    # -- keys: Claude's review -------------------------------------------------------------

    def action_claude_review(self) -> None:
        if self.reviewer is not None:
            self.reviewer.cancel()  # its worker ends with "cancelled; nothing was stored"
            return
        if self.busy or self.checks_running:
            return
        from hybrid_tui.core.claude_review import ClaudeReviewer

        context = self.hybrid.context
        reviewer = self.reviewer = ClaudeReviewer(context.store, self.run, context.settings.agents.claude)
        panel = self.query_one(ClaudeReviewPanel)
        panel.show_pending()
        panel.add_class("-shown")
        self.refresh_bindings()
        self.run_worker(self._claude_review(reviewer), name="claude", group="claude", exclusive=True,
                        exit_on_error=False)

    async def _claude_review(self, reviewer: ClaudeReviewer) -> tuple[ClaudeReview, str | None]:
        """The review (async worker: Claude's process on the app's loop, the git work that
        builds the prompt in a thread)."""
        import asyncio

        await asyncio.to_thread(reviewer.prepare)
        return await reviewer.start(), reviewer.tip

    def _claude_done(self, result: tuple[ClaudeReview, str | None]) -> None:
        review, tip = result
        self.reviewer = None
        self.query_one(ClaudeReviewPanel).show_review(review, tip=self.tip or tip)
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

    # -- keys: pull request ---------------------------------------------------------------

    def _read_pr_available(self) -> tuple[bool, str]:
        from hybrid_tui.core.pull_request import pr_available

        return pr_available(self.run)

    def _pr_checked(self, result: tuple[bool, str]) -> None:
        self.pr_available, self.pr_reason = result
        self.refresh_bindings()

    def action_pull_request(self) -> None:
        if not (self.pr_available and self.idle):
            return

        def answer(confirmed: bool | None) -> None:
            if confirmed and self.idle:
                self.busy = "pr"
                self.clear_message()
                self.refresh_bindings()
                self._worker(self._open_pull_request, "pr")

        what = self.pr_reason[:1].upper() + self.pr_reason[1:]
        self.app.push_screen(ConfirmScreen(
            "Open a pull request?", f"{what}; the spec is its description.", "Open pull request", "Keep reviewing",
        ), answer)

    def _open_pull_request(self) -> str:
        from hybrid_tui.core.pull_request import open_pull_request

        return open_pull_request(self.hybrid.context.store, self.run)

    def _pr_opened(self, url: str) -> None:
        self.busy = None
        self.refresh_bindings()
        self.notify(url, title="Pull request opened", timeout=15)

    def action_back(self) -> None:
        if self.live_checks is not None:
            self.live_checks.cancel()
            self.notify("The checks were stopped.", severity="warning")
        if self.reviewer is not None:
            self.notify("Claude's review was stopped.", severity="warning")
        self.app.pop_screen()
