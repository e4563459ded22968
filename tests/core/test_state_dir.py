"""The state dir when it is broken or hostile (issue 10, point 5): private modes, run ids that
are never paths, unreadable records listed rather than hidden, and a read-only, forbidden or
full state dir that gives a clear message, loses nothing and leaves no temp file.

Read-only, permission-denied and full state dirs are real: bubblewrap binds the state dir
read-only (`--ro-bind`: root ignores file modes), runs hybrid-tui as an unprivileged user
without capabilities over a 0500 directory, or mounts a small tmpfs (`--size`) for it. Without
a working `bwrap` those tests skip, or fail under HYBRID_TUI_REQUIRE_SANDBOX=1.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.runs import RunStore, atomic_write, check_run_id
from tests.support.cli import run_cli, standin_env, world
from tests.support.repos import git

SPEC = """\
# Spec: 001 -- Add a greeting

Source: manual
Base: main@0000000

## Context
The app needs a greeting file.

## Tasks

### Task 1: Write hello

Files:
- CREATE hello.txt

Requirements:
- Write a friendly line.

Verification:
- `test -f hello.txt`
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.md"
    path.write_text(SPEC)
    return path


def first_run(repo: Path, spec: Path) -> str:
    result = run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])["run_id"]


def files_of(state_dir: Path) -> dict[str, bytes | str]:
    """Every file under the state dir with its bytes (FIFOs and links by kind), worktrees aside."""
    found: dict[str, bytes | str] = {}
    for path in sorted(state_dir.rglob("*")):
        rel = path.relative_to(state_dir)
        if rel.parts[0] == "worktrees" and len(rel.parts) > 2:
            continue
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            found[str(rel)] = path.read_bytes()
        elif not stat.S_ISDIR(mode):
            found[str(rel)] = "special"
    return found


def approval(command: str, repo: Path) -> list[str]:
    """`--approve-checks` where the command has it (checks run only once approved there)."""
    return ["--approve-checks"] if "--approve-checks" in run_cli(command, "--help", cwd=repo).stdout else []


# -- bubblewrap --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bwrap() -> str:
    path = shutil.which("bwrap")
    if path is None:
        reason = "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    else:
        probe = subprocess.run([path, "--dev-bind", "/", "/", "true"], capture_output=True, text=True, check=False)
        reason = f"bwrap cannot make its namespaces here: {probe.stderr.strip()}" if probe.returncode else ""
    if reason:
        if os.environ.get("HYBRID_TUI_REQUIRE_SANDBOX") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def in_bwrap(bwrap: str, options: list[str], argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """`argv` with the whole file system as it is, but `options` (a read-only bind, a tmpfs)."""
    return subprocess.run(
        [bwrap, "--dev-bind", "/", "/", *options, "--chdir", str(cwd), "--", *argv],
        env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout, check=False,
    )


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hybrid_tui", *args]


def assert_clear_refusal(result: subprocess.CompletedProcess, code: int, reason: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("hybrid-tui: ") and reason in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- modes ---------------------------------------------------------------------------------------


def test_the_state_dir_is_0700_and_the_run_files_0600(repo: Path, spec: Path, state_dir: Path):
    state_dir.mkdir(parents=True)
    state_dir.chmod(0o755)  # as an older hybrid-tui left it
    old_umask = os.umask(0o022)
    try:
        run_id = first_run(repo, spec)
        verify = run_cli("verify", run_id, *approval("verify", repo), cwd=repo)
        assert verify.returncode == 0, verify.stderr
        revise = run_cli("revise", run_id, "-m", "Make it friendlier.", cwd=repo, env=standin_env("kimi_success"))
        assert revise.returncode == 0, revise.stderr
    finally:
        os.umask(old_umask)
    run_dir = state_dir / "runs" / run_id
    for directory in (state_dir, state_dir / "runs", state_dir / "worktrees", run_dir):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    names = {"run.json", "spec.md", "prompt.md", "transcript.jsonl", "stderr.log", "checks.log", "revision-1.md"}
    assert names <= {p.name for p in run_dir.iterdir()}
    for path in run_dir.iterdir():
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    outputs = list((run_dir / "checks").rglob("*.out"))  # each check's output, in its own file
    assert outputs
    for path in [*(run_dir / "checks").rglob("*"), run_dir / "checks"]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    # The worktree's own files keep git's usual modes: they are the user's project.
    assert stat.S_IMODE((state_dir / "worktrees" / run_id / "hello.txt").stat().st_mode) == 0o644


def test_atomic_write_cleans_its_temp_file_when_the_write_fails(tmp_path: Path):
    target = tmp_path / "run.json"
    atomic_write(target, "old\n")
    with pytest.raises(TypeError):
        atomic_write(target, None)  # type: ignore[arg-type]  # fails inside, after the temp file exists
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- run ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["../../x", "../x", "/etc/passwd", "261101-120000-aa/../..", "x", "261101-120000-AA", ".", ""])
def test_a_run_id_is_checked_against_its_format(bad: str, tmp_path: Path):
    store = RunStore(tmp_path / "state")
    with pytest.raises(InputError):
        check_run_id(bad)
    with pytest.raises(InputError):
        store.load(bad)
    with pytest.raises(InputError):
        store.run_dir(bad)


@pytest.mark.parametrize("prefix", ["2", "26110", "261101", "261101-", "261101-12", "261101-120000", "261101-120000-", "261101-120000-a", "261101-120000-a9"])
def test_any_prefix_of_a_run_id_is_one(prefix: str):
    assert check_run_id(prefix) == prefix


def test_a_path_for_a_run_id_never_reaches_a_record_outside_the_state_dir(repo: Path, spec: Path, state_dir: Path):
    run_id = first_run(repo, spec)
    record = json.loads((state_dir / "runs" / run_id / "run.json").read_text())
    planted = state_dir.parent / "x" / "run.json"  # what runs/../../x/run.json names
    planted.parent.mkdir()
    planted.write_text(json.dumps({**record, "id": "../../x", "title": "PLANTED"}))
    before = world(repo, state_dir)
    for argv in (["diff", "../../x"], ["accept", "../../x"], ["reject", "../../x"], ["verify", "../../x"],
                 ["rebase", "../../x"], ["revise", "../../x", "-m", "note"], ["diff", str(planted.parent)],
                 ["diff", f"{run_id}/../../../x"]):
        result = run_cli(*argv, cwd=repo)
        assert_clear_refusal(result, 2, "not a run id")
        assert "PLANTED" not in result.stdout + result.stderr
    assert world(repo, state_dir) == before
    assert json.loads(planted.read_text())["title"] == "PLANTED"
    shown = run_cli("diff", run_id[:9], cwd=repo)  # a prefix still finds the run
    assert shown.returncode == 0 and f"run {run_id}:" in shown.stdout


# -- unreadable records --------------------------------------------------------------------------


def test_unreadable_records_are_listed_with_their_path_and_reason(repo: Path, spec: Path, state_dir: Path):
    good = first_run(repo, spec)
    runs = state_dir / "runs"
    record = (runs / good / "run.json").read_text()
    bad = {
        "261101-000000-aa": "not valid JSON",
        "261101-000001-bb": "not a run record (title: field required",
        "261101-000002-cc": "cannot be read (not a regular file)",
        "261101-000003-dd": "its id",
        "261101-000004-ee": "cannot be read (Is a directory)",
        "261101-000005-ff": "cannot be read (a symbolic link",
        "261101-000006-gg": "not a run record (the record: input should be an object",
    }
    for run_id in bad:
        (runs / run_id).mkdir()
    (runs / "261101-000000-aa" / "run.json").write_text('{"id": "261101-000000-aa", ')
    (runs / "261101-000001-bb" / "run.json").write_text(json.dumps({k: v for k, v in json.loads(record).items() if k != "title"} | {"id": "261101-000001-bb"}))
    os.mkfifo(runs / "261101-000002-cc" / "run.json")  # never opened: a FIFO would block
    (runs / "261101-000003-dd" / "run.json").write_text(record)  # another run's record
    (runs / "261101-000004-ee" / "run.json").mkdir()
    (runs / "261101-000005-ff" / "run.json").symlink_to(runs / good / "run.json")
    (runs / "261101-000006-gg" / "run.json").write_text("[]")

    listed = run_cli("runs", cwd=repo, timeout=30)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith(good)
    for run_id, reason in bad.items():
        (line,) = [line for line in lines if line.startswith(run_id)]
        assert "unreadable" in line and str(runs / run_id / "run.json") in line and reason in line, line

    as_json = run_cli("runs", "--json", cwd=repo, timeout=30)
    assert as_json.returncode == 0, as_json.stderr
    entries = {entry["id"]: entry for entry in json.loads(as_json.stdout)}
    assert entries[good]["status"] == "review" and entries[good]["title"] == "Add a greeting"
    for run_id, reason in bad.items():
        assert entries[run_id]["status"] == "unreadable"
        assert entries[run_id]["path"] == str(runs / run_id / "run.json") and reason in entries[run_id]["reason"]

    refused = run_cli("diff", "261101-000000-aa", cwd=repo, timeout=30)
    assert_clear_refusal(refused, 2, f"{runs / '261101-000000-aa' / 'run.json'}: unreadable run record: not valid JSON")
    # Nothing else minds them: a new run gets the next number and runs.
    again = run_cli("run", str(spec), "--json", cwd=repo, env=standin_env("kimi_success"), timeout=60)
    assert again.returncode == 0, again.stderr
    assert (runs / "261101-000000-aa" / "run.json").read_text() == '{"id": "261101-000000-aa", '


def test_a_state_dir_that_is_a_file_is_a_clear_refusal(repo: Path, spec: Path, tmp_path: Path):
    state = tmp_path / "state-file"
    state.write_text("not a directory\n")
    before = world(repo, tmp_path / "nothing")
    env = {**standin_env("kimi_success"), "HYBRID_TUI_STATE_DIR": str(state)}
    assert_clear_refusal(run_cli("run", str(spec), cwd=repo, env=env), 2, f"cannot write the state dir {state}: Not a directory")
    assert_clear_refusal(run_cli("runs", cwd=repo, env=env), 2, f"cannot read the state dir {state}: Not a directory")
    assert state.read_text() == "not a directory\n"
    assert world(repo, tmp_path / "nothing") == before


# -- read-only, forbidden, full ------------------------------------------------------------------


def test_a_read_only_state_dir_refuses_every_write_and_still_lists(repo: Path, spec: Path, state_dir: Path, bwrap: str):
    run_id = first_run(repo, spec)
    before, files = world(repo, state_dir), files_of(state_dir)
    read_only = ["--ro-bind", str(state_dir), str(state_dir)]
    env = standin_env("kimi_success")
    for argv in (["run", str(spec)], ["verify", run_id], ["accept", run_id], ["reject", run_id], ["rebase", run_id],
                 ["revise", run_id, "-m", "again"]):
        result = in_bwrap(bwrap, read_only, cli(*argv), cwd=repo, env=env)
        assert_clear_refusal(result, 2, f"cannot write the state dir {state_dir}: Read-only file system")
    listed = in_bwrap(bwrap, read_only, cli("runs"), cwd=repo)
    assert listed.returncode == 0 and listed.stdout.startswith(run_id), listed.stderr
    shown = in_bwrap(bwrap, read_only, cli("diff", run_id), cwd=repo)
    assert shown.returncode == 0 and "hello.txt" in shown.stdout, shown.stderr
    assert files_of(state_dir) == files and world(repo, state_dir) == before


def test_a_state_dir_without_write_permission_refuses_cleanly(repo: Path, spec: Path, state_dir: Path, bwrap: str):
    run_id = first_run(repo, spec)
    before, files = world(repo, state_dir), files_of(state_dir)
    (state_dir / "runs").chmod(0o500)
    state_dir.chmod(0o500)
    try:
        # An ordinary user without capabilities (root would ignore the modes).
        user = ["--unshare-user", "--uid", "1000", "--gid", "1000"]
        result = in_bwrap(bwrap, user, cli("run", str(spec)), cwd=repo, env=standin_env("kimi_success"))
        assert_clear_refusal(result, 2, "Permission denied")
        listed = in_bwrap(bwrap, user, cli("runs"), cwd=repo)
        assert listed.returncode == 0 and listed.stdout.startswith(run_id), listed.stderr
    finally:
        state_dir.chmod(0o700)
        (state_dir / "runs").chmod(0o700)
    assert files_of(state_dir) == files and world(repo, state_dir) == before


DRIVER = r'''
"""Runs inside bwrap, with the state dir on a small tmpfs: each step's result, then the state."""
import json, os, subprocess, sys
from pathlib import Path

state, spec, out, fill = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
cli = [sys.executable, "-m", "hybrid_tui"]
steps = {}

def step(name, *args, env=None):
    done = subprocess.run([*cli, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)
    steps[name] = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

step("first", "run", spec, "--json")
if fill != "none":
    with open(state / "filler", "wb", buffering=0) as handle:  # till the disk is full
        try:
            while handle.write(b"x" * 4096):
                pass
        except OSError:
            pass
    if fill == "one-page-left":
        size = (state / "filler").stat().st_size
        os.truncate(state / "filler", size - size % 4096 - 4096)
step("second", "run", spec, "--json", env=json.loads(os.environ["SECOND_ENV"]))
step("runs", "runs", "--json")
records = {}
for path in sorted(state.rglob("*")):
    rel = str(path.relative_to(state))
    if path.name == "run.json":
        try:
            records[rel] = json.loads(path.read_text())["status"]
        except ValueError as err:
            records[rel] = f"INVALID: {err}"
listing = sorted(str(p.relative_to(state)) for p in state.rglob("*") if "worktrees/" not in str(p.relative_to(state)) or str(p.relative_to(state)).count("/") == 1)
out.write_text(json.dumps({"steps": steps, "records": records, "files": listing}))
'''


def full_state_dir(bwrap: str, repo: Path, spec: Path, state_dir: Path, tmp_path: Path, *, size: int, fill: str,
                   second_env: dict[str, str]) -> dict:
    driver, out = tmp_path / "driver.py", tmp_path / "out.json"
    driver.write_text(DRIVER)
    env = {**standin_env("kimi_success"), "SECOND_ENV": json.dumps(second_env)}
    done = in_bwrap(bwrap, ["--size", str(size), "--tmpfs", str(state_dir)],
                    [sys.executable, str(driver), str(state_dir), str(spec), str(out), fill], cwd=repo, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["steps"]["first"]["rc"] == 0, report["steps"]["first"]["stderr"]
    return report


@pytest.mark.parametrize("fill", ["full", "one-page-left"])
def test_a_full_state_dir_refuses_a_new_run_and_keeps_the_others(repo: Path, spec: Path, state_dir: Path, tmp_path: Path,
                                                                 bwrap: str, fill: str):
    branches = git(repo, "branch", "--list")
    report = full_state_dir(bwrap, repo, spec, state_dir, tmp_path, size=1024 * 1024, fill=fill, second_env={})
    first = json.loads(report["steps"]["first"]["stdout"].splitlines()[-1])["run_id"]
    second = report["steps"]["second"]
    assert second["rc"] == 2, second
    assert second["stderr"].startswith("hybrid-tui: cannot write ") and "No space left on device" in second["stderr"], second["stderr"]
    assert "Traceback" not in second["stderr"] and second["stdout"] == ""
    # Nothing of the refused run is left, and nothing half-written: no temp file, no run dir.
    assert report["records"] == {f"runs/{first}/run.json": "review"}
    assert not [name for name in report["files"] if name.endswith(".tmp")], report["files"]
    assert [name for name in report["files"] if name.startswith("runs/") and name.count("/") == 1] == [f"runs/{first}"]
    listed = report["steps"]["runs"]
    assert listed["rc"] == 0 and [run["id"] for run in json.loads(listed["stdout"])] == [first], listed["stderr"]
    # Its branch and worktree were not created either (the first run's branch is the only new one).
    assert git(repo, "branch", "--list").count("kimi/") == branches.count("kimi/") + 1


def test_a_state_dir_filling_up_mid_run_fails_the_run_with_exit_1(repo: Path, spec: Path, state_dir: Path, tmp_path: Path,
                                                                   bwrap: str):
    # The agent's first line is 4 MiB: its transcript cannot be written on a 1 MiB state dir.
    report = full_state_dir(bwrap, repo, spec, state_dir, tmp_path, size=1024 * 1024, fill="none",
                            second_env={"KIMI_STANDIN_EXTRA_LINE_BYTES": str(4 * 1024 * 1024)})
    second = report["steps"]["second"]
    assert second["rc"] == 1, second
    assert "failed mid-way" in second["stderr"] and "No space left on device" in second["stderr"], second["stderr"]
    assert "Traceback" not in second["stderr"]
    # Every record is whole JSON (the second as it was last written), no temp file is left,
    # and both runs still list.
    assert len(report["records"]) == 2 and not any(status.startswith("INVALID") for status in report["records"].values())
    assert not [name for name in report["files"] if name.endswith(".tmp")], report["files"]
    listed = report["steps"]["runs"]
    assert listed["rc"] == 0 and len(json.loads(listed["stdout"])) == 2, listed["stderr"]


def test_a_worktree_git_cannot_create_leaves_no_run_behind(repo: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch):
    from hybrid_tui.agents.registry import make_agent
    from hybrid_tui.config import Settings
    from hybrid_tui.core.run.dispatch import prepare_run
    from hybrid_tui.core.runs import StateDirError

    for key, value in standin_env("kimi_success").items():
        monkeypatch.setenv(key, value)
    store = RunStore(state_dir, id_factory=lambda now: "261101-120000-aa")
    in_the_way = state_dir / "worktrees" / "261101-120000-aa"
    in_the_way.mkdir(parents=True)
    (in_the_way / "someone-elses.txt").write_text("not a worktree\n")  # git refuses a non-empty dir
    refs = git(repo, "for-each-ref", "--format=%(refname)")
    with pytest.raises(StateDirError, match="cannot create the run's worktree .*261101-120000-aa: .*already exists"):
        prepare_run(store, repo, SPEC, make_agent("kimi", Settings()))
    assert not (state_dir / "runs" / "261101-120000-aa").exists()
    assert git(repo, "for-each-ref", "--format=%(refname)") == refs  # no branch left either
    assert (in_the_way / "someone-elses.txt").read_text() == "not a worktree\n"
