"""The hunk model of a diff: parse `git diff` text into files and hunks, and build a patch back
from a selection of them (the text half of partial accept; no git here).

`parse_hunks(patch)` takes the output of `git.patch_text` (`git diff --binary
--full-index -M`, `a/`/`b/` prefixes, unquoted names) and gives one `FileHunks` per file:
its header lines (`diff --git`, mode, index, rename, `---`/`+++` lines; a binary patch's body
too), and its `Hunk`s numbered from 0 in diff order. `build_patch(files, selection)` gives the
patch of the selected files and hunks, which `git apply` takes. `PatchIndex(patch)` splits a
whole patch into one section per file and finds a file's section by either of its names.

Behaviour choices:
- A selection maps a file's path (its new path; for a rename the old name works too) to `ALL`
  or a set of hunk indexes. A file left out, or mapped to an empty set, is not in the patch.
- A file whose every hunk is selected is emitted exactly as git wrote it. A partial file keeps
  its header (so a rename or a mode change goes along with the chosen hunks) and the chosen
  hunks, each `@@` header's new-side start shifted by the lines the skipped hunks before it
  would have added or removed.
- A file without hunks (binary, mode change only, empty file added or deleted, pure rename)
  can only be taken whole; asking for some of its hunks is a `ValueError`, as is an index out
  of range.
- Lines are split on "\\n" only, so a "\\r" or a form feed inside a line stays in it.
- Splitting the patch is one `str.split` on "\\ndiff --git ": a diff body line always starts
  with " ", "+", "-" or "\\\\", and base85 binary data has no spaces, so the split is exact.
- A name on a `---`/`+++` line that holds a space ends with a tab git adds (for GNU patch);
  the tab is not part of the name (a tab in a name is always quoted as `\\t`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Whole(Enum):
    """The selection of a whole file: `ALL`."""

    ALL = "all"

    def __repr__(self) -> str:
        return "ALL"


ALL = Whole.ALL
Selection = Mapping[str, "set[int] | frozenset[int] | Whole"]

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


@dataclass(slots=True)
class Hunk:
    """One `@@` block: `header` is its `@@ ... @@` line, `lines` its body (no newlines)."""

    index: int
    header: str
    lines: list[str]
    old_start: int
    old_count: int
    new_start: int
    new_count: int

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-"))

    def header_with_new_start(self, new_start: int) -> str:
        old = f"{self.old_start}" if self.old_count == 1 else f"{self.old_start},{self.old_count}"
        new = f"{new_start}" if self.new_count == 1 else f"{new_start},{self.new_count}"
        match = _HUNK_HEADER.match(self.header)
        tail = match.group(5) if match else ""
        return f"@@ -{old} +{new} @@{tail}"


@dataclass(slots=True)
class FileHunks:
    """One file of a diff. `status`: added | modified | deleted | renamed | copied."""

    path: str
    old_path: str | None
    status: str
    header_lines: list[str]
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def paths(self) -> list[str]:
        """Every path this file's change touches: both names of a rename."""
        if self.old_path and self.old_path != self.path and self.status != "copied":
            return [self.old_path, self.path]
        return [self.path]

    @property
    def splittable(self) -> bool:
        """True when hunks can be chosen one by one (a text change with more than one hunk)."""
        return not self.binary and len(self.hunks) > 1


# -- parsing -----------------------------------------------------------------------------------


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote_path(text: str) -> str:
    """A path as git prints it: C-quoted (`"a\\tb\\303\\251"`) when it holds special bytes."""
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        return text
    out = bytearray()
    body, i = text[1:-1], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal):
                out.append(int(octal, 8))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace")


def _strip_prefix(name: str, prefix: str) -> str:
    return unquote_path(name).removeprefix(prefix)


def _names_from_diff_line(line: str) -> tuple[str, str]:
    """(old, new) from `diff --git a/X b/Y`; exact when both are the same or quoted."""
    rest = line[len("diff --git "):]
    if rest.startswith('"'):
        end = rest.index('"', 1)
        while rest[end - 1] == "\\":
            end = rest.index('"', end + 1)
        return _strip_prefix(rest[: end + 1], "a/"), _strip_prefix(rest[end + 2 :], "b/")
    if rest.endswith('"'):
        start = rest.rindex(' "')
        return _strip_prefix(rest[:start], "a/"), _strip_prefix(rest[start + 1 :], "b/")
    if (len(rest) - 5) % 2 == 0:
        half = (len(rest) - 5) // 2
        old, new = rest[2 : 2 + half], rest[5 + half :]
        if rest.startswith("a/") and rest[2 + half : 5 + half] == " b/" and old == new:
            return old, new
    old, _, new = rest.partition(" b/")
    return _strip_prefix(old, "a/"), new


def parse_hunks(patch: str) -> list[FileHunks]:
    """The files and hunks of a `git diff` (see the module docstring)."""
    lines = patch.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    files: list[FileHunks] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.startswith("diff --git "):
            i += 1
            continue
        old_name, new_name = _names_from_diff_line(line)
        header = [line]
        status, binary = "modified", False
        minus = plus = None
        rename_from = rename_to = None
        i += 1
        while i < n and not lines[i].startswith(("@@ ", "diff --git ")):
            text = lines[i]
            header.append(text)
            if text.startswith("new file mode"):
                status = "added"
            elif text.startswith("deleted file mode"):
                status = "deleted"
            elif text.startswith(("rename from ", "copy from ")):
                status = "renamed" if text.startswith("rename") else "copied"
                rename_from = unquote_path(text.split(" ", 2)[2])
            elif text.startswith(("rename to ", "copy to ")):
                rename_to = unquote_path(text.split(" ", 2)[2])
            elif text.startswith("--- "):
                minus = text[4:].removesuffix("\t")  # git ends a name holding a space with a tab
            elif text.startswith("+++ "):
                plus = text[4:].removesuffix("\t")
            elif text.startswith(("GIT binary patch", "Binary files ")):
                binary = True
            i += 1
        if plus and plus != "/dev/null":
            new_name = _strip_prefix(plus, "b/")
        if minus and minus != "/dev/null":
            old_name = _strip_prefix(minus, "a/")
        if rename_to:
            new_name = rename_to
        if rename_from:
            old_name = rename_from
        path = old_name if status == "deleted" else new_name
        old_path = old_name if status in ("renamed", "copied") else None
        entry = FileHunks(path, old_path, status, header, binary=binary)
        while i < n and lines[i].startswith("@@ "):
            match = _HUNK_HEADER.match(lines[i])
            if match is None:
                raise ValueError(f"not a hunk header: {lines[i]!r}")
            hunk = Hunk(
                index=len(entry.hunks),
                header=lines[i],
                lines=[],
                old_start=int(match.group(1)),
                old_count=_count(match.group(2)),
                new_start=int(match.group(3)),
                new_count=_count(match.group(4)),
            )
            i += 1
            while i < n and lines[i][:1] in (" ", "+", "-", "\\"):
                hunk.lines.append(lines[i])
                i += 1
            entry.hunks.append(hunk)
        files.append(entry)
    return files


def _count(text: str | None) -> int:
    return 1 if text is None else int(text)


# -- building ----------------------------------------------------------------------------------


def resolve_selection(files: list[FileHunks], selection: Selection) -> dict[str, set[int] | Whole]:
    """`selection` keyed by each file's `path`, checked: every name must be a file of the diff
    (a rename's old name counts), every index a hunk of it, and a file without hunks whole.
    Raises `ValueError` naming the offending path. Empty sets are dropped; a set naming every
    hunk becomes `ALL`."""
    by_name: dict[str, FileHunks] = {}
    for entry in files:
        for name in entry.paths:
            by_name.setdefault(name, entry)
    resolved: dict[str, set[int] | Whole] = {}
    for name, chosen in selection.items():
        found = by_name.get(name)
        if found is None:
            raise ValueError(f"{name}: not a file the run changed")
        entry = found
        if chosen is ALL:
            resolved[entry.path] = ALL
            continue
        indexes = set(chosen)
        if not indexes:
            continue
        if entry.binary or not entry.hunks:
            kind = "a binary file" if entry.binary else "a change without hunks"
            raise ValueError(f"{name}: {kind} can only be accepted whole")
        bad = sorted(k for k in indexes if not 0 <= k < len(entry.hunks))
        if bad:
            raise ValueError(f"{name}: no hunk {bad[0]} (it has {len(entry.hunks)})")
        previous = resolved.get(entry.path)
        if previous is ALL:
            continue
        if previous:
            indexes |= previous
        resolved[entry.path] = ALL if len(indexes) == len(entry.hunks) else indexes
    return resolved


def build_patch(files: list[FileHunks], selection: Selection) -> str:
    """The patch holding exactly the selected files and hunks, in diff order ("" when empty)."""
    chosen = resolve_selection(files, selection)
    out: list[str] = []
    for entry in files:
        pick = chosen.get(entry.path)
        if pick is None:
            continue
        out.extend(entry.header_lines)
        shift = 0  # lines the skipped hunks so far would have added (minus removed)
        for hunk in entry.hunks:
            if pick is ALL or hunk.index in pick:
                out.append(hunk.header if shift == 0 else hunk.header_with_new_start(hunk.new_start - shift))
                out.extend(hunk.lines)
            else:
                shift += hunk.new_count - hunk.old_count
    return "\n".join(out) + "\n" if out else ""


def selected_paths(files: list[FileHunks], selection: Selection) -> list[str]:
    """Every path the selection touches (both names of a rename), in diff order."""
    chosen = resolve_selection(files, selection)
    return [name for entry in files if entry.path in chosen for name in entry.paths]


def split_patch(text: str) -> list[str]:
    """One section per file of a `git diff`, each starting with "diff --git "."""
    start = text.find("diff --git ")
    if start < 0:
        return []
    parts = text[start:].split("\ndiff --git ")
    sections = [parts[0]] + ["diff --git " + part for part in parts[1:]]
    return [s if s.endswith("\n") else s + "\n" for s in sections]


class PatchIndex:
    """A run's patch split per file; `section(name)` by new or old name (a rename's both).
    A type change (a file that became a symlink, say) is two sections under one name: git
    writes it as a deletion and an addition; `section` gives both."""

    def __init__(self, patch: str) -> None:
        self.sections = split_patch(patch)
        self._by_name: dict[str, list[int]] = {}
        for number, section in enumerate(self.sections):
            cut = section.find("\n@@ ")
            head = section if cut < 0 else section[: cut + 1]
            for entry in parse_hunks(head)[:1]:
                for name in entry.paths:
                    numbers = self._by_name.setdefault(name, [])
                    if not numbers or (numbers[-1] == number - 1 and entry.path == name):
                        numbers.append(number)

    def __len__(self) -> int:
        return len(self.sections)

    def section(self, name: str) -> str | None:
        numbers = self._by_name.get(name)
        return None if not numbers else "".join(self.sections[n] for n in numbers)
