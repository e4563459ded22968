"""The Plans screen: Claude's plans, live, with the selected one rendered as Markdown.

Layout: a header line (project name = basename of the project root, and where the plans dir
comes from), then the plan list (title, advice badge, age, size; `PlanList`) on the left and
the Markdown preview on the right, under a line with the advice for the selected plan
("Advice: Delegate to Kimi — large change (6 file(s), ~90 lines): ..."). At 70 columns or
fewer (`HORIZONTAL_BREAKPOINTS` gives the screen the `-narrow` class) the preview goes below
the list. `p` / `ctrl+b` hides or shows the list, so the preview can have the whole pane. With
no plans, an empty state says where Claude writes its plans and that a missing directory is
picked up as soon as Claude creates it.

Behaviour choices:
- First frame first: `on_mount` does no git work and imports nothing heavy. The project root
  comes from `find_project_root` (a walk up to `.git`, no git process) and the plans dir from
  `find_plans_dir` (small JSON settings files). The list is read by `list_plans` in a thread
  worker; the Markdown widget is imported and mounted after the first frame.
- A repo path that is not inside a git checkout still lists plans (the path is taken as the
  project root); the Spec screen is where that is reported and running refused.
- The preview is read by `read_plan` in a thread worker (exclusive: the newest selection
  wins); a plan that cannot be read shows `read_plan`'s message in the preview instead.
  Rendering runs in an async worker, `PREVIEW_CHUNK_LINES` lines at a time (`Markdown.update`
  then `append`): the top of a long plan shows at once and keys keep working while the rest
  renders; moving to another plan cancels the rest.
  The preview is re-read when the selected plan changes, or when the same plan's mtime or size
  changed (Claude rewrites its plan on every edit).
- Live: when `app.context.watch_plans` is on, one async worker iterates `core.plan.plans.
  watch_plans` (debounce `settings.ui.watch_debounce_ms`); each batch re-lists in the thread
  worker. The selection is kept by path; a deleted selected plan hands the highlight to its
  neighbour (the row that took its place, else the new last row) and the preview follows;
  an emptied list shows the empty state. `watch_ready` is set each time the watcher is
  listening (tests and the bench wait on it). The watcher stops through its stop event when
  the screen unmounts. Ages are looked at every second from the injected clock (a new plan's
  "12s" keeps counting); only the rows whose age reads differently are redrawn.
- Advice (`core.plan.advice.advise` on the plan and its deterministic conversion) is computed in a
  thread worker after each listing, for the plans whose (path, mtime, size) is not cached
  yet, so a re-list after Claude rewrote one plan converts only that one; the list shows
  first and the badges follow. A plan that cannot be read gets no badge and no advice line.
  `advised` is set once the badges of the current listing are drawn (tests wait on it).
- Projects (`core.plan.projects`): the list holds this repository's plans (and those of no
  known project); `a` shows every project's, each titled with its project's name, and back.
  The header says how many plans of other projects are left out. The first frame uses the
  saved index as it is; each listing's worker first reads what Claude's transcripts gained,
  and while a plan's project is not known they are read again every few seconds.
  `d` and `c` on a plan written for another repository are refused with that repository and
  the command to use there, before anything opens.
- Runs (`core.plan.plan_runs`): each plan shows the state of its latest run, read in a worker
  after the first frame, every `RUNS_REFRESH_SECONDS` and when the screen comes back into view.
- `d` / `enter` opens the Spec screen for the highlighted plan ("Delegate to Kimi"); when its
  latest run is running, in review or accepted, a question comes first.
- `c` ("Claude implements") starts Claude on the highlighted plan: when the plan names
  verification commands, `CheckApprovalScreen` lists them first (y: Claude, then them; s: Claude
  alone; n: nothing). The plan itself is the prompt (`dispatch.prepare_plan_run`; a plan file that is already a spec runs as that
  spec), prepared in a thread worker (git work); the Run screen follows. Bad input (not a
  git repository, detached HEAD, `claude` not installed, an unreadable plan) is a
  notification with the message and its fix, and nothing is started. A second `c` while one
  is being prepared is ignored with a notice.
- Spec edits are kept per plan path for the session in `drafts` (see `SpecScreen`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, OptionList, Static
from textual.worker import Worker, WorkerState

from hybrid_tui.config_file import state_dir
from hybrid_tui.core.errors import HybridError, InputError
from hybrid_tui.core.inert import inert
from hybrid_tui.core.plan.plans import (
    Plan,
    PlansLocation,
    find_plans_dir,
    list_plans,
    read_plan,
    watch_plans,
)
from hybrid_tui.core.plan.projects import (
    Attribution,
    PlanProjects,
    attribute_all,
    require_this_project,
)
from hybrid_tui.core.project import find_project_root
from hybrid_tui.ui.dialogs.confirm import ConfirmScreen
from hybrid_tui.ui.hybrid_screen import HybridScreen
from hybrid_tui.ui.plans.plan_list import BADGE_COLOURS, RUN_COLOURS, PlanList

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from hybrid_tui.config import Settings
    from hybrid_tui.core.plan.advice import Advice
    from hybrid_tui.core.run.dispatch import Prepared
    from hybrid_tui.core.runs import Run, RunStore
    from hybrid_tui.ui.spec.screen import Draft

WORKER_JOBS = {
    "plans-list": "list the plans",
    "plans-runs": "read the runs of the plans",
    "plans-watch": "watch the plans directory",
    "plan-preview": "read the plan",
    "plan-render": "show the plan",
    "plans-advice": "weigh up Claude or Kimi",
    "plans-projects": "read which project each plan is for",
}
"""What each worker group does, for the notification when one fails."""

RUNS_REFRESH_SECONDS = 5.0
"""How often the plans' runs are read again (a run in another window, or the CLI, moves on)."""
AGE_REFRESH_SECONDS = 1.0
"""How often the plans' ages are looked at: a new plan's "12s" keeps counting (only rows whose
age reads differently are redrawn)."""

PROJECTS_RECHECK_TICKS = 5
"""While a listed plan's project is not known, the transcripts are read again every this many
age ticks (seconds): Claude may name the plan in its transcript just after writing it."""

PREVIEW_CHUNK_LINES = 120
"""Lines of a plan rendered before the preview first shows; the rest follows in pieces."""

AdviceKey = tuple[Path, float, int]
"""A plan's advice is cached by (path, mtime, size): Claude rewrites its plan on every edit."""


def advice_line(advice: Advice | None, run: Run | None = None) -> Content:
    """`Advice: Delegate to Kimi — <reason>`, the label in its badge colour, and the plan's
    latest run (`Last run: review (261102-110000-aa)`), its state in the list's colour."""
    from hybrid_tui.core.plan.plan_runs import (
        STATE_WORDS,  # pydantic's run model: not before the first frame
    )

    parts = []
    if run is not None:
        state = STATE_WORDS[run.status]
        parts.append(Content.from_markup(
            f"[$text-muted]Last run:[/] [b ${RUN_COLOURS[state]}]$state[/] [$text-muted]($id)[/]",
            state=state, id=inert(run.id, one_line=True)))
    if advice is not None:
        parts.append(Content.from_markup(
            f"[$text-muted]Advice:[/] [b ${BADGE_COLOURS[advice.choice]}]$label[/] [$text-muted]— $reason[/]",
            label=inert(advice.label, one_line=True),
            reason=inert(advice.reason, one_line=True),  # it may name the plan's files
        ))
    return Content(" · ").join(parts)


def prepare_claude_run(store: RunStore, repo: Path, plan: Plan, settings: Settings, text: str | None = None) -> Prepared:
    """Prepare "Claude implements" for `plan` (its `text` as read when the user approved its
    checks, else read now): the plan itself as the prompt, or the plan as a spec when it is
    one. Git and file work: call it from a worker."""
    from hybrid_tui.agents.registry import make_agent
    from hybrid_tui.core.run.dispatch import prepare_plan_run, prepare_run
    from hybrid_tui.core.spec.format import is_spec_text

    text = read_plan(plan.path) if text is None else text
    agent = make_agent("claude", settings)
    prepare = prepare_run if is_spec_text(text) else prepare_plan_run
    return prepare(store, repo, text, agent, plan_path=plan.path)


def short_path(path: Path, root: Path) -> str:
    """`path` for display: relative to the project `root` when inside it, else under `~` when
    in the home directory, else as is."""
    for base, prefix in ((root, ""), (Path.home(), "~/")):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        text = rel.as_posix()
        return prefix + text if text != "." else (prefix.rstrip("/") or ".")
    return path.as_posix()


def describe_source(location: PlansLocation, root: Path) -> str:
    """The reason the plans dir was chosen, with any file path in it shortened."""
    prefix = "plansDirectory in "
    if location.source.startswith(prefix):
        return prefix + short_path(Path(location.source[len(prefix):]), root)
    return location.source


def preview_chunks(text: str, lines_per_chunk: int = PREVIEW_CHUNK_LINES) -> list[str]:
    """`text` in pieces of at least `lines_per_chunk` lines, each cut after a blank line outside
    fenced code (so a piece ends between Markdown blocks); always at least one piece."""
    from hybrid_tui.core.spec.convert.scan import (
        fence_mask,  # not needed for the first frame
    )

    lines = text.splitlines(keepends=True)
    fenced = fence_mask([line.rstrip("\r\n") for line in lines])
    chunks: list[str] = []
    start = 0
    for index, line in enumerate(lines):
        if index + 1 - start >= lines_per_chunk and not line.strip() and not fenced[index]:
            chunks.append("".join(lines[start : index + 1]))
            start = index + 1
    if start < len(lines) or not chunks:
        chunks.append("".join(lines[start:]))
    return chunks


class PlansScreen(HybridScreen):
    """The plan list beside the selected plan; the app's first screen."""

    DEFAULT_CSS = """
    PlansScreen #preview-column { width: 1fr; height: 1fr; }
    PlansScreen #preview-advice {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $surface;
        display: none;
        &.-shown { display: block; }
    }
    PlansScreen.-empty #preview-column { display: none; }
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (71, "-wide")]
    BINDINGS = [
        Binding("d", "delegate", "Delegate to Kimi", id="plans.delegate"),
        Binding("c", "claude", "Claude implements", id="plans.claude"),
        Binding("p,ctrl+b", "toggle_list", "Plan list", id="plans.toggle-list"),
        Binding("a", "toggle_projects", "All projects", show=False, id="plans.all-projects"),
        Binding("j", "cursor('down')", "Down", show=False, id="plans.down"),
        Binding("k", "cursor('up')", "Up", show=False, id="plans.up"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.watch_ready = asyncio.Event()
        self.drafts: dict[Path, Draft] = {}
        self._stop_watch = asyncio.Event()
        self._preview_key: tuple[Path, float, int] | None = None
        self._preview_pending: tuple[Path, str | None, str | None] | None = None
        self._markdown: Markdown | None = None  # mounted after the first frame
        self.listed = False
        self.shown_preview: Path | None = None
        """The plan whose text (or read error) the preview shows (its top, at least)."""
        self.preview_complete = False
        """Whether the whole of `shown_preview` is rendered."""
        self.week_requests = 0
        self.week_limit = 0
        """Kimi's requests this quota week, as last read (core.quota); shown in the header once any."""
        self.runs: dict[Path, Run] = {}
        """The latest run of each plan listed (by path), as last read."""
        self.advice: dict[Path, Advice | None] = {}
        """The advice of the plans listed (by path; None: the plan cannot be read)."""
        self.advised = False
        """Whether the badges of the current listing are drawn."""
        self._advice_cache: dict[AdviceKey, Advice | None] = {}
        self.starting_claude = False
        self._claude_checks: list[str] | None = []  # what the user approved at c
        self.show_all = False
        """Every project's plans (`a`), or this repository's."""
        self.listed_plans: list[Plan] = []
        """Every plan in the plans dir, of every project; `plans` is what the list shows."""
        self.attribution: dict[Path, Attribution] = {}
        self._projects: PlanProjects | None = None  # the index, once opened
        self._projects_lock = threading.Lock()
        self.projects_read = False
        """Whether the transcripts were read once since the screen opened (tests wait on it)."""
        self._ticks = 0

    @property
    def plans(self) -> list[Plan]:
        """The plans shown, in list order."""
        return self.query_one(PlanList).plans

    @property
    def selected_plan(self) -> Plan | None:
        return self.query_one(PlanList).selected_plan

    # -- composition -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="plans-header", classes="screen-header")
        with Horizontal(id="plans-body"):
            yield PlanList(id="plan-list")
            with Vertical(id="preview-column"):
                yield Static(id="preview-advice")
                with VerticalScroll(id="plan-preview"):
                    yield Static("", id="preview-message")
            yield Static(id="plans-empty")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        repo = self.context.repo
        try:
            self.root = find_project_root(repo)
        except InputError:
            self.root = Path(repo)
        self.location = find_plans_dir(self.root, self.context.plans_dir, self.context.plans_dir_source)
        self.query_one("#plans-header", Static).update(Content(inert(self._header_text(), one_line=True)))
        self.query_one("#plans-empty", Static).update(Content(inert(self._empty_text())))
        self.query_one("#preview-message", Static).update("Reading plans…")
        # The first listing is synchronous: a stat and a 64 KiB head per plan (a few ms for a
        # dozen) so the first frame shows the list; advice (which converts every plan) and all
        # later listings run in workers.
        self._projects = PlanProjects.open(state_dir(self.context.startup.state_dir))
        listed = list_plans(self.location.path)
        self._show_plans(listed, self._attribute(listed), advise=False)
        self.set_interval(AGE_REFRESH_SECONDS, self._refresh_ages)
        self.call_after_refresh(self._after_first_frame)

    def on_unmount(self) -> None:
        self._stop_watch.set()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.listed_plans:
            self._read_runs()  # back from a run or a review: its plan's state moved on

    @work(thread=True, exclusive=True, exit_on_error=False, group="plans-runs")
    def _read_runs(self) -> tuple[dict[Path, Run], int, int]:
        """The latest run of each plan listed (core.plan.plan_runs), and the Kimi requests of
        this quota week, every repository's runs counted (core.quota)."""
        from hybrid_tui.core.errors import InputError
        from hybrid_tui.core.plan.plan_runs import latest_runs, run_of
        from hybrid_tui.core.quota import used_this_week

        every = self.context.store.list()
        try:  # the default profile's runs against its limit (an unknown default: the plain settings)
            settings, profile = self.context.settings.with_profile(None)
        except InputError:
            settings, profile = self.context.settings, None
        quota = settings.quota
        used = used_this_week(every, self.context.clock(), reset_weekday=quota.weekday, reset_hour=quota.reset_hour,
                              profile=settings.own_limit_profile(profile))
        mine = sorted((run for run in every if run.root == self.root), key=lambda r: r.id, reverse=True)
        self.hybrid.known_runs = (self.root, mine)  # the runs view shows these at once, then reads again
        runs = latest_runs(mine)
        latest = {plan.path: run for plan in self.listed_plans if (run := run_of(plan.path, runs)) is not None}
        return latest, used, quota.weekly_limit

    def _show_runs(self, runs: dict[Path, Run], used: int, limit: int) -> None:
        from hybrid_tui.core.plan.plan_runs import STATE_WORDS

        if (used, limit) != (self.week_requests, self.week_limit):
            self.week_requests, self.week_limit = used, limit
            self.query_one("#plans-header", Static).update(Content(inert(self._header_text(), one_line=True)))
        self.runs = runs
        self.query_one(PlanList).set_runs({path: STATE_WORDS[run.status] for path, run in runs.items()})
        self._show_advice_line()

    def _header_text(self) -> str:
        where = short_path(self.location.path, self.root)
        ignored = " · a plansDirectory outside the project is ignored" if self.location.ignored else ""
        whose = self._whose_text()
        quota = ""
        if self.week_requests:
            limit = self.week_limit
            quota = f" · {self.week_requests:,}{f' / {limit:,}' if limit else ''} requests this week"
        return f"{self.root.name}{quota}{whose} · plans: {where} ({describe_source(self.location, self.root)}){ignored}"

    def _whose_text(self) -> str:
        """" · all projects (a: only this one)", or how many plans of other projects are left out."""
        if self.show_all:
            return " · all projects (a: only this one)"
        others = sum(1 for plan in self.listed_plans if not self._seen(plan).shown_here)
        if not others:
            return ""
        if others == 1:
            return " · 1 plan of another project hidden (a shows it)"
        return f" · {others} plans of other projects hidden (a shows them)"

    def _seen(self, plan: Plan) -> Attribution:
        return self.attribution.get(plan.path) or Attribution(None, False)

    def _attribute(self, plans: list[Plan], *, update: bool = False) -> dict[Path, Attribution]:
        """Each plan's project; `update` first reads what the transcripts gained (worker work)."""
        projects = self._projects
        if projects is None:
            return {}
        with self._projects_lock:  # the listing's and the index's workers may both be at it
            if update:
                projects.update()
            return attribute_all([plan.path for plan in plans], self.root, projects)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plans-projects")
    def _update_projects(self) -> dict[Path, Attribution] | None:
        """Read what the transcripts gained since the index was saved; the plans' projects
        when any changed (None: nothing to redraw)."""
        if self._projects is None:
            return None
        with self._projects_lock:
            changed = self._projects.update()
        return self._attribute(self.listed_plans) if changed else None

    def _empty_text(self) -> str:
        where = short_path(self.location.path, self.root)
        exists = self.location.path.is_dir()
        lines = [
            "No plans yet.",
            "",
            f"Claude Code writes a plan to {where} when you plan in plan mode "
            "(shift+tab in Claude Code). It shows up here as soon as it is written.",
        ]
        if not exists:
            lines += ["", "That directory does not exist yet: it is picked up when Claude creates it."]
        lines += ["", "Another directory: --plans-dir DIR, or plansDirectory in .claude/settings.json."]
        return "\n".join(lines)

    async def _after_first_frame(self) -> None:
        """Advise on the plans, start the watcher and mount the Markdown preview: each costs
        import time, so none of it happens before the first frame."""
        preview = self.query_one("#plan-preview")
        if not preview.is_attached:
            return  # the app is closing before it got going
        self._advise(self.plans)
        self._update_projects()
        self._read_runs()
        self.set_interval(RUNS_REFRESH_SECONDS, self._read_runs)
        if self.context.watch_plans:
            self._watch()
            self._relist_once_watching()
        from textual.widgets import Markdown

        self._markdown = Markdown(id="preview-markdown", open_links=False)
        self._markdown.display = False
        await preview.mount(self._markdown)
        if self._preview_pending is not None:
            self._show_preview(*self._preview_pending)

    # -- listing and watching ----------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="plans-list")
    def _relist(self) -> tuple[list[Plan], dict[Path, Attribution]]:
        plans = list_plans(self.location.path)
        return plans, self._attribute(plans, update=True)

    @work(exclusive=True, exit_on_error=False, group="plans-watch")
    async def _watch(self) -> None:
        async for _changed in watch_plans(
            self.location.path,
            debounce_ms=self.context.settings.ui.watch_debounce_ms,
            stop_event=self._stop_watch,
            ready=self.watch_ready,
        ):
            self._relist()

    @work(exclusive=True, exit_on_error=False, group="plans-watch-ready")
    async def _relist_once_watching(self) -> None:
        """Re-list once the watcher listens: a plan written before that would be missed."""
        await self.watch_ready.wait()
        self._relist()

    def _now(self) -> float:
        return self.context.clock().timestamp()

    def _show_plans(self, listed: list[Plan], attribution: dict[Path, Attribution], *, advise: bool = True) -> None:
        """Show the plans of this repository (or every project's, `show_all`) among `listed`."""
        self.listed_plans, self.attribution = listed, attribution
        plans = listed if self.show_all else [plan for plan in listed if self._seen(plan).shown_here]
        self.listed = True
        self.advised = False
        plan_list = self.query_one(PlanList)
        labels = {plan.path: self._seen(plan).label for plan in plans} if self.show_all else {}
        plan_list.set_plans(plans, self._now(), labels)
        self.query_one("#plans-header", Static).update(Content(inert(self._header_text(), one_line=True)))
        self.set_class(not plans, "-empty")
        if advise:
            self._advise(plans)
        if not plans:
            self.query_one("#plans-empty", Static).update(Content(inert(self._empty_text())))
            self._preview_key = None
            self.shown_preview = None
            self.preview_complete = False
            return
        selected = plan_list.selected_plan
        if selected is not None:
            self._load_preview(selected)

    # -- advice ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="plans-advice")
    def _advise(self, plans: list[Plan]) -> dict[Path, Advice | None]:
        """The advice for each plan listed, from the cache or computed (and cached)."""
        from hybrid_tui.core.plan.advice import advise_plan_file

        settings = self.context.settings.advice
        cache = self._advice_cache
        advice: dict[Path, Advice | None] = {}
        fresh: dict[AdviceKey, Advice | None] = {}
        for plan in plans:
            key = (plan.path, plan.mtime, plan.size)
            fresh[key] = cache[key] if key in cache else advise_plan_file(plan.path, settings)
            advice[plan.path] = fresh[key]
        self._advice_cache = fresh  # plans gone or rewritten drop out
        return advice

    def _show_advice(self, advice: dict[Path, Advice | None]) -> None:
        self.advice = advice
        self.query_one(PlanList).set_advice(advice)
        self._show_advice_line()
        self.advised = True

    def _show_advice_line(self) -> None:
        plan = self.selected_plan
        advice = self.advice.get(plan.path) if plan is not None else None
        last = self.runs.get(plan.path) if plan is not None else None
        line = self.query_one("#preview-advice", Static)
        line.update(advice_line(advice, last) if advice is not None or last is not None else "")
        line.set_class(advice is not None or last is not None, "-shown")

    def _refresh_ages(self) -> None:
        if self.listed:
            self.query_one(PlanList).refresh_ages(self._now())
        self._ticks += 1
        if self._ticks % PROJECTS_RECHECK_TICKS == 0 and self.projects_read and any(
                self._seen(plan).project is None for plan in self.listed_plans):
            self._update_projects()  # a plan listed before its transcript named it

    # -- preview -----------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#plan-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        plan = self.query_one(PlanList).plan_for(event.option_id)
        if plan is not None:
            self._load_preview(plan)
        self._show_advice_line()

    def _load_preview(self, plan: Plan) -> None:
        key = (plan.path, plan.mtime, plan.size)
        if key == self._preview_key:
            return
        self._preview_key = key
        self._read_preview(plan.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan-preview")
    def _read_preview(self, path: Path) -> tuple[Path, str | None, str | None]:
        try:  # shown inert: no escape sequence of the plan's reaches the terminal (core.inert)
            return path, inert(read_plan(path)), None
        except InputError as err:
            return path, None, inert(str(err))

    def _show_preview(self, path: Path, text: str | None, error: str | None) -> None:
        if self._preview_key is None or self._preview_key[0] != path:
            return  # the selection moved on while the plan was read
        if self._markdown is None:
            self._preview_pending = (path, text, error)
            return
        self._preview_pending = None
        self.preview_complete = False
        self._render_preview(path, text, error)

    @work(exclusive=True, exit_on_error=False, group="plan-render")
    async def _render_preview(self, path: Path, text: str | None, error: str | None) -> None:
        """Render the plan a chunk at a time: the top shows at once, and keys are handled
        between chunks (a 1,600-line plan is thousands of Markdown widgets)."""
        assert self._markdown is not None
        message = self.query_one("#preview-message", Static)
        message.update(Content(error or ""))
        message.display = error is not None
        message.set_class(error is not None, "-error")
        self._markdown.display = text is not None
        chunks = preview_chunks(text or "", PREVIEW_CHUNK_LINES)
        # `append` after `update` would replace the last block: start empty, append every piece
        # (each append re-parses from the start of the last block, so a cut is never visible).
        with self.app.batch_update():
            await self._markdown.update("")
            await self._markdown.append(chunks[0])
        if path != self.shown_preview:
            self.query_one("#plan-preview").scroll_home(animate=False)
        self.shown_preview = path
        for chunk in chunks[1:]:
            await self._markdown.append(chunk)
        self.preview_complete = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            result: Any = worker.result  # what the group's function returned
            if worker.group == "plans-list":
                self._show_plans(*result)
            elif worker.group == "plan-preview":
                self._show_preview(*result)
            elif worker.group == "plans-projects":
                if result is not None:
                    self._show_plans(self.listed_plans, result)
                self.projects_read = True
            elif worker.group == "plans-advice":
                self._show_advice(result)
            elif worker.group == "plans-runs":
                self._show_runs(*result)
            elif worker.group == "claude-dispatch":
                self._claude_started(result)
        elif event.state == WorkerState.ERROR and worker.group == "claude-dispatch":
            self.starting_claude = False
            error = worker.error
            message = str(error) if isinstance(error, HybridError) else f"{type(error).__name__}: {error}"
            self.notify(message, title="Claude not started", severity="error", timeout=12, markup=False)
        elif event.state == WorkerState.ERROR:
            what = WORKER_JOBS.get(worker.group, worker.group)
            self.notify(f"Could not {what}: {worker.error}", severity="error", timeout=10, markup=False)

    # -- actions -----------------------------------------------------------------------------

    def action_cursor(self, direction: str) -> None:
        plan_list = self.query_one(PlanList)
        if direction == "down":
            plan_list.action_cursor_down()
        else:
            plan_list.action_cursor_up()

    @on(OptionList.OptionSelected, "#plan-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_delegate()

    def action_toggle_projects(self) -> None:
        self.show_all = not self.show_all
        self._show_plans(self.listed_plans, self.attribution)

    def _of_another_project(self, plan: Plan) -> bool:
        """Whether `plan` was written for another repository; if so, that is said (with the
        command to use there) and nothing starts."""
        if self._projects is None:
            return False
        try:
            require_this_project(plan.path, self.root, self._projects)
        except InputError as err:
            self.notify(f"{err.message}\nFix: {err.fix}", title="Not this repository's plan", severity="error",
                        timeout=12, markup=False)
            return True
        return False

    def action_delegate(self) -> None:
        plan = self.selected_plan
        if plan is None:
            self.notify("No plan selected: nothing to delegate yet.", severity="warning", markup=False)
            return
        if self._of_another_project(plan):
            return
        self._unless_run_already(plan, lambda: self.hybrid.open_spec(plan, self.drafts))

    def _unless_run_already(self, plan: Plan, then: Callable[[], object]) -> None:
        """`then()`, after a question when the plan's latest run is going, in review or
        accepted (core.plan.plan_runs.delegate_again_question)."""
        run = self.runs.get(plan.path)
        if run is None:
            then()
            return
        from hybrid_tui.core.plan.plan_runs import delegate_again_question

        question = delegate_again_question(run)
        if question is None:
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmScreen(question.title, question.body, question.yes, "Cancel"), answered)

    def action_claude(self) -> None:
        plan = self.selected_plan
        if plan is None:
            self.notify("No plan selected: nothing for Claude to implement yet.", severity="warning", markup=False)
            return
        if self.starting_claude:
            self.notify("Claude is being started: wait for it.", severity="warning", markup=False)
            return
        if self._of_another_project(plan):
            return
        self._unless_run_already(plan, lambda: self._claude_after_checks(plan))

    def _claude_after_checks(self, plan: Plan) -> None:
        from hybrid_tui.core.verify import text_check_commands
        from hybrid_tui.ui.dialogs.check_approval import ask_check_approval

        try:
            text = read_plan(plan.path)
        except InputError as err:
            self.notify(f"Not started: {err}", severity="error", timeout=10, markup=False)
            return

        def approved(checks: list[str] | None) -> None:
            if self.starting_claude:
                return
            self.starting_claude = True
            self._claude_checks = checks
            self.notify(f"Starting Claude on {plan.name}…", markup=False)
            self._dispatch_claude(plan, text)

        ask_check_approval(
            self.app, "Claude implements this plan, then its checks?", text_check_commands(text),
            self.context.settings, approved,
        )  # fmt: skip

    @work(thread=True, exclusive=True, exit_on_error=False, group="claude-dispatch")
    def _dispatch_claude(self, plan: Plan, text: str) -> Prepared:
        context = self.context
        return prepare_claude_run(context.store, context.repo, plan, context.settings, text)

    def _claude_started(self, prepared: Prepared) -> None:
        self.starting_claude = False
        self.hybrid.open_run(prepared.run, warnings=prepared.warnings, approved_checks=self._claude_checks)

    def action_toggle_list(self) -> None:
        hidden = not self.has_class("-list-hidden")
        self.set_class(hidden, "-list-hidden")
        if hidden:
            self.query_one("#plan-preview").focus()
        else:
            self.query_one(PlanList).focus()
