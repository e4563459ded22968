"""The Spec screen: the plan converted into a spec, edited, validated as you type, then run.

Layout: a header line (plan file -> Kimi, base branch@sha), a status line when something stops
the run (not a git repository, detached HEAD, a plan that cannot be read), the spec in a
`TextArea.code_editor(language="markdown")` (highlighted when Textual's syntax extra is
installed; imported after the first frame), and below it a problems panel: one row per
finding, `line N: error|warning: message`, counted in the panel's title.

Behaviour choices:
- Loading runs in a thread worker (`load_spec_source`, no Textual): GitPython opens the
  project, reads HEAD's branch and tree, the store gives the next spec number, and the plan is
  converted against that tree. When the repository is not usable (not a git repository,
  detached HEAD, no commits) the plan is still converted (without a tree) so it can be read
  and edited, and the reason is shown above the editor; `ctrl+r` then reports the same reason
  (it asks git again, so fixing the checkout meanwhile works).
- Validation (`validate_spec` with the tree from the loader) runs on load and again 150 ms
  after the last keystroke (one timer, restarted on each `TextArea.Changed`).
- `enter` or a click on a problem, or `f8` (next problem after the cursor, wrapping), moves
  the editor's cursor to that line and focuses the editor.
- Control characters of the plan (or of Claude's conversion, or pasted) are in the editor as
  inert text (`\x1b` for ESC, `core.inert`), never raw: the terminal cannot be driven by them,
  and that text is what runs.
- `ctrl+r` runs exactly the text in the editor. It validates first, at once; with errors
  nothing is started and a notification names the first one. Otherwise, when the spec names
  checks, `CheckApprovalScreen` lists them (risks under each): y runs the agent and then them,
  s the agent alone (the run records its checks as not approved), n nothing. Then `prepare_run` (kimi
  agent from the settings) runs in a thread worker; an `InputError` (spec, git, agent missing)
  becomes a notification with its message and fix, and nothing else happens. Such a "Not run"
  notification is taken back once it no longer holds: the errors fixed, or the run started.
  On success the screen is replaced by `RunScreen(run, warnings=...)`, so leaving the run
  returns to the plans.
- `ctrl+l` converts the plan with Claude (`convert_with_claude_async`: `claude -p`, read-only,
  in the repository root) in an async worker on the UI loop: there is no git work in it (the
  tree comes from the loader) and the agent's I/O is non-blocking, and cancelling the worker
  (leaving the screen, quitting) stops Claude's whole process group. When Claude's spec
  validates without errors it replaces the editor's text as one edit (`ctrl+z` brings the
  previous text back; like any edit it is kept as the plan's draft) and a notification says
  so; otherwise the text stays as it is and a notification says why (Claude missing with its
  install hint, an API error, an invalid spec with its first problems). `ctrl+r` waits while Claude is converting.
- `escape` goes back to the plans without asking. The edited text is kept for the session, per
  plan path, in the `drafts` dict the Plans screen owns, stamped with the plan's mtime and
  size: opening the same plan again shows the edit, unless Claude rewrote the plan since, in
  which case the plan is converted afresh and a notification says the old edit was dropped.
  An unedited spec keeps no draft, and a draft is dropped once it has been run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from hybrid_tui.core.errors import HybridError, InputError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.plan.plans import Plan, read_plan
from hybrid_tui.core.spec.format import Problem, validate_spec
from hybrid_tui.ui.hybrid_screen import HybridScreen

if TYPE_CHECKING:
    from textual.widgets import TextArea

    from hybrid_tui.core.run.dispatch import Prepared
    from hybrid_tui.core.runs import RunStore
    from hybrid_tui.core.spec.convert.with_claude import ClaudeConversion

VALIDATE_DELAY = 0.15
"""Seconds after the last keystroke before the spec is validated again."""


@dataclass(frozen=True)
class Draft:
    """An edited spec kept for the session: its text and the plan's (mtime, size) then."""

    text: str
    stamp: tuple[float, int]


@dataclass(frozen=True)
class SpecSource:
    """What the editor starts from. `text` is None when the plan could not be read; `blocker`
    says why this spec cannot run as things stand (None: nothing known against it)."""

    text: str | None
    tree: set[str] | None
    base: str
    blocker: str | None
    number: int = 1
    root: Path | None = None  # the project root (None when the repository could not be read)


def plan_stamp(plan: Plan) -> tuple[float, int]:
    return (plan.mtime, plan.size)


def load_spec_source(
    repo_path: Path, plan: Plan, store: RunStore, draft_text: str | None = None
) -> SpecSource:
    """Read the repository (GitPython) and convert `plan` against HEAD's tree; with
    `draft_text` the draft is used instead of a fresh conversion. Never raises `InputError`:
    a bad repository or plan becomes `blocker`."""
    from hybrid_tui.core import git
    from hybrid_tui.core.spec.convert import convert_plan
    from hybrid_tui.core.spec.format import render_spec

    root = Path(repo_path).resolve()
    project: Path | None = None
    tree: set[str] | None = None
    base = ""
    blocker: str | None = None
    try:
        repo = git.open_project(root)
        root = project = git.project_root(repo)
        branch, sha = git.head_branch(repo)
        tree = git.tree_paths(repo, sha)
        base = f"{branch}@{sha[:7]}"
    except InputError as err:
        blocker = str(err)
    number = store.next_number(root)
    if draft_text is not None:
        return SpecSource(draft_text, tree, base, blocker, number, project)
    try:
        plan_text = read_plan(plan.path)
    except InputError as err:
        return SpecSource(None, tree, base, str(err), number, project)
    spec = convert_plan(plan_text, source=plan.path.name, number=number, base=base, tree=tree, root=str(root))
    return SpecSource(render_spec(spec), tree, base, blocker, number, project)


def problem_row(problem: Problem) -> Content:
    """`line N: error: message`, the severity coloured (the message is not markup)."""
    colour = "$error" if problem.severity == "error" else "$warning"
    where = f"line {problem.line}: " if problem.line else "spec: "
    return Content.from_markup(
        f"[$text-muted]$where[/][{colour} bold]$severity[/]: $message",
        where=where,
        severity=problem.severity,
        message=inert(problem.message, one_line=True),  # it may quote the spec
    )


def count_text(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "No problems"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return " · ".join(parts)


class SpecScreen(HybridScreen):
    """Edit and run the spec for one plan."""

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="spec.run"),
        Binding("f8", "next_problem", "Next problem", id="spec.next-problem"),
        Binding("ctrl+l", "convert_with_claude", "Convert with Claude", id="spec.claude"),
        Binding("escape", "back", "Plans", priority=True, id="spec.back"),
    ]

    def __init__(self, plan: Plan, *, drafts: dict[Path, Draft] | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.drafts = drafts if drafts is not None else {}
        self.source: SpecSource | None = None
        self.problems: list[Problem] = []
        self.dispatching = False
        self._approved_checks: list[str] | None = []  # what the user approved at ctrl+r
        self.converting = False
        self._original: str | None = None
        self._editor: TextArea | None = None
        self._timer: Timer | None = None

    @property
    def text(self) -> str | None:
        """The spec as edited (None until loaded, or when the plan could not be read)."""
        return self._editor.text if self._editor is not None else None

    def compose(self) -> ComposeResult:
        yield Static(Content(inert(f"{self.plan.name} → Kimi", one_line=True)), id="spec-header", classes="screen-header")
        yield Static(id="spec-status")
        yield Container(id="spec-editor-pane")
        yield OptionList(id="spec-problems")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._status(f"Converting {self.plan.name}…")
        self.query_one("#spec-problems").display = False
        draft = self.drafts.get(self.plan.path)
        draft_text = None
        if draft is not None:
            if draft.stamp == plan_stamp(self.plan):
                draft_text = draft.text
            else:
                del self.drafts[self.plan.path]
                self.notify(
                    f"{self.plan.name} changed since you edited its spec: converted afresh, "
                    "the earlier edit was dropped.",
                    severity="warning",
                    timeout=8,
                    markup=False,
                )
        self._load(draft_text)

    def _status(self, text: str | None, *, error: bool = False) -> None:
        status = self.query_one("#spec-status", Static)
        status.update(Content(inert(text or "")))
        status.display = bool(text)
        status.set_class(error, "-error")

    # -- loading -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="spec-load")
    def _load(self, draft_text: str | None) -> SpecSource:
        return load_spec_source(self.context.repo, self.plan, self.context.store, draft_text)

    async def _loaded(self, source: SpecSource) -> None:
        self.source = source
        if source.base:
            header = self.query_one("#spec-header", Static)
            header.update(Content(inert(f"{self.plan.name} → Kimi · base {source.base}", one_line=True)))
        self._status(source.blocker, error=True)
        if source.text is None:
            return
        from hybrid_tui.ui.widgets.inert_text_area import InertTextArea

        # The plan's (or the draft's) control characters show as `\x1b`... text, and that text
        # is what runs: the editor never draws them raw (core.inert).
        text = inert(source.text)
        self._original = text if self.plan.path not in self.drafts else None
        self._editor = InertTextArea.code_editor(
            text, language="markdown", theme="css", soft_wrap=True, id="spec-editor"
        )
        await self.query_one("#spec-editor-pane").mount(self._editor)
        self.query_one("#spec-problems").display = True
        self._editor.focus()
        self.validate()

    # -- validation --------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#spec-problems")
    def _problem_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._jump(self.problems[event.option_index])

    def on_text_area_changed(self, event: object) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(VALIDATE_DELAY, self.validate)

    def validate(self) -> list[Problem]:
        """Validate the editor's text now and show the problems; returns them."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.text
        if text is None or self.source is None:
            return []
        _, self.problems = validate_spec(text, tree=self.source.tree)
        panel = self.query_one("#spec-problems", OptionList)
        panel.border_title = count_text(self.problems)
        panel.set_class(any(p.severity == "error" for p in self.problems), "-errors")
        panel.set_options(Option(problem_row(p)) for p in self.problems)
        if not any(p.severity == "error" for p in self.problems):
            self._withdraw_refusals("errors")
        if not self.problems:
            ready = "The spec is valid: ctrl+r runs it."
            if self.source.blocker:
                ready = "The spec is valid, but it cannot run until the problem above is fixed."
            panel.add_option(Option(ready, disabled=True))
        return self.problems

    def _jump(self, problem: Problem) -> None:
        if self._editor is None:
            return
        row = max(0, min(problem.line - 1, self._editor.document.line_count - 1))
        self._editor.cursor_location = (row, 0)
        self._editor.scroll_cursor_visible(center=True)
        self._editor.focus()

    def action_next_problem(self) -> None:
        if not self.problems or self._editor is None:
            return
        current = self._editor.cursor_location[0] + 1
        index = next((i for i, p in enumerate(self.problems) if p.line > current), 0)
        self.query_one("#spec-problems", OptionList).highlighted = index
        self._jump(self.problems[index])

    # -- converting with Claude --------------------------------------------------------------

    def action_convert_with_claude(self) -> None:
        if self.converting or self.dispatching:
            return
        if self.source is None:
            self.notify("The spec is still being prepared.", severity="warning", markup=False)
            return
        if self.text is None:
            self.notify(f"Not converted: {self.source.blocker}", severity="error", timeout=10, markup=False)
            return
        self.converting = True
        self._status("Converting the plan with Claude… (the current spec stays if it fails)")
        self._convert_with_claude(self.source)

    @work(exclusive=True, exit_on_error=False, group="spec-claude")
    async def _convert_with_claude(self, source: SpecSource) -> ClaudeConversion:
        import asyncio

        from hybrid_tui.core.spec.convert.with_claude import convert_with_claude_async

        plan_text = await asyncio.to_thread(read_plan, self.plan.path)
        return await convert_with_claude_async(
            plan_text,
            root=source.root or self.context.repo,
            source=self.plan.path.name,
            number=source.number,
            base=source.base,
            tree=source.tree,
            settings=self.context.settings.agents.claude,
        )

    def _converted(self, result: ClaudeConversion) -> None:
        self.converting = False
        self._status(self.source.blocker if self.source else None, error=True)
        if self._editor is None:
            return
        if not result.ok:
            self.notify(
                f"Kept the current spec: {result.message}", severity="warning", timeout=15, markup=False
            )
            return
        document = self._editor.document
        self._editor.replace(inert(result.text or ""), (0, 0), document.end)
        self._editor.cursor_location = (0, 0)
        self.validate()
        self.notify(f"{result.message}. ctrl+z brings the previous spec back.", timeout=10, markup=False)

    # -- running -----------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.dispatching:
            return
        if self.converting:
            self.notify("Claude is converting the plan: wait for it.", severity="warning", markup=False)
            return
        if self.source is None:
            self.notify("The spec is still being prepared.", severity="warning", markup=False)
            return
        text = self.text
        if text is None:
            self.notify(f"Not run: {self.source.blocker}", severity="error", timeout=10, markup=False)
            return
        errors = [p for p in self.validate() if p.severity == "error"]
        if errors:
            fix = "Fix it (f8 jumps to it)" if len(errors) == 1 else "Fix them (f8 jumps to each)"
            self._refuse(f"Not run: {count_text(errors)} in the spec. First: {errors[0]}. {fix}, then ctrl+r.",
                         "errors")
            return
        from hybrid_tui.core.verify import text_check_commands
        from hybrid_tui.ui.dialogs.check_approval import ask_check_approval

        def approved(checks: list[str] | None) -> None:
            if self.dispatching:
                return
            self.dispatching = True
            self._approved_checks = checks
            self._status("Starting the run…")
            self._dispatch(text)

        def ask_checks() -> None:
            ask_check_approval(
                self.app, "Run Kimi on this spec, then its checks?", text_check_commands(text), self.context.settings,
                approved,
            )

        question = self._quota_question()
        if question is None:
            ask_checks()
            return
        from hybrid_tui.ui.dialogs.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(*question, "Not now"), lambda yes: ask_checks() if yes else None)

    def _quota_question(self) -> tuple[str, str, str] | None:
        """(title, body, yes) when this run would cross or is over the weekly request budget
        (core/quota.py), from the week's count the plans screen last read; None otherwise."""
        from hybrid_tui.core.quota import dispatch_refusal, dispatch_warning
        from hybrid_tui.ui.plans.screen import PlansScreen

        plans = next((screen for screen in self.app.screen_stack if isinstance(screen, PlansScreen)), None)
        if plans is None:
            return None
        used, limit = plans.week_requests, plans.week_limit
        if refusal := dispatch_refusal(used, limit):
            return "The weekly request budget is used up", f"Not started yet: {refusal}.", "Start anyway"
        from hybrid_tui.core.errors import InputError

        try:
            max_steps = self.context.settings.with_profile(None)[0].agents.kimi.max_steps
        except InputError:
            max_steps = self.context.settings.agents.kimi.max_steps
        if warning := dispatch_warning(used, limit, max_steps):
            return "This run may cross the weekly budget", f"{warning[0].upper()}{warning[1:]}.", "Start it"
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="spec-dispatch")
    def _dispatch(self, text: str) -> Prepared:
        from hybrid_tui.agents.registry import make_agent
        from hybrid_tui.core.run.dispatch import prepare_run

        settings, profile = self.context.settings.with_profile(None)  # default_profile, when set
        agent = make_agent("kimi", settings)
        prepared = prepare_run(self.context.store, self.context.repo, text, agent, plan_path=self.plan.path)
        if profile is not None:
            self.context.store.update(prepared.run, profile_name=profile)
        return prepared

    def _started(self, prepared: Prepared) -> None:
        self.drafts.pop(self.plan.path, None)
        self._editor = None  # nothing to keep as a draft when the screen goes
        self._withdraw_refusals()  # an earlier "Not run" no longer holds
        self.hybrid.open_run(prepared.run, warnings=prepared.warnings, approved_checks=self._approved_checks,
                             replace=True)

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            result: Any = worker.result  # what the group's function returned
            if worker.group == "spec-load":
                await self._loaded(result)
            elif worker.group == "spec-dispatch":
                self._started(result)
            elif worker.group == "spec-claude":
                self._converted(result)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            message = str(error) if isinstance(error, HybridError) else f"{type(error).__name__}: {error}"
            if worker.group == "spec-dispatch":
                self.dispatching = False
                self._status(self.source.blocker if self.source else None, error=True)
                self._refuse(f"Not run: {message}", "dispatch", timeout=12)
                return
            if worker.group == "spec-claude":
                self.converting = False
                self._status(self.source.blocker if self.source else None, error=True)
                what = "Not converted with Claude (the spec is unchanged)"
            else:
                self._status(f"Could not prepare the spec: {error}", error=True)
                what = "Could not prepare the spec"
            self.notify(f"{what}: {message}", severity="error", timeout=12, markup=False)

    def _refuse(self, text: str, kind: str, *, timeout: float = 10) -> None:
        """An error notification saying why ctrl+r started nothing, kept (by `kind`: "errors"
        in the spec, "dispatch" refused by `prepare_run`) so that it can be withdrawn once it no
        longer holds: the errors fixed, or the run started (it would otherwise still say "Not
        run" over the Run screen)."""
        self.hybrid.notify_until_withdrawn(text, key=f"refusal:{kind}", severity="error", timeout=timeout)

    def _withdraw_refusals(self, kind: str | None = None) -> None:
        """Take back the refusals of `kind` (all of them with None) still showing."""
        kinds = [kind] if kind else ["errors", "dispatch"]
        self.hybrid.withdraw(*(f"refusal:{k}" for k in kinds))

    def action_back(self) -> None:
        if self.dispatching:
            self.notify("The run is being started: wait for it.", severity="warning", markup=False)
            return
        text = self.text
        if text is not None and text != self._original:
            self.drafts[self.plan.path] = Draft(text, plan_stamp(self.plan))
        elif text is not None:
            self.drafts.pop(self.plan.path, None)
        self.dismiss()
