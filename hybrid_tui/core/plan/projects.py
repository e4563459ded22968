"""Which project each plan was written in: from Claude Code's transcripts, kept in an index.

A plan file says nothing of its project, and in Claude's default set-up every project's plans
share one directory (`~/.claude/plans`). Claude Code writes each session to
`$CLAUDE_CONFIG_DIR/projects/<encoded cwd>/<session>.jsonl`; in a session that planned, the
lines carry the session's `cwd` and the plan's `slug` (its file name without `.md`), and one of
them its `planFilePath`. `PlanProjects` reads those transcripts and remembers, per plan, the
directory Claude was working in; the approval hook adds what it is told (`record`).

    projects = PlanProjects.open(state_dir, claude_config_dir())
    projects.update()                     # reads what the transcripts gained since last time
    projects.project_of(plan_path)        # the plan's project (its main checkout), or None
    attribute(plan_path, repo_root, projects)  # its project and whether it is this repository's
    attribute_all(plan_paths, repo_root, projects)  # the same for a listing

Behaviour choices:
- Incremental: the index (`plan-projects.json` in the state dir) keeps, per transcript, how
  far it was read (bytes, up to the last whole line) and the file's inode. An update stats
  every transcript and reads only what each gained; a transcript that shrank or was replaced
  is read again from its start. Only lines that name a slug or a plan path are parsed; the
  `cwd` and `slug` are the line's own (top-level) keys, `planFilePath` may sit anywhere in it.
- A plan is found by its path (`planFilePath`, or the hook's) first, then by its slug; a slug
  seen in sessions of two directories keeps the latest one read.
- The project is the repository holding that directory, as its main checkout: a plan
  written in a subdirectory, or in a worktree of the repository (hybrid-tui's own run
  worktrees included), belongs to the repository (`repository_of`: a walk up to `.git`, a
  worktree's `.git` file followed to its common dir; no git process). A directory that no
  longer exists is taken as it was named.
- An index that cannot be read (not JSON, another version) is rebuilt from the transcripts;
  one that cannot be written leaves the attribution in memory for this process only.
- A plan in a plans directory inside a project (`plansDirectory`) belongs to that project
  whatever the transcripts say.
- A repository's own view lists its plans and the plans of no known project (not named by
  any transcript: written before, or their transcripts removed), unmarked; plans of another
  project are left to the all view, where every plan is labelled with its project and an
  unknown one is marked so. Delegating a plan of another project is refused; one of no known
  project is not.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.private_files import private_dir, private_opener

INDEX_NAME = "plan-projects.json"
INDEX_VERSION = 1
READ_CHUNK = 1 << 20

_PLAN_FILE_PATH = re.compile(rb'"planFilePath"\s*:\s*"((?:[^"\\]|\\.)*)"')


def claude_config_dir() -> Path:
    """Claude Code's config dir: `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".claude"


def repository_of(directory: Path) -> Path:
    """The main checkout of the repository holding `directory` (without git): the nearest
    ancestor with a `.git` directory; a worktree's `.git` file leads to the main checkout.
    `directory` itself (resolved as far as it exists) when no repository holds it."""
    path = Path(os.path.abspath(directory))
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None:
        return path
    start = existing.resolve()
    for candidate in (start, *start.parents):
        marker = candidate / ".git"
        if marker.is_dir():
            return candidate
        if marker.is_file():
            return _main_checkout(candidate, marker)
    return path if existing == path else start / path.relative_to(existing)


def _main_checkout(candidate: Path, marker: Path) -> Path:
    """A worktree's main checkout, from its `.git` file (`gitdir: <admin dir>`, whose
    `commondir` names the repository's git dir); `candidate` for a submodule or anything odd."""
    try:
        text = marker.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return candidate
    if not text.startswith("gitdir:"):
        return candidate
    admin = Path(text.removeprefix("gitdir:").strip())
    admin = admin if admin.is_absolute() else candidate / admin
    try:
        common = (admin / (admin / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except OSError:
        return candidate  # a submodule's gitdir has no commondir: it is a project of its own
    return common.parent if common.name == ".git" else candidate


def _string(raw: bytes) -> str | None:
    try:
        value = json.loads(b'"' + raw + b'"')
    except ValueError:
        return None
    return value if isinstance(value, str) and value else None


@dataclass
class _Transcript:
    offset: int = 0
    inode: int = 0


@dataclass
class PlanProjects:
    """The index of plans to the directories they were written in (see the module)."""

    index_path: Path
    claude_dir: Path
    transcripts: dict[str, _Transcript] = field(default_factory=dict)
    by_path: dict[str, str] = field(default_factory=dict)  # plan file -> cwd
    by_slug: dict[str, str] = field(default_factory=dict)  # plan slug -> cwd
    _dirty: bool = False

    @classmethod
    def open(cls, state_dir: Path, claude_dir: Path | None = None) -> PlanProjects:
        """The index kept in `state_dir` (empty when there is none, or it cannot be read)."""
        index = cls(state_dir / INDEX_NAME, claude_dir or claude_config_dir())
        try:
            data = json.loads(index.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return index
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return index
        if data.get("claude_dir") != str(index.claude_dir):
            return index  # another Claude config dir: its transcripts are not these
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            index.transcripts = {path: _Transcript(int(t["offset"]), int(t["inode"]))
                                 for path, t in data["transcripts"].items()}
            index.by_path = {str(k): str(v) for k, v in data["by_path"].items()}
            index.by_slug = {str(k): str(v) for k, v in data["by_slug"].items()}
        return index

    def update(self) -> bool:
        """Read what the transcripts gained; save the index when it changed. True when any
        attribution changed."""
        before = (dict(self.by_path), dict(self.by_slug))
        seen: set[str] = set()
        for key, size, inode in self._transcript_files():
            seen.add(key)
            known = self.transcripts.get(key)
            if known is None or known.inode != inode or size < known.offset:
                known = self.transcripts[key] = _Transcript(0, inode)
                self._dirty = True
            if size > known.offset:
                self._read(key, known)
        for gone in set(self.transcripts) - seen:
            del self.transcripts[gone]
            self._dirty = True
        changed = (self.by_path, self.by_slug) != before
        self.save()
        return changed

    def record(self, plan: Path, cwd: Path) -> None:
        """What the approval hook was told: `plan` was written in `cwd`."""
        if self.by_path.get(str(plan)) != str(cwd):
            self.by_path[str(plan)] = str(cwd)
            self._dirty = True
            self.save()

    def written_in(self, plan: Path) -> Path | None:
        """The directory Claude was working in when it wrote `plan`, if known."""
        cwd = self.by_path.get(str(plan)) or self.by_slug.get(plan.stem)
        return Path(cwd) if cwd else None

    def project_of(self, plan: Path) -> Path | None:
        """The repository (main checkout) `plan` was written for, if known."""
        cwd = self.written_in(plan)
        return repository_of(cwd) if cwd else None

    def save(self) -> None:
        if not self._dirty:
            return
        # The approval hook records plans from its own process: keep what it wrote meanwhile.
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            on_disk = json.loads(self.index_path.read_text(encoding="utf-8"))["by_path"]
            for plan, cwd in on_disk.items():
                self.by_path.setdefault(str(plan), str(cwd))
        data = {
            "version": INDEX_VERSION,
            "claude_dir": str(self.claude_dir),
            "transcripts": {k: {"offset": t.offset, "inode": t.inode} for k, t in self.transcripts.items()},
            "by_path": self.by_path,
            "by_slug": self.by_slug,
        }
        # Written whole and renamed into place, not synced: the index is a cache, and one lost
        # in a crash is rebuilt from the transcripts.
        tmp = self.index_path.with_name(f".{INDEX_NAME}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            private_dir(self.index_path.parent)
            with open(tmp, "w", encoding="utf-8", opener=private_opener) as handle:
                handle.write(json.dumps(data))
            os.replace(tmp, self.index_path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return  # kept in memory for this process; the next one reads the transcripts again
        self._dirty = False

    def _transcript_files(self) -> list[tuple[str, int, int]]:
        """Every transcript as (path, size, inode): `projects/<folder>/<session>.jsonl`."""
        try:
            folders = [entry.path for entry in os.scandir(self.claude_dir / "projects")
                       if entry.is_dir(follow_symlinks=False)]
        except OSError:
            return []
        files: list[tuple[str, int, int]] = []
        for folder in folders:
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.endswith(".jsonl") and entry.is_file(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                        files.append((entry.path, st.st_size, st.st_ino))
        return files

    def _read(self, path: str, known: _Transcript) -> None:
        """Read `path` from `known.offset` up to its last whole line; note its plans."""
        try:
            with open(path, "rb") as handle:
                handle.seek(known.offset)
                pending = b""
                while chunk := handle.read(READ_CHUNK):
                    data = pending + chunk
                    cut = data.rfind(b"\n") + 1
                    if cut:
                        self._note_lines(data[:cut])
                        known.offset += cut
                    pending = data[cut:]
        except OSError:
            return
        self._dirty = True

    def _note_lines(self, data: bytes) -> None:
        if b'"slug"' not in data and b'"planFilePath"' not in data:
            return
        for line in data.splitlines():
            plan_path = _PLAN_FILE_PATH.search(line)  # anywhere in the line (a tool's input)
            if plan_path is None and b'"slug"' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            cwd = entry.get("cwd") if isinstance(entry, dict) else None
            if not isinstance(cwd, str) or not cwd:
                continue
            slug = entry.get("slug")
            if isinstance(slug, str) and slug:
                self.by_slug[slug] = cwd
            if plan_path is not None and (plan := _string(plan_path.group(1))):
                self.by_path[plan] = cwd


@dataclass(frozen=True)
class Attribution:
    """Whose a plan is, seen from the repository at `root`: `project` is the repository it
    was written for (None: not known), `ours` whether that is this one."""

    project: Path | None
    ours: bool

    @property
    def shown_here(self) -> bool:
        """Listed in this repository's own view: its plans, and those of no known project
        (hiding them would hide every plan of a user whose transcripts are gone)."""
        return self.ours or self.project is None

    @property
    def label(self) -> str:
        """The project's name for a list ("project unknown" when not known)."""
        return self.project.name if self.project is not None else "project unknown"


def attribute(plan: Path, root: Path, projects: PlanProjects) -> Attribution:
    """`plan` seen from the repository at `root` (see `attribute_all`)."""
    return attribute_all([plan], root, projects)[plan]


def attribute_all(plans: list[Path], root: Path, projects: PlanProjects) -> dict[Path, Attribution]:
    """Each plan seen from the repository at `root`: a plan kept inside the repository
    (`plansDirectory`) is its own; else the one its transcript (or the hook) names. The
    repository of each directory is looked up once (a walk up to `.git` each)."""
    here = repository_of(root)
    inside = os.path.abspath(root) + os.sep
    repos: dict[Path, Path] = {}
    seen: dict[Path, Attribution] = {}
    for plan in plans:
        if os.path.abspath(plan).startswith(inside):
            seen[plan] = Attribution(here, True)
            continue
        cwd = projects.written_in(plan)
        project = None
        if cwd is not None:
            project = repos.get(cwd) or repos.setdefault(cwd, repository_of(cwd))
        seen[plan] = Attribution(project, project is not None and project == here)
    return seen


def require_this_project(plan: Path, root: Path, projects: PlanProjects) -> None:
    """Refuse (`InputError`, nothing changed) to delegate a plan that Claude wrote for another
    repository, naming that repository and the command to use there. A plan whose project is
    not known is let through (Claude may have been run elsewhere, its transcripts gone)."""
    seen = attribute(plan, root, projects)
    if seen.ours or seen.project is None:
        return
    raise InputError(
        f"{plan.name}: this plan was written for {seen.project} (Claude's session there), not for "
        f"{repository_of(root)}",
        fix=f"Delegate it from that repository: cd {seen.project} && hybrid-tui",
    )
