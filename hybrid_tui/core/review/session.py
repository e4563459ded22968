"""`ReviewSession`: what the review of one run knows and does, with no Textual in it.

The review screen (`ui/review/screen.py`) shows a session and the CLI's tests can drive one
directly. A session holds the run's changed files (names and status first, the +/- counts
after), the branch tip, the scope check against the spec, the whole patch split per file
(`hunks.PatchIndex`), the selection for a partial accept, what is under way (`busy`), whether
a rebase is worth offering, and whether a pull request can be opened.

Two kinds of method:
- `read_*`, `findings`, `land`, `rebase`, `pr_*` and `prepare_revision` block on git or the
  agent's record: call them from a thread (the screen's thread workers do).
- `take_*`, the selection and the texts (`finding_text`, `accept_question`, `reject_question`,
  `landed_text`) only change or read the session: call them where its results are shown.

Loading is in generations: `reload()` starts a new one, and results read for an older one
(a rebase came between) are dropped by `take_*`.

Hunk numbers are those of `hunks.parse_hunks` on the run's patch, so a selection means to
`partial.accept_selection` what the diff shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from hybrid_tui.core import git
from hybrid_tui.core.land.accept import (
    REJECTED_REF,
    accept_run,
    reject_run,
    run_scope,
)
from hybrid_tui.core.land.hunks import (
    ALL,
    PatchIndex,
    Whole,
    parse_hunks,
    selected_paths,
)
from hybrid_tui.core.land.merge import Finding, preflight, rebase_run, undo_rebase

if TYPE_CHECKING:
    from hybrid_tui.config import Settings
    from hybrid_tui.core.review.scope import Scope
    from hybrid_tui.core.runs import Run, RunStore

Chosen = set[int] | Whole
Busy = Literal["preflight", "accept", "reject", "rebase", "undo", "revise", "pr"]
LandAction = Literal["accept", "reject"]
RebaseAction = Literal["rebase", "undo"]


def _numbers(indexes: list[int]) -> str:
    shown = [str(i + 1) for i in sorted(indexes)]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def describe_selection(selection: dict[str, Chosen], hunk_counts: dict[str, int]) -> list[str]:
    """One line per selected file: "numbers.txt: hunks 1 and 3 of 3" or "new.txt: whole file"."""
    lines = []
    for path, chosen in selection.items():
        total = hunk_counts.get(path)
        if isinstance(chosen, Whole) or (total is not None and len(chosen) == total):
            lines.append(f"{path}: whole file")
        else:
            word = "hunk" if len(chosen) == 1 else "hunks"
            lines.append(f"{path}: {word} {_numbers(list(chosen))}" + (f" of {total}" if total else ""))
    return lines


def totals(files: list[git.FileDiff]) -> str:
    """"N files, +A -R"."""
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    return f"{len(files)} file{'' if len(files) == 1 else 's'}, +{added} -{removed}"


@dataclass(frozen=True)
class Listing:
    """The first read of a review: the changed files by name and status, the tip, the scope."""

    generation: int
    files: list[git.FileDiff]
    tip: str
    scope: Scope | None


@dataclass(frozen=True)
class Question:
    """A confirmation to ask before landing: its title, body and yes-button."""

    title: str
    body: str
    yes: str


@dataclass(frozen=True)
class Landed:
    """What `land` did: accepted or rejected the run, or landed a selection as commit `sha`."""

    action: Literal["accept", "reject", "partial"]
    sha: str | None = None
    selection: dict[str, Chosen] | None = None


class ReviewSession:
    def __init__(self, store: RunStore, run: Run, settings: Settings) -> None:
        self.store = store
        self.run = run
        self.settings = settings
        self.generation = 0
        self.files: list[git.FileDiff] | None = None
        self.counted = False  # the files' +/- counts are in (they follow the names)
        self.tip: str | None = None
        self.scope: Scope | None = None
        self.patch: PatchIndex | None = None
        self.hunk_counts: dict[str, int] = {}
        self.selection: dict[str, Chosen] = {}
        self.busy: Busy | None = None
        self.offer_rebase = False
        self.pr_available = False
        self.pr_reason = ""
        self.lead: str | None = None  # said before the next advice (what just happened)

    @property
    def repo_root(self) -> Path:
        return self.run.root

    @property
    def repo_name(self) -> str:
        return self.repo_root.name

    @property
    def strategy(self) -> str:
        return self.settings.merge.strategy

    def short(self, text: str) -> str:
        """`text` with the repository's path written as its directory name."""
        return text.replace(self.run.repo_root, self.repo_name)

    # -- loading ---------------------------------------------------------------------------

    def reload(self) -> int:
        """Start a new generation of loading (the branch changed); its number."""
        self.generation += 1
        self.patch = None
        self.hunk_counts.clear()
        return self.generation

    def read_files(self, generation: int) -> Listing:
        """The changed files by name and status (no counts yet), the tip, the scope check. Blocks."""
        tip = git.run_tip(self.run)
        files = git.diff_names(self.repo_root, self.run.base_sha, tip)
        return Listing(generation, files, tip, run_scope(self.run, files))

    def read_counts(self, tip: str) -> list[git.FileDiff]:
        """The files with their +/- counts. Blocks."""
        return git.diff_files(self.repo_root, self.run.base_sha, tip)

    def read_patch(self, tip: str) -> PatchIndex:
        """The whole patch, split per file. Blocks."""
        return PatchIndex(git.patch_text(self.repo_root, self.run.base_sha, tip))

    def take_files(self, listing: Listing) -> bool:
        """Keep the listing; False when it is of an older generation (dropped)."""
        if listing.generation != self.generation:
            return False
        self.files, self.tip, self.scope = listing.files, listing.tip, listing.scope
        self.counted = False
        return True

    def take_counts(self, generation: int, files: list[git.FileDiff]) -> bool:
        if generation != self.generation:
            return False
        self.files, self.counted = files, True
        return True

    def take_patch(self, generation: int, index: PatchIndex) -> bool:
        if generation != self.generation:
            return False
        self.patch = index
        return True

    def flagged(self) -> set[str] | None:
        """The changed paths the scope check flags (not in the spec), or None without a spec."""
        if self.scope is None or self.files is None:
            return None
        scope = self.scope
        return {f.path for f in self.files if scope.flags(f)}

    # -- the selection ---------------------------------------------------------------------

    def toggle_file(self, path: str) -> None:
        if path in self.selection:
            del self.selection[path]
        else:
            self.selection[path] = ALL

    def toggle_hunk(self, path: str, hunk: int, count: int) -> None:
        chosen = self.selection.get(path)
        indexes = set(range(count)) if isinstance(chosen, Whole) else set(chosen or ())
        indexes ^= {hunk}
        if not indexes:
            self.selection.pop(path, None)
        else:
            self.selection[path] = ALL if len(indexes) == count else indexes

    def selection_copy(self) -> dict[str, Chosen]:
        """The selection as it is now, for a thread to work on while the user goes on."""
        return {path: (chosen if isinstance(chosen, Whole) else set(chosen)) for path, chosen in self.selection.items()}

    def selection_summary(self) -> str:
        """"● 1 file + 2 hunks selected"; "" when nothing is."""
        if not self.selection:
            return ""
        whole = sum(1 for c in self.selection.values() if isinstance(c, Whole))
        hunks = sum(len(c) for c in self.selection.values() if not isinstance(c, Whole))
        parts = []
        if whole:
            parts.append(f"{whole} file{'s' if whole > 1 else ''}")
        if hunks:
            parts.append(f"{hunks} hunk{'s' if hunks > 1 else ''}")
        return "● " + " + ".join(parts) + " selected"

    # -- landing ---------------------------------------------------------------------------

    def findings(self, selection: dict[str, Chosen] | None) -> list[Finding]:
        """What stands in the way of accepting the whole branch, or the selection (the paths
        its hunks change, see `merge.preflight`). Blocks."""
        if not selection:
            return preflight(self.run, self.strategy)
        index = self.patch
        if index is None:
            assert self.tip is not None
            index = self.read_patch(self.tip)
        files = [entry for path in selection for entry in parse_hunks(index.section(path) or "")]
        return preflight(self.run, self.strategy, paths=set(selected_paths(files, selection)))

    def take_findings(self, findings: list[Finding]) -> None:
        """Offer a rebase when the base moved ahead and nothing conflicts."""
        self.offer_rebase = any(f.kind == "base_moved" for f in findings) and not any(
            f.kind == "conflict" for f in findings)

    def finding_text(self, finding: Finding) -> str:
        if finding.kind == "base_moved":
            run = self.run
            how = "the rebase strategy rebases first." if self.strategy == "rebase" else "the merge combines both sides."
            return (f"{finding.problem} b rebases {run.branch} onto {run.base_branch} (u undoes it); "
                    f"or accept as it is: {how}")
        return f"{finding.problem}\nFix: {finding.fix}"

    def advice_text(self, findings: list[Finding]) -> str | None:
        """The advice among `findings` (not blocking), after what just happened; None without any."""
        advice = [f for f in findings if not f.blocking]
        lead, self.lead = self.lead, None
        if not advice:
            return None
        return "\n".join([*([lead] if lead else []), *map(self.finding_text, advice)])

    def refusal_text(self, findings: list[Finding]) -> str | None:
        """Why the accept is refused (the first blocking finding and its fix); None when it is not."""
        blocking = [f for f in findings if f.blocking]
        if not blocking:
            return None
        return self.finding_text(blocking[0]) + "".join(f"\nAlso: {f.problem}" for f in blocking[1:])

    def accept_question(self, selection: dict[str, Chosen] | None, findings: list[Finding]) -> Question:
        run, repo = self.run, self.repo_name
        notes = "".join(f"\n\nNote: {f.problem}" for f in findings)
        if selection:
            listed = "\n".join(f"- {line}" for line in describe_selection(selection, self.hunk_counts))
            body = (f"Land as one commit on {run.base_branch} in {repo}:\n{listed}\n"
                    f"The rest stays on {run.branch} for a later look.")
            return Question("Accept the selection?", body + notes, "Accept selection")
        if self.strategy == "squash":
            body = (f"Squash {run.branch} into one commit on {run.base_branch} in {repo}; its tip is kept "
                    f"as refs/hybrid-tui/accepted/{run.id}. The worktree and the branch are removed afterwards.")
        elif self.strategy == "rebase":
            body = (f"Rebase {run.branch} onto {run.base_branch}, then fast-forward {run.base_branch} in "
                    f"{repo} to it. The worktree and the branch are removed afterwards.")
        else:
            body = (f"Merge {run.branch} into {run.base_branch} in {repo} (git merge --no-ff). "
                    "The worktree and the branch are removed afterwards.")
        return Question("Accept the run?", body + notes, "Accept")

    def reject_question(self) -> Question:
        run = self.run
        tip = (self.tip or run.head_sha or "")[:7] or "(unknown)"
        ref = REJECTED_REF.format(run_id=run.id)
        return Question("Reject the run?",
                        f"Delete branch {run.branch} and its worktree. Its tip {tip} is kept as {ref}.", "Reject")

    def land(self, action: LandAction, selection: dict[str, Chosen] | None) -> Landed:
        """Reject the run, accept it whole (with the merge strategy), or land `selection`. Blocks."""
        if action == "reject":
            reject_run(self.store, self.run)
            return Landed("reject")
        if selection:
            from hybrid_tui.core.land.partial import accept_selection

            return Landed("partial", accept_selection(self.store, self.run, selection), selection)
        accept_run(self.store, self.run, self.strategy)
        return Landed("accept")

    def landed_text(self, landed: Landed) -> tuple[str, str]:
        """(title, text) of the notification that says what `land` did."""
        run = self.run
        if landed.action == "partial":
            assert landed.sha is not None
            return "Selection accepted", f"Landed on {run.base_branch} as {landed.sha[:7]}."
        if landed.action == "accept":
            how = {"squash": "squashed onto", "rebase": "rebased onto"}.get(run.strategy or "", "merged into")
            return "Run accepted", f"Accepted: {run.branch} {how} {run.base_branch}."
        return "Run rejected", f"Rejected: {run.branch} deleted; its tip is kept as {run.rejected_ref}."

    def take_partial(self, landed: Landed) -> str:
        """After a selection landed: clear it; what to say (also said before the next advice)."""
        run = self.run
        assert landed.sha is not None and landed.selection is not None
        listed = "; ".join(describe_selection(landed.selection, self.hunk_counts))
        self.selection.clear()
        self.lead = f"Landed on {run.base_branch} as {landed.sha[:7]}: {listed}. The rest stays on {run.branch}."
        return self.lead

    def rebase(self, action: RebaseAction) -> Run:
        """Rebase the run's branch onto its base branch, or undo that. Blocks."""
        return (rebase_run if action == "rebase" else undo_rebase)(self.store, self.run)

    def take_rebase(self, action: RebaseAction, run: Run) -> str:
        """After a rebase or its undo: the selection and the offer go; what to say."""
        self.offer_rebase = False
        self.selection.clear()
        if action == "rebase":
            return f"Rebased {run.branch} onto {run.base_branch} ({run.base_sha[:7]}); u undoes it."
        return f"Undid the rebase: {run.branch} is back on {run.base_sha[:7]}."

    # -- sending it on ---------------------------------------------------------------------

    def read_pr_available(self) -> tuple[bool, str]:
        """Whether a pull request can be opened (a remote, gh on PATH) and what it would do. Blocks."""
        from hybrid_tui.core.review.pull_request import pr_available

        return pr_available(self.run)

    def take_pr_available(self, result: tuple[bool, str]) -> None:
        self.pr_available, self.pr_reason = result

    def pr_question(self) -> Question:
        what = self.pr_reason[:1].upper() + self.pr_reason[1:]
        return Question("Open a pull request?", f"{what}; the spec is its description.", "Open pull request")

    def open_pull_request(self) -> str:
        """Push the branch and open the pull request; its URL. Blocks."""
        from hybrid_tui.core.review.pull_request import open_pull_request

        return open_pull_request(self.store, self.run)

    def prepare_revision(self, note: str) -> str:
        """Check and record a revision with `note`; the prompt for the agent. Blocks."""
        from hybrid_tui.core.run.revise import agent_for_run, prepare_revision

        prompt, _ = prepare_revision(self.store, self.run, note, agent=agent_for_run(self.run, self.settings))
        return prompt
