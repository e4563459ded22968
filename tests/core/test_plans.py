"""Plans: finding the plans dir, listing, reading and watching, all on real files in tmp_path."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.plan.plans import (
    Plan,
    PlansLocation,
    find_plans_dir,
    is_plan_change,
    list_plans,
    plan_title,
    read_plan,
    watch_plans,
)
from tests.support.repos import CORPUS_PLANS

# ---------------------------------------------------------------------------------------------
# find_plans_dir


def _settings(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


@pytest.fixture
def config_dir() -> Path:
    return Path(os.environ["CLAUDE_CONFIG_DIR"])


def _all_levels(project: Path, config_dir: Path) -> None:
    _settings(project / ".claude" / "settings.local.json", {"plansDirectory": "from-local"})
    _settings(project / ".claude" / "settings.json", {"plansDirectory": "from-project"})
    _settings(config_dir / "settings.json", {"plansDirectory": "from-user"})


def test_flag_wins_and_is_made_absolute_against_cwd(project, config_dir, tmp_path, monkeypatch):
    _all_levels(project, config_dir)
    monkeypatch.chdir(tmp_path)
    assert find_plans_dir(project, Path("mine/plans")) == PlansLocation(
        tmp_path / "mine" / "plans", "--plans-dir"
    )


def test_settings_local_beats_project_settings(project, config_dir):
    _all_levels(project, config_dir)
    local = project / ".claude" / "settings.local.json"
    assert find_plans_dir(project) == PlansLocation(project / "from-local", f"plansDirectory in {local}")


def test_project_settings_relative_to_project_root(project, config_dir, tmp_path, monkeypatch):
    _all_levels(project, config_dir)
    (project / ".claude" / "settings.local.json").unlink()
    monkeypatch.chdir(tmp_path)  # not the project: the value is relative to the project root
    found = find_plans_dir(project)
    assert found.path == project / "from-project"
    assert found.source == f"plansDirectory in {project / '.claude' / 'settings.json'}"


def test_user_settings_in_claude_config_dir_relative_to_project_root(project, config_dir):
    user = _settings(config_dir / "settings.json", {"plansDirectory": "docs/../plans-here"})
    found = find_plans_dir(project)
    assert found == PlansLocation(project / "plans-here", f"plansDirectory in {user}")


def test_home_settings_used_only_when_claude_config_dir_unset(project, isolated_env, monkeypatch):
    home_settings = _settings(isolated_env / ".claude" / "settings.json", {"plansDirectory": "home-plans"})
    other = isolated_env / "elsewhere"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(other))
    assert find_plans_dir(project) == PlansLocation(other / "plans", "$CLAUDE_CONFIG_DIR/plans")
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert find_plans_dir(project) == PlansLocation(project / "home-plans", f"plansDirectory in {home_settings}")


def test_absolute_and_tilde_values_inside_the_project(project, config_dir, isolated_env, monkeypatch):
    _settings(project / ".claude" / "settings.json", {"plansDirectory": str(project / "abs")})
    assert find_plans_dir(project).path == project / "abs"
    monkeypatch.setenv("HOME", str(project))
    _settings(project / ".claude" / "settings.json", {"plansDirectory": "~/my-plans"})
    assert find_plans_dir(project).path == project / "my-plans"


@pytest.mark.parametrize("outside", ["../home/.ssh", "..", "/etc", "~/my-plans", "sub/../../x", "link-out", "link-out/deeper"])
def test_a_plans_directory_outside_the_project_is_ignored_as_claude_ignores_it(project, config_dir, tmp_path, outside):
    (tmp_path / "elsewhere").mkdir()
    (project / "link-out").symlink_to(tmp_path / "elsewhere")  # a link in the project, pointing out
    local = _settings(project / ".claude" / "settings.local.json", {"plansDirectory": outside})
    found = find_plans_dir(project)
    # The next source applies: the project's settings.json has none, the user's neither.
    assert (found.path, found.source) == (config_dir / "plans", "$CLAUDE_CONFIG_DIR/plans")
    assert found.ignored == (f"plansDirectory {json.dumps(outside)} in {local} is outside the project: ignored",)
    project_settings = _settings(project / ".claude" / "settings.json", {"plansDirectory": "docs/plans"})
    user = _settings(config_dir / "settings.json", {"plansDirectory": outside})
    found = find_plans_dir(project)
    assert found == PlansLocation(project / "docs" / "plans", f"plansDirectory in {project_settings}", found.ignored)
    assert len(found.ignored) == 1
    project_settings.unlink()
    assert len(find_plans_dir(project).ignored) == 2 and str(user) in find_plans_dir(project).ignored[1]


def test_a_plans_directory_that_is_the_project_or_a_link_within_it_is_followed(project, config_dir):
    (project / "real").mkdir()
    (project / "alias").symlink_to(project / "real")
    _settings(project / ".claude" / "settings.json", {"plansDirectory": "alias"})
    assert find_plans_dir(project).path == project / "alias" and not find_plans_dir(project).ignored
    _settings(project / ".claude" / "settings.json", {"plansDirectory": "."})
    assert find_plans_dir(project).path == project


def test_claude_config_dir_plans_default(project, config_dir):
    assert find_plans_dir(project) == PlansLocation(config_dir / "plans", "$CLAUDE_CONFIG_DIR/plans")
    assert not (config_dir / "plans").exists()  # never created


def test_home_plans_default(project, isolated_env, monkeypatch):
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert find_plans_dir(project) == PlansLocation(isolated_env / ".claude" / "plans", "~/.claude/plans")
    assert not (isolated_env / ".claude").exists()


@pytest.mark.parametrize(
    "bad",
    ['{"plansDirectory": "x",', "[1, 2]", {"plansDirectory": 7}, {"plansDirectory": ""},
     {"plansDirectory": None}, "\xff not json"],
)
def test_unusable_settings_are_skipped(project, config_dir, bad):
    _settings(project / ".claude" / "settings.local.json", bad)
    _settings(config_dir / "settings.json", bad)
    project_settings = _settings(project / ".claude" / "settings.json", {"plansDirectory": "ok"})
    assert find_plans_dir(project) == PlansLocation(project / "ok", f"plansDirectory in {project_settings}")
    project_settings.unlink()
    assert find_plans_dir(project).source == "$CLAUDE_CONFIG_DIR/plans"


def test_settings_fifo_is_skipped_without_blocking(project, config_dir):
    (project / ".claude").mkdir()
    os.mkfifo(project / ".claude" / "settings.local.json")
    _settings(project / ".claude" / "settings.json", {"plansDirectory": "ok"})
    assert _in_thread(lambda: find_plans_dir(project), fifo=project / ".claude" / "settings.local.json").path == (
        project / "ok"
    )


# ---------------------------------------------------------------------------------------------
# plan_title and list_plans


def test_plan_title_rules():
    assert plan_title("intro\n\n#  Fix the parser  ##\n# Second\n", "stem") == "Fix the parser"
    assert plan_title("## Sub\n   # Indented three\n", "stem") == "Indented three"
    assert plan_title("    # four spaces is code\n#nospace\n#\n", "stem") == "stem"
    assert plan_title("```bash\n# comment\n```\n# Real\n", "stem") == "Real"
    assert plan_title("~~~\n# no\n~~~\n# Tilde ok\n", "stem") == "Tilde ok"
    # A longer fence is closed only by one at least as long, and not by one with text after it.
    assert plan_title("````md\n```\n# inner\n```\n````\n# Outer\n", "stem") == "Outer"
    assert plan_title("```py\n```py\n# still code\n", "stem") == "stem"


def _plan(path: Path, text: str | bytes, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_list_plans_newest_first_ties_by_path_recursive(tmp_path):
    plans = tmp_path / "plans"
    _plan(plans / "old.md", "# Old\n", 1_000)
    _plan(plans / "b-tie.md", "# B\n", 2_000)
    _plan(plans / "a-tie.md", "# A\n", 2_000)
    _plan(plans / "completed" / "done.md", "# Done\n", 3_000)
    _plan(plans / "completed" / "2025" / "deep.md", "# Deep\n", 500)
    listed = list_plans(plans)
    assert [p.name for p in listed] == ["completed/done.md", "a-tie.md", "b-tie.md", "old.md", "completed/2025/deep.md"]
    assert [p.title for p in listed] == ["Done", "A", "B", "Old", "Deep"]
    done = listed[0]
    assert done == Plan(path=plans / "completed" / "done.md", title="Done", mtime=3_000, size=7, root=plans)


def test_list_plans_skips_what_is_not_a_visible_regular_md_file(tmp_path):
    plans = tmp_path / "plans"
    _plan(plans / "real.md", "# Real\n")
    _plan(plans / "notes.txt", "# not a plan\n")
    _plan(plans / ".hidden" / "secret.md", "# hidden dir\n")
    _plan(plans / ".draft.md", "# hidden file\n")
    os.mkfifo(plans / "pipe.md")
    (plans / "dir.md").mkdir()
    outside = _plan(tmp_path / "outside" / "linked.md", "# via dir link\n")
    (plans / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    (plans / "loop").symlink_to(plans, target_is_directory=True)
    (plans / "filelink.md").symlink_to(plans / "real.md")
    (plans / "broken.md").symlink_to(plans / "nowhere.md")
    names = _in_thread(lambda: sorted(p.name for p in list_plans(plans)), fifo=plans / "pipe.md")
    assert names == ["filelink.md", "real.md"]


def test_list_plans_missing_dir_is_empty(tmp_path):
    assert list_plans(tmp_path / "nope") == []
    _plan(tmp_path / "file", "x")
    assert list_plans(tmp_path / "file") == []


def test_list_plans_title_fallbacks(tmp_path):
    plans = tmp_path / "plans"
    _plan(plans / "no-heading.md", "Just text, no heading at all\n")
    _plan(plans / "level-two.md", "Intro\n## Only level two\n### Deeper\n")
    _plan(plans / "fenced.md", "```bash\n# install deps\npip install x\n```\n\n# The Real Title\n")
    _plan(plans / "latin1.md", "# Caf\xe9\n".encode("latin-1"))
    _plan(plans / "binary.md", b"# Title\x00\x01\n")
    _plan(plans / "bom-crlf.md", b"\xef\xbb\xbf# With BOM\r\nbody\r\n")
    _plan(plans / "far.md", "x\n" * 40_000 + "# Too far down\n")  # heading beyond the 64 KiB head
    # A multi-byte character cut by the 64 KiB boundary does not make the file undecodable.
    _plan(plans / "cut.md", "# Cut ok\n" + "\u00e9" * 40_000)
    titles = {p.name: p.title for p in list_plans(plans)}
    assert titles == {
        "no-heading.md": "no-heading",
        "level-two.md": "Only level two",
        "fenced.md": "The Real Title",
        "latin1.md": "latin1",
        "binary.md": "binary",
        "bom-crlf.md": "With BOM",
        "far.md": "far",
        "cut.md": "Cut ok",
    }


def test_corpus_plans_list_and_read(tmp_path):
    plans = tmp_path / "plans"
    shutil.copytree(CORPUS_PLANS, plans / "completed")
    listed = list_plans(plans)
    assert len(listed) == 49
    for plan in listed:
        text = read_plan(plan.path)
        first = next((line[2:].strip() for line in text.splitlines() if line.startswith("# ")), None)
        any_level = next((line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")), None)
        assert plan.title == (first or any_level or plan.path.stem), plan.name
        assert plan.name.startswith("completed/")
    titles = {plan.name: plan.title for plan in listed}
    # The one corpus plan with no H1 (it starts with ##) is titled by its first heading.
    assert titles["completed/07-esp32-unsupported-codec.md"] == "RH-S3-21 — Stop unsupported codec sessions explicitly"


# ---------------------------------------------------------------------------------------------
# read_plan


def _in_thread(call, *, fifo: Path, timeout: float = 5.0):
    """Run `call` in a daemon thread; fail (and unblock it) if it does not return in time."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as err:  # noqa: BLE001 - handed back to the test
            result["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # lets a blocked reader go
        os.close(fd)
        thread.join(timeout)
        pytest.fail(f"blocked on the FIFO {fifo}")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


def _make_bad(kind: str, path: Path) -> Path:
    if kind == "missing":
        pass
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "whitespace":
        path.write_text("  \n\t\r\n\n")
    elif kind == "huge":
        path.write_text("# Big\n" + "x" * (1024 * 1024))
    elif kind == "binary":
        path.write_bytes(b"# Title\n\x00\x01\x02")
    elif kind == "not-utf8":
        path.write_bytes(b"# Caf\xe9\n")
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "no such file"),
        ("fifo", "not a regular file (it is a FIFO"),
        ("directory", "is a directory"),
        ("empty", "empty"),
        ("whitespace", "only whitespace"),
        ("huge", "too large (1048582 bytes; the limit is 1 MiB)"),
        ("binary", "binary (a NUL byte at byte offset 8)"),
        ("not-utf8", "not valid UTF-8 (invalid byte at byte offset 5)"),
    ],
)
def test_read_plan_bad_input(tmp_path, kind, reason):
    path = _make_bad(kind, tmp_path / f"bad-{kind}.md")
    with pytest.raises(InputError) as caught:
        _in_thread(lambda: read_plan(path), fifo=path)
    assert f"bad-{kind}.md" in str(caught.value)
    assert reason in str(caught.value)
    assert caught.value.exit_code == 2


def test_read_plan_bom_offset_counts_the_bom(tmp_path):
    path = _plan(tmp_path / "bom.md", b"\xef\xbb\xbf# ok\n\xff")
    with pytest.raises(InputError, match="byte offset 8"):
        read_plan(path)


def test_read_plan_accepts_bom_and_crlf(tmp_path):
    path = _plan(tmp_path / "win.md", b"\xef\xbb\xbf# Windows plan\r\n\r\n- step \xe2\x9c\x93\r\n")
    assert read_plan(path) == "# Windows plan\n\n- step \u2713\n"


def test_read_plan_exactly_one_mib_is_fine(tmp_path):
    path = _plan(tmp_path / "edge.md", "# Edge\n" + "x" * (1024 * 1024 - 7))
    assert len(read_plan(path)) == 1024 * 1024


# ---------------------------------------------------------------------------------------------
# watching


def test_is_plan_change(tmp_path):
    plans = tmp_path / "plans"
    assert is_plan_change(plans, plans)
    assert is_plan_change(plans / "a.md", plans)
    assert is_plan_change(plans / "completed" / "a.md", plans)
    assert not is_plan_change(plans / "a.txt", plans)
    assert not is_plan_change(plans / "completed", plans)
    assert not is_plan_change(plans / ".a.md", plans)
    assert not is_plan_change(plans / ".git" / "a.md", plans)
    assert not is_plan_change(tmp_path / "other.md", plans)
    assert not is_plan_change(tmp_path / "plans-old" / "a.md", plans)


class _Watch:
    """watch_plans running as a task, feeding a queue; stopped by its stop event."""

    def __init__(self, plans_dir: Path) -> None:
        self.plans_dir = plans_dir
        self.queue: asyncio.Queue[set[Path]] = asyncio.Queue()
        self.stop = asyncio.Event()
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Watch:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.ready.wait(), timeout=5)
        return self

    async def _run(self) -> None:
        async for changed in watch_plans(self.plans_dir, stop_event=self.stop, ready=self.ready):
            await self.queue.put(changed)

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=5)  # stops promptly on the stop event

    async def expect(self, path: Path, timeout: float = 5.0) -> list[set[Path]]:
        """Batches up to and including the first that holds `path`; fails after `timeout`."""
        seen: list[set[Path]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                pytest.fail(f"{path} not reported; batches: {seen}")
            try:
                batch = await asyncio.wait_for(self.queue.get(), timeout=remaining)
            except TimeoutError:
                pytest.fail(f"{path} not reported; batches: {seen}")
            seen.append(batch)
            if path in batch:
                return seen


def test_watch_sees_new_rewritten_and_deleted_plans(tmp_path):
    plans = tmp_path / "plans"
    existing = _plan(plans / "existing.md", "# Existing\n")
    doomed = _plan(plans / "completed" / "doomed.md", "# Doomed\n")

    async def scenario() -> None:
        async with _Watch(plans) as watch:
            new = _plan(plans / "new.md", "# New\n")
            await watch.expect(new)
            existing.write_text("# Existing, revised\n")
            await watch.expect(existing)
            doomed.unlink()
            await watch.expect(doomed)
            # Noise is filtered: only the sentinel plan comes through.
            _plan(plans / "notes.txt", "x")
            _plan(plans / ".hidden.md", "x")
            sentinel = _plan(plans / "completed" / "sentinel.md", "# S\n")
            batches = await watch.expect(sentinel)
            assert all(p.suffix == ".md" and not p.name.startswith(".") for b in batches for p in b)

    asyncio.run(scenario())


def test_watch_picks_up_a_plans_dir_created_later_and_its_deletion(tmp_path):
    plans = tmp_path / "home" / ".claude" / "plans"  # neither .claude nor home exists yet

    async def scenario() -> None:
        async with _Watch(plans) as watch:
            assert not plans.parent.parent.exists()  # the watcher created nothing
            plans.mkdir(parents=True)
            await watch.expect(plans)
            first = _plan(plans / "first.md", "# First\n")
            await watch.expect(first)
            shutil.rmtree(plans)
            await watch.expect(plans)
            assert not plans.exists()
            plans.mkdir()
            await watch.expect(plans)
            again = _plan(plans / "again.md", "# Again\n")
            await watch.expect(again)

    asyncio.run(scenario())


def test_watch_reports_a_plan_written_while_switching_to_the_new_dir(tmp_path):
    """Claude creates the dir and writes its first plan at once. A plan written after the
    "dir appeared" batch but before the new watcher runs (here: while the consumer handles
    that batch, the generator suspended) is still reported, by the catch-up scan."""
    plans = tmp_path / "claude" / "plans"
    early = plans / "early.md"

    async def scenario() -> list[set[Path]]:
        stop, ready = asyncio.Event(), asyncio.Event()
        batches: list[set[Path]] = []

        async def consume() -> None:
            async for changed in watch_plans(plans, stop_event=stop, ready=ready, recheck_ms=300):
                batches.append(changed)
                if plans in changed and not early.exists():
                    _plan(early, "# Early\n")  # the generator is suspended at its yield
                if early in changed:
                    return

        task = asyncio.create_task(consume())
        await asyncio.wait_for(ready.wait(), timeout=5)
        plans.mkdir(parents=True)
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=5)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=5)
        return batches

    batches = asyncio.run(scenario())
    assert plans in batches[0]
    assert early in batches[-1]


def test_watch_stops_on_stop_event_and_never_creates_the_dir(tmp_path):
    plans = tmp_path / "missing" / "plans"

    async def scenario() -> None:
        async with _Watch(plans) as watch:
            pass
        assert watch.task is not None and watch.task.done()
        assert watch.queue.empty()

    asyncio.run(scenario())
    assert not (tmp_path / "missing").exists()
