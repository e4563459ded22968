"""How a run's agent and its checks are confined: the run's paths turned into a sandbox.

    confined = confine_agent(store, run, "kimi", "code", invocation, mode="auto")
    invocation, sandbox = confine_check(store, run, invocation, mode="auto", network=False)

With a sandbox (`agents/sandbox.py`), the agent's argv becomes `bwrap ... -- argv`: writable
only the run's worktree, its git admin dir and object store, and a per-run copy of the agent's
data dir (`runs/<id>/agent-data`, the env variable pointed at it); the state dir, the
repository and HOME visible read-only. A check gets the worktree and its git pieces writable,
and no network unless allowed. Without one the invocation is unchanged, and `Sandbox.reason`
says why: the run's header and summary show it.

"Claude implements" inside a sandbox may run Bash (its own tests): `--allowedTools Bash` is
added, which is safe there and refused outside it (ISSUE-NOTES).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hybrid_tui.agents import sandbox as sb
from hybrid_tui.agents.base import Invocation
from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed
from hybrid_tui.core.runs import Run, RunStore

NO_SANDBOX_NOTE = (
    "no sandbox: {reason}. The agent runs with your permissions; writes outside the worktree "
    "and your checkout cannot be watched reliably and are not reported."
)


def describe(sandbox: sb.Sandbox) -> str:
    """One line for a run's start: what confines it, or that nothing does and what that means."""
    if sandbox.on:
        return f"sandbox: {sandbox.tool}; only the worktree and the agent's own data are writable"
    return NO_SANDBOX_NOTE.format(reason=sandbox.reason)


def announce(mode: str) -> str:
    """`describe` for the sandbox a run under the `sandbox` setting `mode` will get (a
    "required" one that is missing is said as such: the run will refuse)."""
    try:
        return describe(sb.sandbox_status(mode))
    except sb.SandboxUnavailable as err:
        return str(err)


def checks_confinement(mode: str, network: bool) -> str:
    """Where a run's checks will run, to finish "These checks ...": "run in the worktree, in a
    sandbox (bwrap 0.8.0) without network", or without one and why."""
    try:
        sandbox = sb.sandbox_status(mode)
    except sb.SandboxUnavailable as err:
        return f"will not run: {err}"
    if sandbox.on:
        net = "with network" if network else "without network"
        return f"run in the worktree, in a sandbox ({sandbox.tool}) {net}, where only the worktree is writable"
    return f"run in the worktree with your own permissions, no sandbox ({sandbox.reason})"


def worktree_git(run: Run) -> sb.WorktreeGit:
    """The run's worktree admin dir and the repository's common dir, found from the repository
    (never from the worktree's own `.git` file, which the agent could have rewritten); works
    when the user's checkout is itself a linked worktree."""
    root, worktree = run.root, run.worktree_dir
    common = git.common_dir(root)
    admin = git.worktree_admin_dir(root, worktree)
    if admin is None:
        raise ActionFailed(f"run {run.id}: {worktree} is not a worktree of {root} any more")
    (common / "objects" / "info").mkdir(parents=True, exist_ok=True)  # so it can be bound read-only
    return sb.WorktreeGit(admin_dir=admin, common_dir=common)


def _visible(store: RunStore, run: Run) -> list[Path]:
    """Paths the sandboxed process must see although they may be under the real /tmp: the
    repository, the state dir, HOME, and the programs on PATH (a venv's `bin` brings its root,
    so that `#!/usr/bin/env python3` finds the venv's interpreter and its packages)."""
    programs = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and os.path.isabs(entry) and entry.startswith("/tmp/"):
            programs.append(_install_root(Path(entry) / "program"))
    return [run.root, store.root, Path.home(), *programs]


def _install_root(program: Path) -> Path:
    """What must be visible for `program` to run: the root above its `bin/`, else its folder."""
    folder = program.parent
    return folder.parent if folder.name == "bin" else folder


@dataclasses.dataclass(frozen=True, slots=True)
class Confined:
    """An agent's invocation as it will run, what confines it, and where its data dir is when
    it got a per-run copy (None: its own)."""

    invocation: Invocation
    sandbox: sb.Sandbox
    agent_data: Path | None = None


def confine_agent(
    store: RunStore, run: Run, agent_name: str, flavour: str, invocation: Invocation, *, mode: str
) -> Confined:
    sandbox = sb.sandbox_status(mode)
    if not sandbox.on:
        return Confined(invocation, sandbox)
    copy = None
    worktree = run.worktree_dir
    gitdirs = worktree_git(run)
    writable, read_only = [worktree, *gitdirs.writable()], gitdirs.read_only(worktree)
    env = dict(invocation.env)
    if (data := sb.data_dir_of(agent_name, flavour)) is not None:
        copy, protected = sb.copy_data_dir(data, env, store.run_dir(run.id) / "agent-data")
        env[data.env] = str(copy)
        writable.append(copy)
        read_only += protected
    visible = _visible(store, run)
    if invocation.prompt_file is not None:
        visible.append(invocation.prompt_file.parent)
    # The agent's own install (a `bin/` wrapper brings its root: Kimi Code's node and modules).
    visible += [_install_root(Path(p)) for p in invocation.argv[:1] if Path(p).is_absolute()]
    argv = list(invocation.argv)
    if agent_name == "claude" and "--allowedTools" not in argv:
        argv += ["--allowedTools", "Bash"]
    confinement = sb.Confinement(cwd=worktree, writable=writable, read_only=read_only, visible=visible)
    wrapped = dataclasses.replace(invocation, argv=sb.bwrap_argv(confinement, argv), env=env)
    return Confined(wrapped, sandbox, copy)


def confine_check(
    store: RunStore, run: Run, invocation: Invocation, *, mode: str, network: bool
) -> tuple[Invocation, sb.Sandbox]:
    sandbox = sb.sandbox_status(mode)
    if not sandbox.on:
        return invocation, sandbox
    worktree = run.worktree_dir
    gitdirs = worktree_git(run)
    confinement = sb.Confinement(
        cwd=worktree,
        writable=[worktree, *gitdirs.writable()],
        read_only=gitdirs.read_only(worktree),
        visible=_visible(store, run),
        network=network,
    )
    return dataclasses.replace(invocation, argv=sb.bwrap_argv(confinement, invocation.argv)), sandbox
