"""Claude reviews a run: a verdict (approve / request changes) and concrete points, read-only.

    reviewer = ClaudeReviewer(store, run, settings.agents.claude, on_events=show)
    review = await reviewer.start()          # ClaudeReview(verdict, summary, points, ...)
    note = points_as_note(review)            # what `revise` sends back to the worker

Behaviour choices:
- Claude Code runs headless in the run's worktree and cannot change anything:
  `claude -p PROMPT --output-format stream-json --verbose --permission-mode plan
  --tools=Read,Grep,Glob --json-schema SCHEMA` (`--tools` leaves only those built-in tools;
  plan mode refuses edits anyway). The argv comes from the worker's builder
  (`ClaudeAgent.command`: the user's command, env and model; a prompt too big for one argv
  element goes through stdin), as the Claude plan conversion does; the worker's `extra_args`
  and `max_turns` are not passed.
- The answer is structured: with `--json-schema` Claude Code offers the model a synthetic
  `StructuredOutput` tool whose input schema is `REVIEW_SCHEMA`, and puts the tool's input in
  the result line's `structured_output` (checked with Claude Code 2.1.332). When that is
  missing the result text is tried as JSON; otherwise the review fails with a clear message.
- The prompt holds the spec (the plan, for a "Claude implements" run), the check results (failing ones with the last lines of their
  output), the scope check, the list of changed files, and the diff from the run's base to its
  tip, cut at `MAX_DIFF_CHARS` on a line boundary (Claude is told to read the files for the
  rest).
- How Claude ended is judged by `ClaudeAgent.verdict` (auth, transient, max turns, crash...):
  anything but a clean finish is an `ActionFailed` with that message; a cancel or a timeout
  says so. A failed review stores nothing. A missing `claude` is
  `AgentMissing` with the install hint, raised before anything is written.
- The review is stored in `runs/<id>/review.json` and in `run.claude_review` (the last review
  only), with the tip it reviewed; the stream of the last review is kept in
  `runs/<id>/review.transcript.jsonl`. The run's status does not change.
- Only a run that has ended and is not landed (its worktree exists) can be reviewed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from hybrid_tui.agents.base import Invocation
from hybrid_tui.agents.claude import INSTALL_HINT, ClaudeAgent, ClaudeParser
from hybrid_tui.agents.events import AgentEvent
from hybrid_tui.agents.process import AgentMissing, AgentProcess
from hybrid_tui.config import ClaudeSettings
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.review.scope import Scope, load_spec, scope_check
from hybrid_tui.core.run.dispatch import EventSink
from hybrid_tui.core.runs import (
    ClaudeReview,
    ReviewPoint,
    Run,
    RunStore,
    Verdict,
    atomic_write,
)

__all__ = [
    "REVIEW_SCHEMA", "ClaudeReview", "ClaudeReviewer", "ReviewPoint", "check_claude", "load_review",
    "parse_review", "points_as_note", "review_invocation", "review_prompt", "review_run",
]

MAX_DIFF_CHARS = 60_000
READ_ONLY_TOOLS = "Read,Grep,Glob"
VERDICTS = ("approve", "request_changes")

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {
            "type": "string",
            "enum": list(VERDICTS),
            "description": "approve: the change does what the spec asks, correctly; request_changes otherwise",
        },
        "summary": {"type": "string", "description": "two or three sentences on the change and the verdict"},
        "points": {
            "type": "array",
            "description": "concrete problems to fix; empty when there are none",
            "items": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "description": "repository-relative path"},
                    "line": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "line in the new version of the file; omit when the whole file is meant",
                    },
                    "problem": {"type": "string", "description": "what is wrong and what should be done"},
                },
                "required": ["file", "problem"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["verdict", "summary", "points"],
    "additionalProperties": False,
}

INSTRUCTIONS = """\
Review a change that a worker agent made on the git branch checked out in the current \
directory, before it is merged into {base}. Judge it against the {what} and the check results \
below. Read files here (Read, Grep, Glob) when the diff is not enough; change nothing.

Answer with the structured output:
- verdict: "approve" when the change does what the {what} asks, correctly and completely; \
"request_changes" otherwise;
- summary: two or three sentences on the change and the verdict;
- points: each concrete problem, with the file (repository-relative), the line in the new \
version of the file when one line is at fault, and what is wrong and what should be done. \
No points for matters of taste; an empty list when there is nothing to fix.
"""


# -- the request ---------------------------------------------------------------------------


def check_claude(settings: ClaudeSettings) -> None:
    """Raise `AgentMissing` (with the install hint) when `claude` cannot be found."""
    command = settings.command[0]
    path = (os.environ | settings.env).get("PATH", os.defpath)
    if shutil.which(command, path=path) is None:
        raise AgentMissing(command, INSTALL_HINT)


def require_reviewable(run: Run) -> Path:
    """The run's worktree (Claude's cwd); `ActionFailed` when the run cannot be reviewed now."""
    from hybrid_tui.core.land.accept import require_open

    require_open(run, "review")
    worktree = run.worktree_dir
    if not worktree.is_dir():
        raise ActionFailed(f"run {run.id}: its worktree {worktree} no longer exists, so Claude has nowhere to read.")
    return worktree


def _cut_diff(diff: str, limit: int) -> tuple[str, bool]:
    if len(diff) <= limit:
        return diff, False
    cut = diff.rfind("\n", 0, limit)
    return diff[: cut + 1 if cut > 0 else limit], True


def review_prompt(store: RunStore, run: Run, *, max_diff_chars: int = MAX_DIFF_CHARS) -> tuple[str, str]:
    """(the prompt, the tip it describes): instructions, spec, checks, scope, files and diff."""
    from hybrid_tui.core import git
    from hybrid_tui.core.git import run_tip
    from hybrid_tui.core.run.revise import checks_report

    root = run.root
    tip = run_tip(run)
    files = git.diff_files(root, run.base_sha, tip)
    diff, cut = _cut_diff(git.diff_text(root, run.base_sha, tip), max_diff_chars)
    spec_text = Path(run.spec_path).read_text(encoding="utf-8")
    checks = checks_report(store, run, only_failing=False) or "No checks ran."
    what = "plan" if run.prompt_source == "plan" else "spec"  # "Claude implements" runs have no spec
    parts = [
        INSTRUCTIONS.format(base=run.base_branch, what=what),
        f"## {what.capitalize()}\n\n{spec_text.strip()}\n",
        f"## Checks\n\n{checks}\n",
    ]
    checked = load_spec(run.spec_path)
    scope_of = scope_check(checked, files) if checked is not None else Scope()
    scope = []
    if scope_of.out_of_scope:
        scope.append(f"- changed, but not named by the spec: {', '.join(scope_of.out_of_scope)}")
    if scope_of.untouched:
        scope.append(f"- named by the spec, but not changed: {', '.join(scope_of.untouched)}")
    if scope:
        parts.append("## Scope\n\n" + "\n".join(scope) + "\n")
    listing = [
        f"- {f.status} {f.old_path + ' -> ' if f.old_path else ''}{f.path} "
        + ("(binary)" if f.binary else f"(+{f.added} -{f.removed})")
        for f in files
    ]
    parts.append(f"## Changed files ({len(files)})\n\n" + ("\n".join(listing) or "None: the branch is its base.") + "\n")
    fence = "```"
    while fence in diff:
        fence += "`"
    note = (
        f"\n(The diff was cut at {len(diff):,} characters; read the changed files for the rest.)\n"
        if cut else ""
    )
    parts.append(f"## Diff ({run.base_sha[:7]}..{tip[:7]})\n\n{fence}diff\n{diff.rstrip()}\n{fence}\n{note}")
    return "\n".join(parts), tip


def review_invocation(settings: ClaudeSettings, worktree: Path, prompt: str) -> Invocation:
    """How Claude is started for a review: the worker's own argv builder
    (`ClaudeAgent.command`: command, env, model, the stdin rule for long prompts) with plan
    mode, only the read-only tools and the review schema. The worker's `extra_args` and
    `max_turns` are not passed."""
    agent = ClaudeAgent(
        settings.model_copy(
            update={
                "permission_mode": "plan",
                "max_turns": None,
                "extra_args": [
                    f"--tools={READ_ONLY_TOOLS}",
                    "--json-schema", json.dumps(REVIEW_SCHEMA, separators=(",", ":")),
                ],
            }
        )
    )
    return agent.command(worktree, prompt)


# -- the answer ----------------------------------------------------------------------------

_VERDICT_WORDS: dict[str, Verdict] = {
    "approve": "approve", "approved": "approve", "accept": "approve", "lgtm": "approve",
    "request_changes": "request_changes", "changes_requested": "request_changes",
    "request_change": "request_changes", "reject": "request_changes", "changes": "request_changes",
}  # fmt: skip


def _relative(path: str, worktree: str | None) -> str:
    path = path.strip()
    if worktree and path.startswith(worktree.rstrip("/") + "/"):
        return path[len(worktree.rstrip("/")) + 1 :]
    return path.removeprefix("./")


def parse_review(data: Any, *, worktree: str | None = None) -> tuple[Verdict, str, list[ReviewPoint]]:
    """(verdict, summary, points) from Claude's structured output (or its result text as
    JSON). Paths inside `worktree` are made relative. `ActionFailed` when it is no review."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        raise ActionFailed("Claude answered without a verdict (no structured output).")
    word = str(data.get("verdict", "")).strip().lower().replace(" ", "_").replace("-", "_")
    verdict = _VERDICT_WORDS.get(word)
    if verdict is None:
        raise ActionFailed(f"Claude's verdict {data.get('verdict')!r} is neither approve nor request_changes.")
    summary = data.get("summary")
    points: list[ReviewPoint] = []
    for item in data.get("points") or []:
        if not isinstance(item, dict):
            continue
        problem = item.get("problem") or item.get("description") or item.get("message")
        if not isinstance(problem, str) or not problem.strip():
            continue
        line = item.get("line")
        if isinstance(line, str) and line.strip().isdigit():
            line = int(line)
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            line = None
        file = item.get("file")
        points.append(
            ReviewPoint(file=_relative(file, worktree) if isinstance(file, str) else "", line=line, problem=problem.strip())
        )
    return verdict, summary.strip() if isinstance(summary, str) else "", points


def points_as_note(review: ClaudeReview) -> str:
    """The review as a note for `revise`: the verdict and summary, then one line per point."""
    head = "Claude reviewed your work and asks for changes." if review.verdict == "request_changes" else (
        "Claude reviewed your work and approved it, with these points."
    )
    lines = [head + (f" {review.summary}" if review.summary else "")]
    if review.points:
        lines.append("")
        for point in review.points:
            where = point.file + (f":{point.line}" if point.line else "")
            lines.append(f"- {where}: {point.problem}" if where else f"- {point.problem}")
    return "\n".join(lines)


def review_path(store: RunStore, run: Run) -> Path:
    return store.run_dir(run.id) / "review.json"


def load_review(store: RunStore, run: Run) -> ClaudeReview | None:
    """The run's last review: its field, else runs/<id>/review.json, else None."""
    if run.claude_review is not None:
        return run.claude_review
    try:
        return ClaudeReview.model_validate_json(review_path(store, run).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- running -------------------------------------------------------------------------------


class ClaudeReviewer:
    """One review of one run. `await start()` once; `cancel()` from the same event loop."""

    def __init__(
        self,
        store: RunStore,
        run: Run,
        settings: ClaudeSettings,
        *,
        timeout: float | None = None,
        on_events: EventSink | None = None,
        max_diff_chars: int = MAX_DIFF_CHARS,
    ) -> None:
        self.store = store
        self.run = run
        self.settings = settings
        self.timeout = timeout or settings.timeout
        self.on_events = on_events
        self.max_diff_chars = max_diff_chars
        self.parser = ClaudeParser()
        self.prompt: str | None = None
        self.tip: str | None = None
        self._process: AgentProcess | None = None
        self._cancelled = False

    @property
    def transcript_path(self) -> Path:
        return self.store.run_dir(self.run.id) / "review.transcript.jsonl"

    def prepare(self) -> str:
        """Every check that can fail before Claude starts (run state, worktree, `claude`
        installed), then the prompt. Runs git: call it off the UI thread. Idempotent."""
        if self.prompt is None:
            require_reviewable(self.run)
            check_claude(self.settings)
            self.prompt, self.tip = review_prompt(self.store, self.run, max_diff_chars=self.max_diff_chars)
        return self.prompt

    def cancel(self) -> None:
        self._cancelled = True
        if self._process is not None:
            self._process.cancel()

    async def start(self) -> ClaudeReview:
        prompt = self.prepare()
        run, store = self.run, self.store
        worktree = run.worktree_dir
        self.transcript_path.unlink(missing_ok=True)
        stderr_log = store.run_dir(run.id) / "review.stderr.log"
        stderr_log.unlink(missing_ok=True)
        self._process = AgentProcess(
            review_invocation(self.settings, worktree, prompt),
            timeout=self.timeout,
            transcript=self.transcript_path,
            stderr_log=stderr_log,
            install_hint=INSTALL_HINT,
        )
        if self._cancelled:
            self._process.cancel()
        outcome = await self._process.run(self._on_line)
        if outcome.cancelled:
            raise ActionFailed(f"The review of run {run.id} was cancelled; nothing was stored.")
        if outcome.timed_out:
            raise ActionFailed(
                f"Claude did not finish the review of run {run.id} within {self.timeout:g} s; nothing was stored.",
                fix="Raise agents.claude.timeout (or pass --timeout) and ask again.",
            )
        verdict = ClaudeAgent(self.settings).verdict(outcome, self.parser)
        if verdict.status != "done":
            raise ActionFailed(
                f"Claude could not review run {run.id}: {verdict.message}",
                fix=f"Claude's stream is in {self.transcript_path}.",
            )
        result = self.parser.result or {}
        answer = result.get("structured_output")
        if answer is None:
            answer = self.parser.result_text
        verdict_word, summary, points = parse_review(answer, worktree=str(worktree))
        review = ClaudeReview(
            verdict=verdict_word,
            summary=summary,
            points=points,
            reviewed_sha=self.tip,
            reviewed_at=store.now(),
            session_id=self.parser.session_id,
            cost_usd=self.parser.cost_usd,
        )
        atomic_write(review_path(store, run), review.model_dump_json(indent=2) + "\n")
        store.update(run, claude_review=review)
        return review

    def _on_line(self, line: str, truncated: bool) -> None:
        events: list[AgentEvent] = self.parser.feed(line)
        if events and self.on_events is not None:
            self.on_events(events)


async def review_run(
    store: RunStore,
    run: Run,
    settings: ClaudeSettings,
    *,
    timeout: float | None = None,
    on_events: EventSink | None = None,
) -> ClaudeReview:
    """Ask Claude to review `run` (see the module docstring); the stored review."""
    return await ClaudeReviewer(store, run, settings, timeout=timeout, on_events=on_events).start()
