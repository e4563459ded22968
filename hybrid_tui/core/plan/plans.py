"""Claude's plans: where they live, listing them, reading one, and watching the directory.

Behaviour choices:
- `find_plans_dir` follows DESIGN.md "Where things live": `--plans-dir` > `plansDirectory` in
  the project's `.claude/settings.local.json`, then `.claude/settings.json` > `plansDirectory`
  in the user's settings (`$CLAUDE_CONFIG_DIR/settings.json`, or `~/.claude/settings.json` when
  CLAUDE_CONFIG_DIR is unset) > `$CLAUDE_CONFIG_DIR/plans` > `~/.claude/plans`. A
  `plansDirectory` is relative to the project root wherever it is set; `~` is expanded. One
  that lands outside the project root (`../home/.ssh`, an absolute path elsewhere, `~/x`, a
  symlink in the project pointing out of it) is ignored, as Claude Code ignores it: the next
  source applies, and `PlansLocation.ignored` says what was passed over. A settings file that
  is missing, not a regular file, not JSON, or whose `plansDirectory` is not a non-empty
  string is skipped silently. Nothing is ever created.
- `list_plans` walks the directory recursively (people keep `plans/completed/...`). It lists
  `*.md` regular files (symlinks to regular files included); it skips FIFOs, sockets, broken
  symlinks, hidden files and directories, and does not descend into symlinked directories
  (no loops). Newest mtime first, ties by path. Only the first 64 KiB of each file is read, for
  the title; a file that is binary or not UTF-8 still lists, titled by its file name stem.
- `read_plan` never opens a FIFO (it stats first, and opens non-blocking and re-checks the
  open descriptor in case the file was swapped). Bad input is an `InputError` naming the file
  and the reason. A UTF-8 BOM is dropped and CRLF becomes LF.
- `watch_plans` wraps `watchfiles.awatch` with a low debounce. A missing plans directory is
  not an error: its nearest existing ancestor is watched (non-recursively) until it appears.
  Every batch, and every `recheck_ms` without one, the directory's existence is re-checked, so
  a missed creation or deletion is picked up late rather than never.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import re
import stat
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_tui.core.errors import InputError

if TYPE_CHECKING:
    from watchfiles import Change

MAX_PLAN_BYTES = 1024 * 1024
TITLE_HEAD_BYTES = 64 * 1024

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True, slots=True)
class Plan:
    """One plan file as listed: `root` is the plans dir it was listed from."""

    path: Path
    title: str
    mtime: float
    size: int
    root: Path | None = None

    @property
    def name(self) -> str:
        """The path relative to the plans dir (posix), e.g. `completed/old-plan.md`."""
        if self.root is None:
            return self.path.name
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.name


@dataclass(frozen=True)
class PlansLocation:
    """The plans dir and the reason it was chosen (for the status line and error messages);
    `ignored`: each `plansDirectory` passed over on the way because it is outside the project,
    said in words (`plansDirectory "../x" in FILE is outside the project: ignored`)."""

    path: Path
    source: str
    ignored: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Where the plans live


CONFIG_SOURCE = "plans_dir in config.toml"


def find_plans_dir(project_root: Path, flag: Path | None = None, flag_source: str = "--plans-dir") -> PlansLocation:
    """The plans directory for `project_root` by DESIGN.md's precedence; never creates it.
    `flag` is the explicit choice (the --plans-dir flag, or hybrid-tui's own config file, which
    `flag_source` then names)."""
    if flag is not None:
        return PlansLocation(_absolute(Path(flag).expanduser()), flag_source)
    root = _absolute(Path(project_root))
    config_env = os.environ.get("CLAUDE_CONFIG_DIR")
    config_dir = Path(config_env).expanduser() if config_env else None
    user_settings = (config_dir or Path.home() / ".claude") / "settings.json"
    ignored: list[str] = []
    for settings in (
        root / ".claude" / "settings.local.json",
        root / ".claude" / "settings.json",
        user_settings,
    ):
        value = _plans_directory_setting(settings)
        if value is None:
            continue
        path = _absolute(root / Path(value).expanduser())
        if not _within(path, root):  # Claude Code ignores it too, and keeps its default
            ignored.append(f"plansDirectory {json.dumps(value)} in {settings} is outside the project: ignored")
            continue
        return PlansLocation(path, f"plansDirectory in {settings}", tuple(ignored))
    if config_dir is not None:
        return PlansLocation(_absolute(config_dir / "plans"), "$CLAUDE_CONFIG_DIR/plans", tuple(ignored))
    return PlansLocation(Path.home() / ".claude" / "plans", "~/.claude/plans", tuple(ignored))


def _within(path: Path, root: Path) -> bool:
    """Whether `path` is `root` or under it, once symlinks are resolved (a link in the project
    to a directory outside it is outside)."""
    real, real_root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real == real_root or real_root in real.parents


def _absolute(path: Path) -> Path:
    """Absolute and lexically normalised (`a/../b` -> `b`), without resolving symlinks."""
    return Path(os.path.abspath(path))


def _plans_directory_setting(settings: Path) -> str | None:
    """`plansDirectory` from one settings file, or None when the file gives no usable value."""
    try:
        with os.fdopen(_open_regular(settings), "rb") as handle:  # a FIFO is refused, not read
            data = json.loads(handle.read().decode("utf-8-sig"))
    except (OSError, ValueError):  # missing, not a regular file, not UTF-8, not JSON
        return None
    value = data.get("plansDirectory") if isinstance(data, dict) else None
    if isinstance(value, str) and value.strip():
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Listing


def list_plans(plans_dir: Path) -> list[Plan]:
    """Every plan under `plans_dir`, newest first (ties by path); [] if the dir is missing."""
    plans = []
    for path, st in _iter_plan_files(Path(plans_dir)):
        title = _head_title(path, fallback=path.stem)
        plans.append(Plan(path=path, title=title, mtime=st.st_mtime, size=st.st_size, root=Path(plans_dir)))
    plans.sort(key=lambda p: (-p.mtime, p.path.as_posix()))
    return plans


def _iter_plan_files(plans_dir: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """(path, stat) of each visible `*.md` regular file under `plans_dir`, recursively."""
    try:
        entries = list(os.scandir(plans_dir))
    except OSError:  # missing, not a directory, unreadable
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _iter_plan_files(plans_dir / entry.name)
                continue
            if not entry.name.endswith(".md"):
                continue
            st = entry.stat()  # follows a symlink to its target
        except OSError:  # vanished, broken symlink
            continue
        if stat.S_ISREG(st.st_mode):
            yield plans_dir / entry.name, st


def _head_title(path: Path, fallback: str) -> str:
    """The title from the first 64 KiB of `path`; `fallback` if unreadable, binary or not UTF-8."""
    try:
        fd = _open_regular(path)
    except OSError:
        return fallback
    with os.fdopen(fd, "rb") as handle:
        try:
            head = handle.read(TITLE_HEAD_BYTES)
        except OSError:
            return fallback
    if b"\0" in head:
        return fallback
    try:
        # Incremental decoding tolerates a character cut at the 64 KiB boundary.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return fallback
    return plan_title(text, fallback)


def plan_title(text: str, fallback: str) -> str:
    """The first level-1 ATX heading (`# Title`) outside fenced code blocks, else the first
    heading of any level (some plans start at `##`), else `fallback`.

    Up to three spaces of indent are allowed and a closing `#` sequence is dropped, as in
    CommonMark; an empty heading is passed over.
    """
    fence: str | None = None
    first_any: str | None = None
    for line in text.splitlines():
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                if not line.strip().lstrip(fence[0]):
                    fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        heading = _HEADING.match(line)
        if heading and heading.group(2).strip():
            if len(heading.group(1)) == 1:
                return heading.group(2).strip()
            first_any = first_any or heading.group(2).strip()
    return first_any or fallback


# ---------------------------------------------------------------------------------------------
# Reading one plan


def read_plan(path: Path) -> str:
    """The plan's text (BOM dropped, CRLF -> LF), or `InputError` naming the file and reason."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except NotADirectoryError:
        raise _bad(path, "no such file (a parent is not a directory)") from None
    except OSError as err:
        raise _bad(path, f"cannot be read ({err.strerror or err})") from None
    problem = _not_regular_reason(st.st_mode)
    if problem:
        raise _bad(path, problem)
    if st.st_size > MAX_PLAN_BYTES:
        raise _too_large(path, st.st_size)
    try:
        fd = _open_regular(path)
    except _NotRegular as err:  # swapped for something else since the stat
        raise _bad(path, _not_regular_reason(err.mode) or "is not a regular file") from None
    except OSError as err:
        raise _bad(path, f"cannot be read ({err.strerror or err})") from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_PLAN_BYTES + 1)  # the file may have grown since stat
    if len(data) > MAX_PLAN_BYTES:
        raise _too_large(path, len(data))
    if not data.strip():
        raise _bad(path, "the file is empty" if not data else "the file holds only whitespace")
    nul = data.find(b"\0")
    if nul >= 0:
        raise _bad(path, f"looks binary (a NUL byte at byte offset {nul})")
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        raise _bad(path, f"is not valid UTF-8 (invalid byte at byte offset {err.start + skip})") from None
    if not text.strip():
        raise _bad(path, "the file holds only whitespace")
    return text.replace("\r\n", "\n")


class _NotRegular(OSError):
    def __init__(self, mode: int) -> None:
        super().__init__("not a regular file")
        self.mode = mode


def _open_regular(path: Path) -> int:
    """An fd open for reading on `path`, which must be a regular file. Never blocks on a FIFO:
    the open is non-blocking and the descriptor is checked before anything is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _NotRegular(mode)
    return fd


def _not_regular_reason(mode: int) -> str | None:
    """Why a file of this mode is not a plan, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a plan file"
    kind = (
        "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
        else "a socket" if stat.S_ISSOCK(mode)
        else "a character device" if stat.S_ISCHR(mode)
        else "a block device" if stat.S_ISBLK(mode)
        else "a special file"
    )
    return f"is not a regular file (it is {kind})"


def _too_large(path: Path, size: int) -> InputError:
    return _bad(path, f"is too large ({size} bytes; the limit is 1 MiB)")


def _bad(path: Path, reason: str) -> InputError:
    return InputError(f"Cannot use plan {path}: {reason}")


# ---------------------------------------------------------------------------------------------
# Watching


def is_plan_change(path: Path, plans_dir: Path) -> bool:
    """Whether a change at `path` matters to the plan list: `plans_dir` itself (it appeared or
    went), or a visible `*.md` anywhere under it. Pure: looks at the names only."""
    path, plans_dir = Path(path), Path(plans_dir)
    if path == plans_dir:
        return True
    try:
        rel = path.relative_to(plans_dir)
    except ValueError:
        return False
    return path.suffix == ".md" and not any(part.startswith(".") for part in rel.parts)


def _watch_target(plans_dir: Path) -> Path:
    """`plans_dir` if it is a directory, else its nearest existing ancestor directory."""
    target = plans_dir
    while not target.is_dir() and target.parent != target:
        target = target.parent
    return target


def _snapshot(plans_dir: Path) -> dict[Path, tuple[int, int]]:
    return {path: (st.st_mtime_ns, st.st_size) for path, st in _iter_plan_files(plans_dir)}


def _snapshot_changes(before: dict[Path, tuple[int, int]], after: dict[Path, tuple[int, int]]) -> set[Path]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


class _StopFlag:
    """What awatch polls from its thread: stops on the caller's event or on our own `set()`.

    awatch calls `set()` on cancellation; keeping that here leaves the caller's event alone."""

    def __init__(self, outer: asyncio.Event | None) -> None:
        self._outer = outer
        self._set = False

    def is_set(self) -> bool:
        return self._set or (self._outer is not None and self._outer.is_set())

    def set(self) -> None:
        self._set = True


async def watch_plans(
    plans_dir: Path,
    *,
    debounce_ms: int = 50,
    step_ms: int = 20,
    recheck_ms: int = 1000,
    stop_event: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> AsyncIterator[set[Path]]:
    """Yield the set of changed plan paths after each debounced batch of file-system events.

    Paths are `.md` files under `plans_dir` (absolute), plus `plans_dir` itself when it appears
    or disappears: either way the caller should re-list. While `plans_dir` is missing its
    nearest existing ancestor is watched; once it appears, watching switches to it (recursive).
    Files written between that switch and the new watcher starting are found by comparing a
    scan taken before the switch with one taken on the new watcher's first wake-up.

    `ready` is set each time a watcher starts, in the same step of the event loop as awatch
    registers its watches, so a change made after `await ready.wait()` is seen. Setting
    `stop_event` ends the iteration within about `step_ms`; cancelling the task also works but
    may take up to `recheck_ms` (awatch's worker thread is not abandoned).
    """
    plans_dir = _absolute(Path(plans_dir))
    stop = _StopFlag(stop_event)
    exists = plans_dir.is_dir()
    before_switch: dict[Path, tuple[int, int]] | None = None
    while not stop.is_set():
        target = _watch_target(plans_dir)
        watcher = _awatch(target, recursive=target == plans_dir, debounce_ms=debounce_ms,
                          step_ms=step_ms, recheck_ms=recheck_ms, stop=stop)
        async with aclosing(watcher) as batches:
            if ready is not None:
                ready.set()
            async for batch in batches:
                changed = {Path(raw) for _, raw in batch if is_plan_change(Path(raw), plans_dir)}
                if before_switch is not None:
                    changed |= _snapshot_changes(before_switch, _snapshot(plans_dir))
                    before_switch = None
                now_exists = plans_dir.is_dir()
                if now_exists != exists:
                    exists = now_exists
                    changed.add(plans_dir)
                    before_switch = _snapshot(plans_dir) if exists else None
                if changed:
                    yield changed
                if _watch_target(plans_dir) != target:
                    break


def _awatch(target: Path, *, recursive: bool, debounce_ms: int, step_ms: int, recheck_ms: int,
            stop: _StopFlag) -> AsyncGenerator[set[tuple[Change, str]], None]:
    from watchfiles import (
        awatch,  # imported here: the Rust extension is not needed to list plans
    )

    return awatch(
        target,
        watch_filter=None,
        debounce=debounce_ms,
        step=step_ms,
        rust_timeout=recheck_ms,
        yield_on_timeout=True,  # an empty batch every recheck_ms: re-check existence then
        stop_event=stop,  # awatch only calls is_set() and set()
        recursive=recursive,
    )
