"""One writer at a time (DESIGN.md invariant 6): the per-repository lock that every operation
writing the user's checkout, its index or its refs holds, and the journal of what those writes
changed, so that a run going on meanwhile does not report hybrid-tui's own landing as a change
made behind the user's back.

    with writer(root, "accept", run.id):      # waits up to 10 s, then RepoBusy
        ...                                   # merge, fast-forward, update-ref, worktree remove
    watch = RepositoryWatch(root)             # before an agent (or a check) starts
    changed = watch.changes()                 # after it: what changed that hybrid-tui did not write

Behaviour choices:
- Where: `<git common dir>/hybrid-tui/writer.lock`, in the directory every worktree of the
  repository shares (the user's own linked worktrees too: they share the refs). Not in the state
  dir: two hybrid-tui with different state dirs (`HYBRID_TUI_STATE_DIR`) still exclude each
  other, and the lock lives with the repository it guards.
- How: a POSIX record lock (`fcntl.lockf`) on that file opened for writing. The kernel drops it
  when its process dies, `kill -9` included, so it is never stale; the file itself stays (one
  deleted while held would let a second writer in). A write lock needs the file open for
  writing, so a sandboxed agent, which sees the git dir read-only, cannot take it.
- Who: the holder writes `{operation, run_id, pid, since}` into the file; a waiter that gives
  up names it: "another hybrid-tui is writing to /repo: accept of run X (pid 4242, since
  12:00:01). Waited 10 s; nothing changed."
- Waiting: up to 10 s (`HYBRID_TUI_LOCK_WAIT` seconds), then `RepoBusy`, an `ActionFailed`
  (exit 1) raised before anything was written. The threads of one process (the TUI's workers)
  wait for each other the same way (a POSIX lock does not tell a process's threads apart); the
  thread that holds it may take it again (an accept with the rebase strategy rebases first).
- A repository git cannot find (its directory gone) has nothing to guard: `writer` lets the
  operation go on without a lock, and git's own refusal says what is wrong.
- The journal: the outermost holder takes `git.repository_state` when it gets the lock
  and again when it lets go, and appends what differs (`{seq, at, operation, run_id, root,
  changed: {checkout: {key: [before, after]}, refs: {...}}}`) to
  `<git common dir>/hybrid-tui/writes.jsonl` (the newest ~256 KiB are kept). A
  `RepositoryWatch` counts a change as hybrid-tui's own when the writes made since the watch
  began account for all of it: the value the watch started from is the first such write's
  before (or its after: the watch began while it ran), each write started from the value the
  previous one left, and the value now is the last one's after (or its before). So a change
  made before, between or after hybrid-tui's writes is still reported (an agent's `git reset`
  of the base branch that an accept then merged onto, too); one made in the very middle of a
  hybrid-tui write is not seen.
- Without the sandbox an agent can write the journal and take the lock like anyone: neither is
  a defence against a hostile agent there (the sandbox-off warning says as much).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hybrid_tui.core import git
from hybrid_tui.core.errors import ActionFailed, InputError
from hybrid_tui.core.git import GitCommandError

if TYPE_CHECKING:
    from hybrid_tui.core.runs import Run, RunStore

DEFAULT_WAIT = 10.0
WAIT_ENV = "HYBRID_TUI_LOCK_WAIT"
DIR_NAME = "hybrid-tui"
LOCK_NAME = "writer.lock"
JOURNAL_NAME = "writes.jsonl"
JOURNAL_LIMIT = 256 * 1024
_POLL = 0.05

State = tuple[dict[str, str], dict[str, str]]  # git.repository_state: (checkout, refs)
_SIDES = ("checkout", "refs")  # the parts of a State, by name in the journal


def _sides(state: State) -> list[str]:
    return [_SIDES[i] if i < len(_SIDES) else f"part{i}" for i in range(len(state))]


class RepoBusy(ActionFailed):
    """Another writer held the repository's lock for the whole wait; nothing was changed."""

    def __init__(self, root: Path, holder: dict[str, Any] | None, waited: float) -> None:
        self.holder = holder or {}
        who = (f"another hybrid-tui is writing to {root}: {describe_holder(self.holder)}" if self.holder
               else f"another process holds hybrid-tui's lock on {root}")
        super().__init__(f"{who}. Waited {waited:g} s; nothing changed.", fix="Try again once it has finished.")


def describe_holder(holder: dict[str, Any]) -> str:
    """"accept of run X (pid 4242, since 12:00:01)": what the lock file says of its holder."""
    what = str(holder.get("operation") or "an operation")
    if holder.get("run_id"):
        what += f" of run {holder['run_id']}"
    details = [f"pid {holder['pid']}"] if holder.get("pid") else []
    since = str(holder.get("since") or "")
    if len(since) >= 19:
        details.append(f"since {since[11:19]}")
    return what + (f" ({', '.join(details)})" if details else "")


def lock_wait() -> float:
    """How long a second writer waits: `HYBRID_TUI_LOCK_WAIT` seconds (>= 0), default 10."""
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return DEFAULT_WAIT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:
        raise InputError(f"{WAIT_ENV}={text!r}: not a number of seconds >= 0",
                         fix=f"Unset it (the lock waits {DEFAULT_WAIT:g} s) or give seconds, e.g. {WAIT_ENV}=10.")
    return value


def lock_dir(root: Path) -> Path | None:
    """`<git common dir>/hybrid-tui` of the repository at `root`; None when git finds none."""
    if not Path(root).is_dir():
        return None
    try:
        status, out, _ = git.git_rc(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
    except (GitCommandError, OSError):
        return None
    return Path(out.strip()).resolve() / DIR_NAME if status == 0 and out.strip() else None


@dataclass
class _Holder:
    thread: int
    info: dict[str, Any]


_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}  # lock file -> the lock of this process's threads
_holders: dict[str, _Holder] = {}  # lock file -> the thread of this process holding it


@contextlib.contextmanager
def writer(root: Path, operation: str, run_id: str | None = None, *, wait: float | None = None) -> Iterator[None]:
    """Hold the writer lock of the repository at `root` for `operation` (of run `run_id`).

    Waits up to `wait` seconds (default `lock_wait()`), then raises `RepoBusy` naming the holder.
    Re-entrant in the thread that holds it. On the way out the write is journaled."""
    root = Path(root)
    directory = lock_dir(root)
    if directory is None:
        yield
        return
    path = str(directory / LOCK_NAME)
    me = threading.get_ident()
    with _guard:
        holder = _holders.get(path)
        thread_lock = _thread_locks.setdefault(path, threading.Lock())
    if holder is not None and holder.thread == me:
        yield  # this thread holds it already: the outermost writer journals
        return
    wait = lock_wait() if wait is None else wait
    deadline = time.monotonic() + wait
    if not thread_lock.acquire(timeout=wait):
        with _guard:
            other = _holders.get(path)
        raise RepoBusy(root, other.info if other else None, wait)
    try:
        fd = _take(directory, path, root, deadline, wait)
    except BaseException:
        thread_lock.release()
        raise
    info = {"operation": operation, "run_id": run_id, "pid": os.getpid(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds")}
    with contextlib.suppress(OSError):  # who holds it is for the message only
        _write_info(fd, info)
    with _guard:
        _holders[path] = _Holder(me, info)
    try:
        before = _state(root)
        try:
            yield
        finally:
            if before is not None and (after := _state(root)) is not None:
                _journal(directory, root, info, before, after)
    finally:
        with _guard:
            del _holders[path]
        _let_go(fd)
        thread_lock.release()


def _take(directory: Path, path: str, root: Path, deadline: float, wait: float) -> int:
    """The lock file's descriptor, locked; `RepoBusy` once `deadline` passed."""
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as err:
        raise ActionFailed(
            f"{path}: cannot open hybrid-tui's lock for {root} ({err.strerror}); nothing changed.",
            fix=f"Check that you can write to {directory.parent}.",
        ) from err
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as err:
            if err.errno not in (errno.EACCES, errno.EAGAIN):
                os.close(fd)
                raise
        if time.monotonic() >= deadline:
            holder = _read_info(fd)
            os.close(fd)  # this process holds no lock on the file: closing it drops nothing
            raise RepoBusy(root, holder, wait)
        time.sleep(_POLL)


def _write_info(fd: int, info: dict[str, Any]) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)


def _read_info(fd: int) -> dict[str, Any] | None:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _let_go(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)
        fcntl.lockf(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def refresh(store: RunStore, run: Run) -> Run:
    """`run` brought up to date in place from its record (another process may have landed it
    while this one waited for the lock); as it was when the record cannot be read."""
    try:
        fresh = store.load(run.id)
    except InputError:
        return run
    for name in type(run).model_fields:
        setattr(run, name, getattr(fresh, name))
    return run


# -- the journal ---------------------------------------------------------------------------


def _state(root: Path) -> State | None:
    try:
        return git.repository_state(root)
    except (GitCommandError, OSError, ValueError):
        return None


def _journal(directory: Path, root: Path, info: dict[str, Any], before: State, after: State) -> None:
    """Append what the write changed (nothing: no entry). Best effort: an entry lost makes a
    run report hybrid-tui's write as a change, never hide one."""
    changed: dict[str, dict[str, list[str | None]]] = {}
    for side, old, new in zip(_sides(before), before, after):
        diff = {key: [old.get(key), new.get(key)] for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)}
        if diff:
            changed[side] = diff
    if not changed:
        return
    path = directory / JOURNAL_NAME
    entries = _entries(directory)
    entry = {"seq": max((e["seq"] for e in entries), default=0) + 1, "at": datetime.now().astimezone().isoformat(),
             "operation": info["operation"], "run_id": info["run_id"], "root": str(root.resolve()),
             "changed": changed}
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    with contextlib.suppress(OSError):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
        if path.stat().st_size > JOURNAL_LIMIT:
            kept = [json.dumps(e, ensure_ascii=False) + "\n" for e in entries[len(entries) // 2:]] + [line]
            tmp = path.with_name(f".{JOURNAL_NAME}.{os.getpid()}.tmp")
            tmp.write_text("".join(kept), encoding="utf-8")
            os.replace(tmp, path)


def _entries(directory: Path | None) -> list[dict[str, Any]]:
    """The journal's entries, oldest first (a line cut short by a crash is skipped)."""
    if directory is None:
        return []
    try:
        text = (directory / JOURNAL_NAME).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("seq"), int) and isinstance(entry.get("changed"), dict):
            entries.append(entry)
    return entries


def own_writes(root: Path, before: State, after: State, writes: list[dict[str, Any]]) -> State:
    """`after` with every change that `writes` (journal entries made since `before` was taken)
    account for put back to its `before` value (module docstring: the chain of values)."""
    root_text = str(Path(root).resolve())
    result = []
    for side, old, new in zip(_sides(before), before, after):
        new = dict(new)
        for key in old.keys() | new.keys():
            start, end = old.get(key), new.get(key)
            if start == end:
                continue
            chain = [
                entry["changed"][side][key] for entry in writes
                if key in entry["changed"].get(side, {}) and (side != "checkout" or entry.get("root") == root_text)
            ]
            if _accounted(start, end, chain):
                if start is None:
                    new.pop(key, None)
                else:
                    new[key] = start
        result.append(new)
    checkout, refs = result
    return checkout, refs


def _accounted(start: str | None, end: str | None, chain: list[list[str | None]]) -> bool:
    if not chain or start not in chain[0] or end not in chain[-1]:
        return False
    return all(previous[1] == following[0] for previous, following in zip(chain, chain[1:]))


class RepositoryWatch:
    """What a run must not change behind the user's back (`git.repository_state` of the
    checkout at `root`), taken when it is made; `changes()` later lists what changed since,
    hybrid-tui's own writes (accepts of other runs meanwhile) left out."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._dir = lock_dir(self.root)
        entries = _entries(self._dir)  # read before the state: a write ending now is in the window
        self.mark = max((entry["seq"] for entry in entries), default=0)
        self.before = git.repository_state(self.root)

    def changes(self) -> list[str]:
        """As `git.compare_repository` says them, without hybrid-tui's own writes."""
        after = git.repository_state(self.root)
        writes = [entry for entry in _entries(self._dir) if entry["seq"] > self.mark]
        return git.compare_repository(self.before, own_writes(self.root, self.before, after, writes))
