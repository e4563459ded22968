"""Revise: send a run back to its agent with a note, on the same branch, in the same worktree.

    prompt, run = prepare_revision(store, run, "the tests miss the empty case", agent=agent)
    run = await RunExecution(store, run, agent, revision=True, timeout=..., on_events=...).start()

Behaviour choices:
- The agent resumes its own session when the run recorded one (Kimi's id from its
  `To resume this session: kimi -r <id>` stderr line, passed back as `-S <id>`; Claude's
  `session_id`, passed back as `--resume <id>`). The prompt is then the note, the failing
  checks and "the spec is as before". Without a session id a fresh session starts with the
  run's first prompt (`dispatch.run_prompt`: the spec, or the plan of a "Claude implements"
  run) followed by the note and the failing checks, and is told that a first attempt is already
  committed in its worktree. The prompt is kept in `runs/<id>/revision-<n>.md`.
- Failing checks are those of the last check run (`run.checks`), each with its command, how it
  ended and the last lines of its output (`CheckResult.output`, the file it printed into).
  Checks that passed are not repeated to the agent.
- Only a run that is neither at work nor landed (accepted/rejected), whose worktree is still on
  its branch with nothing uncommitted, can be revised; the note must say something; the agent
  must be installed. All of it is checked before anything is written, so a refusal changes
  nothing.
- Execution is `dispatch.RunExecution` itself, with `revision=True`: the agent's `command()`
  gets the revision's prompt file and the session to resume (`resume=`). Everything else is
  the usual path of a run: running -> verifying -> review (or failed, ...), the agent's work
  committed on the same branch, checks recorded again.
- Each revision is recorded in `run.revisions` (note, session resumed, start tip, how it ended,
  new tip, steps, prompt file). `run.steps` (and Claude's `turns`, `tokens`, `cost_usd`) add up
  over the first run and every revision: they are the quota used. A revision whose agent
  printed no session id keeps the id it resumed. A revision left
  `preparing`/`running` by a hybrid-tui that died is marked `interrupted` at the next one.
"""

from __future__ import annotations

from pathlib import Path

from hybrid_tui.agents.base import Agent
from hybrid_tui.config import Settings
from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.land.merge import require_clean_worktree
from hybrid_tui.core.run.dispatch import (
    check_agent_installed,
    run_prompt,
)
from hybrid_tui.core.runs import CheckResult, Revision, Run, RunStore, Status
from hybrid_tui.core.verify import read_output

OUTPUT_TAIL_LINES = 30
OUTPUT_LINE_CHARS = 300
CHECKS_OUTPUT_TAIL_BYTES = 2 * 1024 * 1024  # only the end of a long check output is read
MAX_NOTE_CHARS = 20_000

AGENT_RULES = (
    "Do not commit and do not switch branches: your work is committed for you when you finish."
)


# -- the failing checks --------------------------------------------------------------------

def _tail(lines: list[str]) -> list[str]:
    tail = lines[-OUTPUT_TAIL_LINES:]
    return [line if len(line) <= OUTPUT_LINE_CHARS else line[: OUTPUT_LINE_CHARS - 1] + "…" for line in tail]


def _fence(text: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}"


def describe_check(check: CheckResult) -> str:
    if check.ok:
        return f"passed in {check.seconds:.1f}s"
    if check.timed_out:
        return f"timed out after {check.seconds:.0f}s"
    if check.exit_code is None:
        return "was cancelled"
    if check.exit_code < 0:
        return f"was killed by signal {-check.exit_code}"
    return f"failed with exit code {check.exit_code}"


def checks_report(store: RunStore, run: Run, *, only_failing: bool) -> str:
    """The run's last checks in Markdown: each as a bullet (`command` and how it ended), the
    failing ones with the last lines of their output. "" when no check ran or, with
    `only_failing`, none failed."""
    checks = run.checks or []
    if not checks or (only_failing and all(check.ok for check in checks)):
        return ""
    parts = []
    for check in checks:
        if only_failing and check.ok:
            continue
        mark = "✓" if check.ok else "✗"
        entry = f"- {mark} `{check.command}` {describe_check(check)}"
        if not check.ok:
            tail = _tail(read_output(check, CHECKS_OUTPUT_TAIL_BYTES))
            entry += (
                f". The last {len(tail)} line(s) of its output:\n\n" + _indent(_fence("\n".join(tail)))
                if tail else ", with no output."
            )
        parts.append(entry)
    tip = git.branch_tip(run)
    stale = ""
    if run.checks_sha and tip and run.checks_sha != tip:
        stale = f"(These checks ran on commit {run.checks_sha[:7]}; the branch has moved on since.)\n\n"
    return stale + "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())


# -- the prompt ----------------------------------------------------------------------------


def revision_prompt(store: RunStore, run: Run, note: str, *, resume: bool) -> str:
    """What the agent is told: the note and the failing checks; with `resume` (its own session
    goes on) that the spec is as before, else the whole spec first."""
    failing = checks_report(store, run, only_failing=True)
    checks = f"## Failing checks\n\n{failing}\n\n" if failing else ""
    what = "plan" if run.prompt_source == "plan" else "spec"
    if resume:
        return (
            f"Your work on the {what} was reviewed and sent back. Revise it in the current working "
            "directory: the same git worktree and branch, where your earlier work is committed.\n\n"
            f"## Reviewer's note\n\n{note}\n\n{checks}"
            f"The {what} is as before. {AGENT_RULES}\n"
        )
    return (
        run_prompt(run).rstrip("\n")
        + "\n\n## Revision\n\n"
        f"A first attempt at this {what} is already committed in the current working directory. "
        "A reviewer sent it back: start from the work that is there and change what the note "
        "and the failing checks ask for.\n\n"
        f"### Reviewer's note\n\n{note}\n"
        + (f"\n### Failing checks\n\n{failing}\n" if failing else "")
    )


# -- preparing -----------------------------------------------------------------------------


def require_revisable(run: Run) -> Path:
    """The run's worktree, or `ActionFailed` when the run cannot be sent back now."""
    from hybrid_tui.core.land.accept import require_open

    require_open(run, "revise")
    if git.branch_tip(run) is None:
        raise ActionFailed(f"run {run.id}: its branch {run.branch} no longer exists")
    return require_clean_worktree(run, "revise")


def prepare_revision(
    store: RunStore, run: Run, note: str, *, agent: Agent | None = None, fresh: bool = False
) -> tuple[str, Run]:
    """Check that `run` can be sent back with `note` (and that `agent`, when given, is
    installed), then record the revision (`preparing`) and return the prompt and the run.
    `fresh`: start a new session even when the run has one to resume."""
    note = note.strip()
    if not note:
        raise InputError("the revision note is empty: say what the agent should change (-m NOTE)")
    if len(note) > MAX_NOTE_CHARS:
        raise InputError(f"the revision note is {len(note)} characters long: keep it under {MAX_NOTE_CHARS}")
    require_revisable(run)
    if agent is not None:
        check_agent_installed(agent)
    session = None if fresh else run.session_id
    prompt = revision_prompt(store, run, note, resume=session is not None)
    revisions = [
        rev.model_copy(update={"status": Status.INTERRUPTED}) if rev.status in (Status.PREPARING, Status.RUNNING) else rev
        for rev in run.revisions
    ]
    tip = git.branch_tip(run)
    prompt_path = store.write_file(store.run_dir(run.id) / f"revision-{len(revisions) + 1}.md", prompt)  # 0600
    revisions.append(Revision(
        note=note, started_at=store.now(), session_id=session, from_sha=tip, prompt_path=str(prompt_path),
    ))  # fmt: skip
    store.update(run, revisions=revisions)
    return prompt, run


def agent_for_run(run: Run, settings: Settings) -> Agent:
    """The run's agent, as configured now, but of the flavour and with the profile the run used
    (a Kimi "auto" flavour was resolved when the run started; Kimi Code keeps its sessions in
    the profile's KIMI_CODE_HOME): the session must be resumed by the same CLI, from the same
    data."""
    from hybrid_tui.agents.registry import make_agent

    if run.agent == "kimi" and run.flavour in ("legacy", "code"):
        update: dict[str, object] = {"flavour": run.flavour}
        if run.profile and run.flavour == "code":
            update["home"] = run.profile
        elif run.profile:
            update["config_file"] = run.profile
        kimi = settings.agents.kimi.model_copy(update=update)
        settings = settings.model_copy(update={"agents": settings.agents.model_copy(update={"kimi": kimi})})
    return make_agent(run.agent, settings)


def new_commits(run: Run, revision: Revision | None = None) -> list[str]:
    """The commits a revision (default: the last) added to the branch, oldest first."""
    revision = revision or (run.revisions[-1] if run.revisions else None)
    if revision is None or not revision.from_sha or not revision.head_sha:
        return []
    out = git.git(run.root, "rev-list", "--reverse", f"{revision.from_sha}..{revision.head_sha}")
    return out.split()
