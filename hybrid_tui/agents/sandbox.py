"""The sandbox the agent and the checks run in: bubblewrap (`bwrap`), where it works.

    status = sandbox_status("auto")          # Sandbox(tool="bwrap 0.8.0") or Sandbox(None, reason)
    argv = bwrap_argv(Confinement(...), invocation.argv)

What the sandboxed process sees (`bwrap_argv`):
- the whole filesystem read-only (`--ro-bind / /`), its own `/dev`, `/proc` and a private `/tmp`
  (a tmpfs; paths under the real /tmp that the run needs, e.g. a repository, the state dir or
  HOME in tests, are bound again, read-only, after it);
- writable: the run's worktree, the worktree's admin dir (`.git/worktrees/<id>`: its index and
  HEAD), the repository's object store (so `git add` works; `objects/info`, where an
  `alternates` file could point the store into the worktree, stays read-only), and the agent's
  data dir (a per-run copy, see below);
- read-only over those: the admin dir's `commondir`, `gitdir` and `config.worktree` and the
  worktree's own `.git` file (rewriting them could send hybrid-tui's next git call elsewhere),
  and the data dir's config and credentials. The repository's refs, shared config and hooks
  and the user's checkout are never writable: the agent cannot commit or move a branch
  (hybrid-tui commits for it, as without a sandbox);
- its own pid namespace (`--unshare-pid`): when the agent ends, everything it started ends with
  it; `--die-with-parent` (the parent is the run's supervisor, not the app); `--new-session`
  (no TIOCSTI into the user's terminal); the network kept for the agent (it must reach its
  model) and cut for the checks unless `[review] check_network` allows it.

The agent's data dir (Kimi Code's `KIMI_CODE_HOME`, the legacy CLI's `KIMI_SHARE_DIR`, Claude's
`CLAUDE_CONFIG_DIR`) holds its settings and hooks: an agent that could write there could plant
a hook the user's own next session runs, outside any sandbox. So the run gets a copy,
`runs/<id>/agent-data/`, made on the run's first start and kept for its revisions (the session
lives there), with the config and credentials files bound read-only. What the copy leaves out
(sessions, logs, caches of other runs) is listed per agent in `DATA_DIRS`.

`sandbox_status(mode)`: "off" never sandboxes; "auto" sandboxes when a probe (a real `bwrap`
run) works, else says why not; "required" raises `SandboxUnavailable` (an InputError) when it
does not. Runs without a sandbox say so in their header and summary, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hybrid_tui.core.errors import InputError

SANDBOX_ENV = "HYBRID_TUI_SANDBOX"  # overrides the `sandbox` setting
BWRAP_ENV = "HYBRID_TUI_BWRAP"  # the bubblewrap binary to use (default: `bwrap` on PATH)
PROBE_TIMEOUT = 10.0
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`)"


class SandboxUnavailable(InputError):
    """`sandbox = "required"` and bubblewrap does not work here."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """What confines a run: `tool` ("bwrap 0.8.0"), or None and the `reason` there is none."""

    tool: str | None
    reason: str = ""

    @property
    def on(self) -> bool:
        return self.tool is not None


_probed: dict[str, Sandbox] = {}
_lock = threading.Lock()


def bwrap_command() -> str:
    return os.environ.get(BWRAP_ENV) or "bwrap"


def probe(bwrap: str | None = None) -> Sandbox:
    """Whether bubblewrap works here: a real sandboxed `true`, as a run would start it (user and
    pid namespaces can be refused inside containers). Cached per binary; runs a subprocess."""
    bwrap = bwrap or bwrap_command()
    with _lock:
        if bwrap in _probed:
            return _probed[bwrap]
    path = shutil.which(bwrap)
    if path is None:
        found = Sandbox(None, f"bubblewrap (`{bwrap}`) is not installed: {INSTALL_HINT}")
    else:
        argv = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                "--unshare-pid", "--die-with-parent", "--new-session", "--", "true"]  # fmt: skip
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            found = Sandbox(None, f"bubblewrap does not work here ({err})")
        else:
            if done.returncode == 0:
                version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=PROBE_TIMEOUT)
                found = Sandbox(version.stdout.strip() or "bwrap")
            else:
                said = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
                found = Sandbox(None, f"bubblewrap does not work here: {said} (namespaces may be disabled)")
    with _lock:
        _probed[bwrap] = found
    return found


def clear_probe_cache() -> None:
    with _lock:
        _probed.clear()


def sandbox_status(mode: str) -> Sandbox:
    """The sandbox a run gets under the `sandbox` setting ("auto", "required", "off"), which
    `HYBRID_TUI_SANDBOX` overrides when set."""
    mode = os.environ.get(SANDBOX_ENV) or mode
    if mode not in ("auto", "required", "off"):
        raise InputError(f"{SANDBOX_ENV}={mode!r}: choose auto, required or off")
    if mode == "off":
        return Sandbox(None, "the sandbox is turned off (sandbox = \"off\")")
    found = probe()
    if not found.on and mode == "required":
        raise SandboxUnavailable(f"sandbox = \"required\", but {found.reason}", fix=INSTALL_HINT)
    return found


# -- what a sandboxed process sees ---------------------------------------------------------


@dataclass(slots=True)
class Confinement:
    """The paths of one sandboxed process. `writable` are bound read-write, `read_only` are
    bound read-only over them afterwards; `visible` are paths the process must see that may lie
    under the real /tmp (bound read-only after the private /tmp hides them)."""

    cwd: Path
    writable: list[Path] = field(default_factory=list)
    read_only: list[Path] = field(default_factory=list)
    visible: list[Path] = field(default_factory=list)
    network: bool = True


def _under_tmp(path: Path) -> bool:
    return path == Path("/tmp") or Path("/tmp") in path.parents


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """The paths with none of their ancestors among them, shortest first."""
    kept: list[Path] = []
    for path in sorted({Path(os.path.abspath(p)) for p in paths}, key=lambda p: (len(p.parts), str(p))):
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept


def bwrap_argv(confinement: Confinement, argv: list[str], bwrap: str | None = None) -> list[str]:
    """`bwrap ... -- argv` for `confinement` (see the module docstring). Paths that do not
    exist are left out (bwrap refuses to bind them)."""
    c = confinement
    bwrap = bwrap or bwrap_command()
    out = [shutil.which(bwrap) or bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    shown = [p for p in _outermost([*c.visible, *c.writable, c.cwd]) if _under_tmp(p) and p != Path("/tmp")]
    for path in shown:
        if path.exists():
            out += ["--ro-bind", str(path), str(path)]
    for path in c.writable:
        if path.exists():
            out += ["--bind", str(path), str(path)]
    for path in c.read_only:
        if path.exists():
            out += ["--ro-bind", str(path), str(path)]
    out += ["--unshare-pid", "--die-with-parent", "--new-session"]
    if not c.network:
        out.append("--unshare-net")
    out += ["--chdir", str(c.cwd), "--"]
    return out + argv


# -- git: the worktree's own pieces ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorktreeGit:
    """Where a linked worktree's git data is: its admin dir and the repository's common dir."""

    admin_dir: Path
    common_dir: Path

    def writable(self) -> list[Path]:
        return [self.admin_dir, self.common_dir / "objects"]

    def read_only(self, worktree: Path) -> list[Path]:
        guarded = [self.admin_dir / name for name in ("commondir", "gitdir", "config.worktree")]
        return [*guarded, worktree / ".git", self.common_dir / "objects" / "info"]


# -- the agent's data dir --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataDir:
    """An agent's data dir: the variable that moves it, where it is by default (under HOME),
    what the copy leaves out, and what stays read-only in it."""

    env: str
    default: str
    skip: frozenset[str]
    protected: tuple[str, ...]


DATA_DIRS = {
    ("kimi", "code"): DataDir(
        "KIMI_CODE_HOME", ".kimi-code",
        frozenset({"sessions", "logs", "cache", "file-history", "session_index.jsonl", "workspaces.json", "update"}),
        ("config.toml", "tui.toml", "mcp.json", "credentials", "hooks", "plugins"),
    ),
    ("kimi", "legacy"): DataDir(
        "KIMI_SHARE_DIR", ".kimi",
        frozenset({"sessions", "logs", "plans", "user-history", "kimi.json"}),
        ("config.toml", "credentials", "mcp.json"),
    ),
    ("claude", ""): DataDir(
        "CLAUDE_CONFIG_DIR", ".claude",
        frozenset({"projects", "plans", "todos", "shell-snapshots", "statsig", "logs", "debug", "file-history", "session-env"}),
        ("settings.json", "settings.local.json", ".credentials.json", "hooks", "plugins", "CLAUDE.md", "agents", "commands", "skills"),
    ),
}  # fmt: skip


def data_dir_of(agent: str, flavour: str) -> DataDir | None:
    return DATA_DIRS.get((agent, flavour if agent == "kimi" else ""))


def copy_data_dir(data: DataDir, env: dict[str, str], target: Path) -> tuple[Path, list[Path]]:
    """Make (once) the run's copy of the agent's data dir at `target`; returns it and the files
    in it to keep read-only. The source is `env`'s variable, else the process's, else
    ~/<default>; a missing source gives an empty copy."""
    value = env.get(data.env) or os.environ.get(data.env)
    source = Path(value).expanduser() if value else Path.home() / data.default
    if not target.exists():
        target.mkdir(parents=True)
        target.chmod(0o700)
        if source.is_dir() and source.resolve() != target.resolve():
            for entry in source.iterdir():
                if entry.name in data.skip:
                    continue
                dest = target / entry.name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.copytree(entry, dest, symlinks=True, ignore_dangling_symlinks=True)
                else:
                    shutil.copy2(entry, dest, follow_symlinks=False)
    return target, [target / name for name in data.protected]
