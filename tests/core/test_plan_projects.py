"""Every plan knows its project (issue 11): attributed from Claude Code's transcripts, read
incrementally into an index under the state dir; each repository lists its own plans, `--all`
lists every project's; delegating another project's plan is refused with nothing changed.

Two real repositories share Claude's one global plans directory; their transcripts are the
recorded plan-mode session of the real Claude Code, written for each (tests/support/transcripts.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hybrid_tui.core.plan.projects import (
    INDEX_NAME,
    PlanProjects,
    attribute,
    repository_of,
)
from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git, make_repo
from tests.support.transcripts import write_transcript


@pytest.fixture
def two_projects(tmp_path: Path, isolated_env: Path):
    """Repositories repo-a and repo-b (same path length), plan-a written in a subdirectory of
    repo-a, plan-b in a worktree of repo-b, both in the global plans dir."""
    a = make_repo(tmp_path / "repo-a", {"README.md": "# a\n", "src/a.py": "print('a')\n"})
    b = make_repo(tmp_path / "repo-b", {"README.md": "# b\n"})
    worktree = tmp_path / "repo-b-work"
    git(b, "worktree", "add", "-q", "-b", "feature", str(worktree))
    plans = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans"
    plans.mkdir(parents=True)
    plan_a, plan_b = plans / "plan-a-goofy-sundae.md", plans / "plan-b-quiet-otter.md"
    plan_a.write_text("# Plan: a\n\n1. Create `src/new_a.py`.\n")
    plan_b.write_text("# Plan: b\n\n1. Create `new_b.py`.\n")
    write_transcript(a / "src", plan_a)
    write_transcript(worktree, plan_b)
    return a, b, plan_a, plan_b


def index(state_dir: Path) -> PlanProjects:
    projects = PlanProjects.open(state_dir)
    projects.update()
    return projects


def test_each_plan_is_attributed_to_the_repository_it_was_written_in(two_projects, state_dir: Path) -> None:
    a, b, plan_a, plan_b = two_projects
    projects = index(state_dir)
    # plan-a was planned in repo-a/src, plan-b in a worktree of repo-b: each is its repository's.
    assert projects.written_in(plan_a) == a / "src" and projects.project_of(plan_a) == a
    assert projects.project_of(plan_b) == b
    assert attribute(plan_a, a, projects).ours and not attribute(plan_a, b, projects).ours
    assert attribute(plan_b, b, projects).ours and attribute(plan_b, a, projects).label == "repo-b"
    # The index is kept under the state dir, private.
    assert (state_dir / INDEX_NAME).stat().st_mode & 0o077 == 0


def test_each_repository_lists_its_own_plans_and_all_lists_both(two_projects) -> None:
    a, b, plan_a, plan_b = two_projects

    def listed(repo: Path, *extra: str) -> list[dict]:
        result = run_cli("plans", "--json", *extra, cwd=repo)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    assert [p["path"] for p in listed(a)] == [str(plan_a)]
    assert [p["path"] for p in listed(b)] == [str(plan_b)]
    both = {p["path"]: (p["project"], p["this_project"]) for p in listed(a, "--all")}
    assert both == {str(plan_a): (str(a), True), str(plan_b): (str(b), False)}

    text = run_cli("plans", cwd=a).stdout
    assert text.startswith("1 plan(s) of repo-a in ") and "1 more of other projects (--all lists them)" in text
    text = run_cli("plans", "--all", cwd=a).stdout
    assert "(plan-a-goofy-sundae.md)  [repo-a]" in text and "(plan-b-quiet-otter.md)  [repo-b]" in text


def test_a_plan_of_no_known_project_is_listed_everywhere_and_marked_in_all(two_projects) -> None:
    a, _, _, _ = two_projects
    stray = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans" / "stray.md"
    stray.write_text("# Plan: from before the transcripts\n")
    assert str(stray) in [p["path"] for p in json.loads(run_cli("plans", "--json", cwd=a).stdout)]
    assert "(stray.md)  [project unknown]" in run_cli("plans", "--all", cwd=a).stdout


def test_delegating_another_projects_plan_is_refused_with_nothing_changed(two_projects, state_dir: Path) -> None:
    a, b, _, plan_b = two_projects
    index(state_dir)  # the index exists: the world below includes it
    before = world(a, state_dir)
    result = run_cli("run", str(plan_b), cwd=a, env=standin_env("kimi_success"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"plan-b-quiet-otter.md: this plan was written for {b} (Claude's session there), not for {a}" in result.stderr
    assert f"cd {b} && hybrid-tui" in result.stderr
    assert world(a, state_dir) == before


def test_attribution_follows_a_growing_transcript_reading_only_what_it_gained(two_projects, state_dir: Path) -> None:
    a, b, plan_a, _ = two_projects
    projects = index(state_dir)
    transcript = next((Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects").glob("*repo-a-src/*.jsonl"))
    size = transcript.stat().st_size
    assert projects.transcripts[str(transcript)].offset == size

    # Rewritten in place (same inode, same size: repo-a and repo-b have paths of one length),
    # the part already read would now say repo-b; a reader of only the new bytes never sees it.
    text = transcript.read_text()
    with open(transcript, "r+") as handle:
        handle.write(text.replace(str(a), str(b)))
    plan_c = plan_a.with_name("plan-c-late-heron.md")
    plan_c.write_text("# Plan: c\n")
    line = {"type": "user", "cwd": str(a), "sessionId": "s", "slug": plan_c.stem, "message": {"content": "go"}}
    with open(transcript, "a") as handle:
        handle.write(json.dumps(line) + "\n")
        handle.write('{"type": "user", "cwd": "' + str(b) + '", "slug": "half a line')  # not whole yet

    reopened = PlanProjects.open(state_dir)  # from the saved index, as the next command would
    assert reopened.update()
    assert reopened.project_of(plan_c) == a
    assert reopened.project_of(plan_a) == a  # the rewritten part was not read again
    assert reopened.transcripts[str(transcript)].offset == size + len(json.dumps(line)) + 1
    assert not reopened.update()  # nothing new: nothing changes


def test_a_replaced_transcript_is_read_again_and_the_hook_is_believed(two_projects, state_dir: Path) -> None:
    a, b, plan_a, _ = two_projects
    projects = index(state_dir)
    transcript = next((Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects").glob("*repo-a-src/*.jsonl"))
    replaced = transcript.with_suffix(".new")
    replaced.write_text(transcript.read_text().replace(str(a), str(b)))
    os.replace(replaced, transcript)
    assert projects.update() and projects.project_of(plan_a) == b
    projects.record(plan_a, a / "src")  # the approval hook names the plan's cwd itself
    assert PlanProjects.open(state_dir).project_of(plan_a) == a


def test_an_unreadable_index_is_rebuilt(two_projects, state_dir: Path) -> None:
    a, _, plan_a, _ = two_projects
    index(state_dir)
    (state_dir / INDEX_NAME).write_text("{not json")
    assert index(state_dir).project_of(plan_a) == a


def test_repository_of_a_subdirectory_a_worktree_and_a_gone_directory(two_projects, tmp_path: Path) -> None:
    a, b, _, _ = two_projects
    assert repository_of(a / "src") == a
    assert repository_of(tmp_path / "repo-b-work") == b
    assert repository_of(a / "gone" / "deeper") == a
    assert repository_of(tmp_path / "nowhere") == tmp_path / "nowhere"


def test_what_the_hook_records_survives_another_process_saving_the_index(two_projects, state_dir: Path) -> None:
    a, _, plan_a, _ = two_projects
    listing = PlanProjects.open(state_dir)  # a TUI's copy, opened before the hook ran
    listing.update()
    hooked = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans" / "hooked-plan-late-owl.md"
    PlanProjects.open(state_dir).record(hooked, a / "src")  # the hook, in its own process
    (Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans" / "new.md").write_text("# new\n")
    transcript = next((Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects").glob("*repo-a-src/*.jsonl"))
    with open(transcript, "a") as handle:
        handle.write(json.dumps({"cwd": str(a), "slug": "new"}) + "\n")
    assert listing.update()  # the TUI's copy saves: it must not drop the hook's record
    assert PlanProjects.open(state_dir).project_of(hooked) == a
