"""The repo guard: what a run's agent must not change in the repository, watched and put back.

A run's worktree shares the git dir of the user's checkout (the "common dir", its `.git`), and
some files there make git run programs or look elsewhere, for the user as for hybrid-tui. An
agent with a shell can write them. The guard watches, under the common dir:

- `config`, `config.worktree`: git config, which names programs git runs (`core.fsmonitor`,
  `core.hooksPath`, filter, diff and merge drivers, `core.sshCommand`, `credential.helper`,
  `gpg.program`, `include.path` to a file anywhere);
- `hooks/`, everything under it: run at the user's next commit, merge, checkout, push;
- `info/attributes`: names filter, diff and merge drivers for any path;
- `objects/info/alternates`, `objects/info/http-alternates`: other object stores git reads
  objects from (a commit could then lack its files once the worktree is gone);
- `commondir`: would send git in the checkout to another repository;
- the run's admin dir `worktrees/<id>/`: `commondir`, `gitdir`, `config.worktree`, and the
  worktree's own `.git` file: the worktree's link to the repository, which hybrid-tui's git
  would otherwise follow (it also names the admin dir itself: `git.ensure_worktree`).

`RepoGuard.take(store, run)` copies them into `runs/<id>/git-before/` before the agent (or the
checks) start. `check(by)` compares them with that copy and puts back every change: a file the
agent added is moved to `runs/<id>/tampered/<where>`, a file it changed is moved there and the
old one written back, one it deleted is written back. What it found is added to
`run.git_tampering` and said in a warning `Notice` (`after`). `watching(sink)` wraps an event
sink: after each tool result the agent reports, a cheap look (an `lstat` per file) decides
whether to `check` at once, and whether a reflog grew, in which case the run's tips are kept
(core/run/tips.py), so a planted hook is gone before the user's next commit, not only at the end.

Choices:
- A change is put back whoever made it: one the user made by hand in `.git/config` while a run
  was going is undone too, and kept in `tampered/` (the warning says where), so nothing is lost.
- A worktree `.git` that became a directory (`git init` there) is left in place and reported:
  the run then fails with the reason (`ensure_worktree`), its files kept.
- A file over 8 MiB is compared by its hash only and, changed, reported but not put back.
- During a run the guard reads files only; it runs no git until it keeps tips, which it does
  after it has put the config and hooks back.
- Outside the repository (the user's `~/.gitconfig`, a `core.hooksPath` dir elsewhere) the
  sandbox is what protects; the guard does not watch there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hybrid_tui.agents.events import AgentEvent, Notice, ToolResult
from hybrid_tui.core import git
from hybrid_tui.core.run import tips
from hybrid_tui.core.runs import GitTampering, Run, RunStore, TamperedBy

MAX_COPY = 8 << 20
_FILES = (
    "config", "config.worktree", "commondir", "info/attributes",
    "objects/info/alternates", "objects/info/http-alternates",
)  # fmt: skip
_TREES = ("hooks",)
_ADMIN_FILES = ("commondir", "gitdir", "config.worktree")
WORKTREE_GIT = "worktree/.git"

EventSink = Callable[[list[AgentEvent]], None]


@dataclass(frozen=True, slots=True)
class Entry:
    """One watched path as found: a file (mode, sha256, the bytes unless too big), a symlink
    (its target) or a directory."""

    kind: str  # file | link | dir
    mode: int = 0
    digest: str = ""
    data: bytes | None = None
    target: str = ""

    def same(self, other: Entry | None) -> bool:
        return other is not None and (self.kind, self.mode, self.digest, self.target) == (
            other.kind, other.mode, other.digest, other.target,
        )  # fmt: skip

    def manifest(self) -> dict[str, object]:
        return {"kind": self.kind, "mode": self.mode, "digest": self.digest, "target": self.target}


def _entry(path: Path) -> Entry | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return Entry("link", target=os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return Entry("dir", mode=stat.S_IMODE(info.st_mode))
    digest = hashlib.sha256()
    data = b""
    with contextlib.suppress(OSError), path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            if len(data) <= MAX_COPY:
                data += block
    return Entry("file", stat.S_IMODE(info.st_mode), digest.hexdigest(), data if len(data) <= MAX_COPY else None)


def _why(key: str) -> str:
    """What the watched file is for, in a few words."""
    if key.startswith("git/hooks"):
        return "git hooks, run at commits, merges and checkouts"
    if key.startswith("git/config") or key.endswith("config.worktree"):
        return "git config, which can make git run programs"
    if key == "git/info/attributes":
        return "git attributes, which can make git run filters"
    if key.startswith("git/objects/"):
        return "where git finds objects"
    return "the worktree's link to the repository"


class RepoGuard:
    """The watched git files of one run's repository as they were before its agent (or checks)
    ran. Build with `take` (or `saved`, for a recovery)."""

    def __init__(self, store: RunStore, run: Run, common: Path, admin: Path | None, entries: dict[str, Entry]) -> None:
        self.store = store
        self.run = run
        self.common = common
        self.admin = admin
        self.entries = entries
        self._reflogs = tips.reflog_files(run)  # found once: a look during the run runs no git
        self._looked: dict[str, tuple[int, ...]] = self._signature()
        self._logs: tuple[tuple[int, ...], ...] = self._reflog_signature()
        self._looking: asyncio.Future[None] | None = None  # the look in a thread, one at a time
        self._look_again = False  # a tool result came while it ran

    # -- where ---------------------------------------------------------------------------------

    @property
    def before_dir(self) -> Path:
        return self.store.run_dir(self.run.id) / "git-before"

    @property
    def tampered_dir(self) -> Path:
        return self.store.run_dir(self.run.id) / "tampered"

    def _roots(self) -> list[str]:
        """The watched keys: `git/<path in the common dir>`, `worktree/.git`."""
        keys = [f"git/{name}" for name in (*_FILES, *_TREES)]
        if self.admin is not None:
            keys += [f"git/worktrees/{self.admin.name}/{name}" for name in _ADMIN_FILES]
        return [*keys, WORKTREE_GIT]

    def path(self, key: str) -> Path:
        where, _, rel = key.partition("/")
        return self.common / rel if where == "git" else self.run.worktree_dir / rel

    def shown(self, key: str) -> str:
        """How a key is named to the user: `.git/hooks/pre-commit`, the worktree's `.git`."""
        path = self.path(key)
        checkout_git = self.run.root.resolve() / ".git"
        if key.startswith("git/") and self.common == checkout_git:
            return ".git/" + key[len("git/"):]
        return str(path)

    def _walk(self, visit: Callable[[str, Path], object]) -> None:
        """`visit(key, path)` for each watched key and, in a watched tree, each path under it."""
        trees = {f"git/{name}" for name in _TREES}
        for root in self._roots():
            visit(root, self.path(root))
            if root not in trees:
                continue
            top = self.path(root)
            if not top.is_dir() or top.is_symlink():
                continue
            for folder, dirs, files in os.walk(top):
                dirs.sort()
                for name in sorted([*dirs, *files]):
                    full = Path(folder) / name
                    visit(f"{root}/{full.relative_to(top).as_posix()}", full)

    def _scan(self) -> dict[str, Entry]:
        found: dict[str, Entry] = {}

        def visit(key: str, path: Path) -> None:
            if (entry := _entry(path)) is not None:
                found[key] = entry

        self._walk(visit)
        return found

    def _signature(self) -> dict[str, tuple[int, ...]]:
        """An `lstat` of each watched path: what `poll` compares, cheaply."""
        looked: dict[str, tuple[int, ...]] = {}

        def visit(key: str, path: Path) -> None:
            with contextlib.suppress(OSError):
                info = path.lstat()
                looked[key] = (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)

        self._walk(visit)
        return looked

    def _reflog_signature(self) -> tuple[tuple[int, ...], ...]:
        looks: list[tuple[int, ...]] = []
        for path in self._reflogs:
            try:
                info = path.stat()
                looks.append((info.st_size, info.st_mtime_ns, info.st_ino))
            except OSError:
                looks.append(())
        return tuple(looks)

    # -- before --------------------------------------------------------------------------------

    @classmethod
    def take(cls, store: RunStore, run: Run) -> RepoGuard:
        """Copy the watched files now (before the agent or the checks start) and save the copy
        beside the run (`runs/<id>/git-before/`), for a recovery after a crash."""
        root, worktree = run.root, run.worktree_dir
        common = git.common_dir(root)
        admin = git.worktree_admin_dir(root, worktree) if worktree.is_dir() else None
        guard = cls(store, run, common, admin, {})
        guard.entries = guard._scan()
        guard._save()
        return guard

    def _save(self) -> None:
        before = self.before_dir
        shutil.rmtree(before, ignore_errors=True)
        files = before / "files"
        for key, entry in self.entries.items():
            if entry.kind == "file" and entry.data is not None:
                copy = files / key
                copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                copy.touch(mode=0o600)  # the config may hold a remote's token: as private as run.json
                copy.write_bytes(entry.data)
        manifest = {
            "common": str(self.common),
            "admin": str(self.admin) if self.admin else None,
            "entries": {key: entry.manifest() for key, entry in self.entries.items()},
        }
        before.mkdir(mode=0o700, parents=True, exist_ok=True)
        (before / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def saved(cls, store: RunStore, run: Run) -> RepoGuard | None:
        """The guard `take` saved for `run`, None when there is none (or it cannot be read)."""
        before = store.run_dir(run.id) / "git-before"
        try:
            manifest = json.loads((before / "manifest.json").read_text(encoding="utf-8"))
            entries = {}
            for key, fields in manifest["entries"].items():
                copy = before / "files" / key
                data = copy.read_bytes() if fields["kind"] == "file" and copy.is_file() else None
                entries[key] = Entry(fields["kind"], int(fields["mode"]), fields["digest"], data, fields["target"])
            admin = Path(manifest["admin"]) if manifest.get("admin") else None
            return cls(store, run, Path(manifest["common"]), admin, entries)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- after ---------------------------------------------------------------------------------

    def check(self, by: TamperedBy = "agent") -> list[GitTampering]:
        """Compare the watched files with the copy, put each change back, keep the changed
        versions in `runs/<id>/tampered/`, record them in `run.git_tampering`."""
        return [item for _, item in self._check(by)]

    def _check(self, by: TamperedBy) -> list[tuple[str, GitTampering]]:
        now = self._scan()
        found: list[tuple[str, GitTampering]] = []
        moved: list[str] = []  # keys whose path was moved aside: what was under it is re-made
        for key in sorted(self.entries.keys() | now.keys()):
            before, after = self.entries.get(key), now.get(key)
            if any(key.startswith(m + "/") for m in moved):
                if before is not None:
                    self._restore(key, before)
                continue
            if before is not None and before.same(after):
                continue
            item = GitTampering(path=self.shown(key), change="changed", by=by)
            if before is not None and after is not None and before.kind == after.kind == "dir":
                with contextlib.suppress(OSError):
                    self.path(key).chmod(before.mode)
            elif key == WORKTREE_GIT and after is not None and after.kind == "dir":
                item.restored = False  # a `git init` there: ensure_worktree fails the run
            elif before is not None and before.kind == "file" and before.data is None:
                item.change, item.restored = "deleted" if after is None else "changed", False  # too big to copy
            else:
                item.change = "added" if before is None else "deleted" if after is None else "changed"
                if after is not None:
                    item.kept = str(self._keep_aside(key, self.path(key)))
                    moved.append(key)
                if before is not None:
                    self._restore(key, before)
            found.append((key, item))
        self._looked, self._logs = self._signature(), self._reflog_signature()
        if found:
            self.store.update(self.run, git_tampering=[*self.run.git_tampering, *(item for _, item in found)])
        return found

    def _restore(self, key: str, before: Entry) -> None:
        """Write `before` at the key's path (nothing is there now)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if before.kind == "dir":
            path.mkdir(mode=before.mode, exist_ok=True)
        elif before.kind == "link":
            os.symlink(before.target, path)
        else:
            temp = path.with_name(f".{path.name}.hybrid-tui-restore")
            temp.write_bytes(before.data or b"")
            temp.chmod(before.mode)
            os.replace(temp, path)

    def _keep_aside(self, key: str, path: Path) -> Path:
        """Move the changed `path` to `tampered/<key>` (`.2`, `.3`... when that is taken)."""
        target = self.tampered_dir / key
        number = 1
        while os.path.lexists(target):
            number += 1
            target = self.tampered_dir / f"{key}.{number}"
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        return target

    def after(self, by: TamperedBy = "agent") -> list[AgentEvent]:
        """`check(by)`, said as one warning notice (none when nothing changed)."""
        found = self._check(by)
        return [Notice(describe(found, by, self.tampered_dir), "warning")] if found else []

    def poll(self) -> list[AgentEvent]:
        """During the run: `after()` when a watched path looks different from the last look,
        and the tips kept when a reflog of the run grew. Cheap when nothing moved."""
        notices: list[AgentEvent] = []
        if self._signature() != self._looked:
            notices = self.after()
        logs = self._reflog_signature()
        if logs != self._logs:
            self._logs = logs
            tips.keep(self.run)
        return notices

    def watching(self, sink: EventSink) -> EventSink:
        """`sink`, with a `poll()` after every batch holding a tool result, its notices sent
        after the batch. The look runs in a thread (it reads files, and git when it keeps tips),
        one at a time: a tool result during a look asks for another once it is done. Call it on
        the event loop; `settled()` waits for the last look."""

        def watched(events: list[AgentEvent]) -> None:
            sink(events)
            if not any(isinstance(event, ToolResult) for event in events):
                return
            if self._looking is not None and not self._looking.done():
                self._look_again = True
            else:
                self._looking = asyncio.ensure_future(self._look(sink))

        return watched

    async def _look(self, sink: EventSink) -> None:
        while True:
            self._look_again = False
            try:
                notices = await asyncio.to_thread(self.poll)
            except Exception:  # never let a look break the stream: `after()` checks again
                notices = []
            if notices:
                sink(notices)
            if not self._look_again:
                return

    async def settled(self) -> None:
        """Wait for the look `watching` started, if one is going (before `after()`)."""
        if self._looking is not None:
            await self._looking


def describe(found: list[tuple[str, GitTampering]], by: str, kept_in: Path) -> str:
    """One warning for what `check` found: what changed and what it is for, grouped, and what
    could not be put back."""
    groups: dict[tuple[bool, str, str], list[str]] = {}
    for key, item in found:
        groups.setdefault((item.restored, item.change, _why(key)), []).append(item.path)
    said = {
        restored: "; ".join(f"{change} {', '.join(paths)} ({why})" for (done, change, why), paths in groups.items() if done == restored)
        for restored in (True, False)
    }
    who = "The checks" if by == "checks" else "The agent"
    text = f"{who} changed git files of your repository"
    text += f"; hybrid-tui put them back as they were before: {said[True]}." if said[True] else "."
    if said[False]:
        text += f" Left as they are (they could not be put back): {said[False]}."
    if any(item.kept for _, item in found):
        text += f" The changed versions are kept in {kept_in}."
    return text
