"""Pull request: push a run's branch and open a PR with the spec as its body, through `gh`.

    ok, reason = pr_available(run)           # offer the action only when ok
    url = open_pull_request(store, run)      # git push -u REMOTE BRANCH; gh pr create ...

Behaviour choices:
- Offered only when the repository has a remote and `gh` (the GitHub CLI) is on PATH, for a
  run that has ended, is not landed, and whose branch exists. `reason` says why not, or what
  the action will do.
- The remote is the base branch's upstream remote (`branch.<base>.remote`) when there is one,
  else `origin`, else the first remote `git remote` lists.
- The push is `git push -u REMOTE BRANCH` from the user's repository (it sets the branch's
  upstream there: git config only, no file of the checkout changes). It is the user's push:
  the repository's pre-push hook runs. `GIT_TERMINAL_PROMPT=0` turns a credential prompt into
  an error instead of a hang.
- The PR is `gh pr create --head BRANCH --base BASE --title TITLE --body-file runs/<id>/spec.md`
  run in the repository (gh finds the GitHub repository from its remotes). Its URL (the last
  URL gh prints) is returned and kept in `run.pr_url`; when gh says a PR for the branch exists
  already, that PR's URL is returned.
- The push writes the repository (the branch's upstream in its config, remote-tracking refs),
  so it holds the repository's writer lock (`merge.run_writer`, operation "pr"); gh does not.
- Failures are `ActionFailed` with git's or gh's reason (its first `fatal:`/`error:` line, else
  its last line); nothing is retried.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.land.merge import run_writer
from hybrid_tui.core.runs import Run, RunStore

GH_INSTALL_HINT = "install the GitHub CLI (https://cli.github.com) and log in with `gh auth login`"
COMMAND_TIMEOUT = 120.0
_URL = re.compile(r"https?://\S+")


def find_remote(run: Run) -> str | None:
    """The remote to push to (module docstring), or None when the repository has none."""
    root = run.root
    remotes = git.git(root, "remote").split()
    if not remotes:
        return None
    status, upstream, _ = git.git_rc(root, "config", "--get", f"branch.{run.base_branch}.remote")
    if status == 0 and upstream.strip() in remotes:
        return upstream.strip()
    return "origin" if "origin" in remotes else remotes[0]


def find_gh(path: str | None = None) -> str | None:
    """Where `gh` is on `path` (default: $PATH), or None."""
    return shutil.which("gh", path=path if path is not None else os.environ.get("PATH", os.defpath))


def pr_available(run: Run, *, path: str | None = None) -> tuple[bool, str]:
    """(can a PR be opened for `run` now, why not / what it will do). Reads only."""
    if blocked := run.blocked():
        return False, blocked
    root = run.root
    if git.branch_tip(run) is None:
        return False, f"the run's branch {run.branch} no longer exists"
    remote = find_remote(run)
    if remote is None:
        return False, f"the repository {root.name} has no git remote to push to"
    if find_gh(path) is None:
        return False, f"gh (the GitHub CLI) is not installed: {GH_INSTALL_HINT}"
    return True, f"push {run.branch} to {remote} and open a pull request into {run.base_branch} with gh"


def push_argv(run: Run, remote: str) -> list[str]:
    return ["git", "push", "-u", remote, run.branch]


def gh_create_argv(run: Run, remote: str) -> list[str]:
    """The `gh pr create` command for `run` (the branch is already on `remote`)."""
    del remote  # gh finds the repository from the checkout's remotes; --head names the branch
    return [
        "gh", "pr", "create",
        "--head", run.branch,
        "--base", run.base_branch,
        "--title", run.title,
        "--body-file", run.spec_path,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    """No prompts; and for every git that `git push` or gh runs, the repository's hooks and
    fsmonitor set aside as for hybrid-tui's own git (`git.SAFE_CONFIG`): no pre-push hook."""
    return git.safe_config_env(os.environ | {"GIT_TERMINAL_PROMPT": "0", "GH_PROMPT_DISABLED": "1"})


def _run(argv: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=COMMAND_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise ActionFailed(f"{what} did not finish within {COMMAND_TIMEOUT:g} s.") from err
    except OSError as err:
        raise ActionFailed(f"{what} could not start: {err.strerror}", fix=GH_INSTALL_HINT) from err


_REASON = re.compile(r"^\s*(?:fatal:|error:|! |GraphQL:|HTTP \d)")


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    """What went wrong in one line: the first `fatal:`/`error:`/`!` line, else the last line."""
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
    reasons = [line for line in lines if _REASON.match(line)]
    return (reasons or lines or [f"exit code {result.returncode}"])[0 if reasons else -1]


def push_branch(run: Run, remote: str) -> None:
    """`git push -u REMOTE BRANCH` in the run's repository; `ActionFailed` when git refuses."""
    root = run.root
    result = _run(push_argv(run, remote), root, f"git push to {remote}")
    if result.returncode != 0:
        raise ActionFailed(
            f"git could not push {run.branch} to {remote}: {_last_line(result)}",
            fix=f"Check `git -C {root} remote -v` and your access to {remote}; the branch is unchanged.",
        )


def open_pull_request(store: RunStore, run: Run, *, remote: str | None = None, path: str | None = None) -> str:
    """Push the run's branch and open a pull request with the spec as its body; its URL.
    Refused (ActionFailed, nothing pushed) when `pr_available` says no."""
    with run_writer(store, run, "pr"):
        ok, reason = pr_available(run, path=path)
        if not ok:
            raise ActionFailed(f"No pull request for run {run.id}: {reason}.")
        remote = remote or find_remote(run)
        assert remote is not None
        push_branch(run, remote)
    gh = gh_create_argv(run, remote)
    gh[0] = find_gh(path) or "gh"
    result = _run(gh, run.root, "gh pr create")
    output = (result.stdout or "") + "\n" + (result.stderr or "")
    urls = _URL.findall(output)
    if result.returncode != 0:
        if "already exists" in output and urls:
            url = urls[-1]
        else:
            raise ActionFailed(
                f"gh could not open a pull request for {run.branch}: {_last_line(result)}",
                fix=f"The branch is pushed to {remote}; open the PR by hand, or run `gh auth login` and try again.",
            )
    elif urls:
        url = urls[-1]
    else:
        raise ActionFailed(f"gh opened no pull request for {run.branch}: {_last_line(result)}")
    store.update(run, pr_url=url)
    return url
