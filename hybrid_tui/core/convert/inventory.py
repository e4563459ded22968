"""Every file mention in a plan, with what the plan says about it (an `Event` per mention).

One pass over the plan gives, for each line, the kind of section it sits in (the innermost
heading with a kind: done, read, exclude, ignore, criteria, files, verify, context) and the
label above its list (`**Files to create:**`, `**Rollback:**`), then one `Event` per mention:

- `stance`: "change" (the plan changes the file), "read" (consulted: weak, another mention may
  still list the file), "exclude" (the plan says it does not change: wins over everything),
  "done" (finished work: wins too), "skip" (says nothing: rollback, alternatives, risks);
- `action`: CREATE / DELETE / MODIFY when words, a label, a table's action column or a tree tag
  state it, else None;
- `listing`: the mention sits in a list of files (a files section, criteria, a table with a
  file column, a tree, a YAML file list): such mentions count even outside the plan's steps.

Sources besides plain lines: tables (a column whose header names files; an action / type /
status column gives the action), trees and YAML file lists in fences (see `trees`), and
renames (`a.js` -> `a.ts`: DELETE the old path, CREATE the new one).

`Resolver` turns what the plan wrote into repository paths: a bare name into the one full path
with that name the plan spells out (anywhere, fences included), a partial path into the one
spelled path it is the tail of, `queries/x.sql` into `.../queries/x.sql` when the plan names
the folder `internal/db/queries/`; with a tree, to the one tree file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybrid_tui.core.convert.actions import (
    cell_action,
    excluded,
    is_done,
    label_kind,
    only_read,
    stated_action,
)
from hybrid_tui.core.convert.paths import CODE_SPAN, Mention, line_mentions, path_candidates, renames
from hybrid_tui.core.convert.scan import (
    BULLET,
    FENCE_OPEN,
    HEADING_LINE,
    TABLE_ROW,
    Doc,
    cells,
    closes,
    fence_end,
)
from hybrid_tui.core.convert.sections import section_kind
from hybrid_tui.core.convert.trees import strip_root, tree_entries, yaml_file_items


@dataclass(slots=True)
class Event:
    line: int
    path: str  # resolved repo-relative path, or the raw token when `outside`
    outside: bool
    stance: str  # change / read / exclude / done / skip
    action: str | None
    listing: bool  # part of a list of files (counts outside the steps too)
    text: str  # the line (or table row) it came from


_FILE_COLUMN = re.compile(
    r"^(?:files?|paths?|file ?paths?|component|components|asset|module|modules|location"
    r"|文件|文件路径|ファイル|파일|fichiers?|archivos?|ruta)\b",
    re.IGNORECASE,
)
_ACTION_COLUMN = re.compile(
    r"^(?:action|actions|change|changes|type|status|operation|op|what|操作|类型|類型|変更|種別"
    r"|작업|유형|acción|accion|statut|état|etat|状态|状態|상태|estado)\b",
    re.IGNORECASE,
)
_DIR_SPAN = re.compile(r"`([\w.\-/]+/)`")


def section_kinds(doc: Doc, title_index: int | None) -> list[str | None]:
    """The kind of the innermost heading with a kind, for every line."""
    kinds: list[str | None] = [None] * len(doc.lines)
    stack: list[tuple[int, str | None]] = []  # (level, kind)
    positions = {h.index: h for h in doc.headings}
    current: str | None = None
    for i in range(len(doc.lines)):
        heading = positions.get(i)
        if heading is not None:
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            kind = None if heading.index == title_index else section_kind(heading.text)
            stack.append((heading.level, kind))
            current = next((k for _, k in reversed(stack) if k), None)
        kinds[i] = current
    return kinds


def label_kinds(doc: Doc) -> list[str | None]:
    """The kind of the label line over each line's list (see `actions.label_kind`)."""
    out: list[str | None] = [None] * len(doc.lines)
    label: str | None = None
    for i, line in enumerate(doc.lines):
        if doc.fenced[i]:
            out[i] = label
            continue
        stripped = line.strip()
        if not stripped:
            out[i] = label
            continue
        if HEADING_LINE.match(line):
            label = None
            continue
        own = label_kind(line)
        if own is not None:
            label = own
            continue
        if BULLET.match(line) or TABLE_ROW.match(line) or line[:1] in (" ", "\t"):
            out[i] = label
            continue
        label = None
    return out


class Resolver:
    """Turns what the plan wrote into repository paths (see the module docstring)."""

    def __init__(self, spelled: list[str], dirs: list[str], tree: set[str] | None) -> None:
        self.tree = tree
        self.spelled = [p for p in dict.fromkeys(spelled) if "/" in p]
        self.by_name: dict[str, set[str]] = {}
        for path in self.spelled:
            self.by_name.setdefault(path.rsplit("/", 1)[-1], set()).add(path)
        self.dirs = [d.rstrip("/") for d in dict.fromkeys(dirs)]
        self._tree_names: dict[str, list[str]] | None = None

    def resolve(self, path: str, near: str = "") -> str | None:
        """The repository path for `path` as written; None when it is ambiguous in the tree."""
        if "/" not in path:
            spelled = self.by_name.get(path, ())
            if near and (self.tree is None or f"{near}/{path}" in self.tree or not spelled):
                path = f"{near}/{path}"
            elif len(spelled) == 1:
                path = next(iter(spelled))
        else:
            path = self._complete(path)
        tree = self.tree
        if tree is None or path in tree:
            return path
        if self._tree_names is None:
            names: dict[str, list[str]] = {}
            for item in tree:
                names.setdefault(item.rsplit("/", 1)[-1], []).append(item)
            self._tree_names = names
        matches = [
            item
            for item in self._tree_names.get(path.rsplit("/", 1)[-1], ())
            if item == path or item.endswith("/" + path)
        ]
        if len(matches) == 1:
            return matches[0]
        return None if matches else path

    def _complete(self, path: str) -> str:
        """A partial path: the one spelled path it is the tail of, or a named folder joined."""
        longer = [p for p in self.by_name.get(path.rsplit("/", 1)[-1], ()) if p.endswith("/" + path)]
        if len(longer) == 1:
            return longer[0]
        first = path.split("/", 1)[0]
        joined = {d + path[len(first) :] for d in self.dirs if d.rsplit("/", 1)[-1] == first and d != first}
        if len(joined) == 1:
            return next(iter(joined))
        return path


def _fenced_blocks(doc: Doc) -> list[tuple[int, int]]:
    """(first code line, end) of each fenced block."""
    out = []
    i = 0
    n = len(doc.lines)
    while i < n:
        if doc.fenced[i] and FENCE_OPEN.match(doc.lines[i]):
            end = fence_end(doc.lines, doc.fenced, i)
            last = end - 1 if end - 1 > i and closes(doc.lines[i], doc.lines[end - 1]) else end
            out.append((i + 1, last))
            i = end
            continue
        i += 1
    return out


@dataclass(slots=True)
class _Raw:
    line: int
    mention: Mention
    stance: str
    action: str | None
    listing: bool
    text: str


def collect_events(
    doc: Doc, title_index: int | None, kinds: list[str | None], tree: set[str] | None
) -> list[Event]:
    """Every file mention in the plan as an `Event` (see the module docstring); `kinds` is
    `section_kinds(doc, title_index)`."""
    labels = label_kinds(doc)
    raws: list[_Raw] = []
    spelled: list[str] = []
    dirs: list[str] = []

    # plain lines (outside fences)
    table_header: tuple[int, int | None, int | None] | None = None  # (start, file col, action col)
    for i, line in enumerate(doc.lines):
        if doc.fenced[i] or i == title_index:
            continue
        kind = kinds[i]
        label = labels[i]
        dirs.extend(m.group(1) for m in _DIR_SPAN.finditer(line))
        if TABLE_ROW.match(line):
            row = cells(line)
            if table_header is None or not TABLE_ROW.match(doc.lines[i - 1]):
                table_header = _table_columns(row)
                spelled.extend(m.path for m in _row_mentions(row, None) if not m.outside)
                continue
            if all(re.fullmatch(r":?-{2,}:?", c.strip()) or not c.strip() for c in row):
                continue
            _, file_col, action_col = table_header
            found = _row_mentions(row, file_col)
            spelled.extend(m.path for m in found if not m.outside)
            cell = cell_action(row[action_col]) if action_col is not None and action_col < len(row) else None
            row_text = " | ".join(c for c in row if c)
            for mention in found:
                stance, action = _stance(mention, line, kind, label)
                if cell == "DONE":
                    stance = "done" if kind not in ("criteria", "verify", "ignore") else stance
                elif cell == "SKIP" and stance == "change":
                    stance = "exclude"
                elif cell in ("CREATE", "DELETE", "MODIFY") and stance == "change":
                    action = stated_action(mention) or cell
                listing = file_col is not None or kind == "files"
                raws.append(_Raw(i, mention, stance, action, listing, row_text))
            continue
        table_header = None
        heading = HEADING_LINE.match(line)
        found = line_mentions(heading.group(2) if heading else line)
        if heading:
            found = [_shift(m, line, heading.start(2)) for m in found]
        spelled.extend(m.path for m in found if not m.outside)
        moved = dict((id(old), new) for old, new in renames(line, found))
        for mention in found:
            stance, action = _stance(mention, line, kind, label)
            listing = kind in ("files", "criteria") or label in ("CREATE", "DELETE", "MODIFY")
            if id(mention) in moved and stance == "change":
                new = moved[id(mention)]
                raws.append(_Raw(i, mention, "change", "DELETE", listing, line))
                new_mention = Mention(new, False, mention.before, mention.after)
                spelled.append(new)
                raws.append(_Raw(i, new_mention, "change", "CREATE", listing, line))
                continue
            raws.append(_Raw(i, mention, stance, action, listing, line))

    # fenced blocks: trees, YAML-like file lists (names also feed the resolver)
    for start, end in _fenced_blocks(doc):
        code = doc.lines[start:end]
        kind = kinds[start]
        entries = tree_entries(code, indented=kind == "files" or _indented_listing(code))
        if entries:
            known = set(spelled)
            kept = strip_root(entries, known)
            if kept is None:
                continue
            tagged = any(e.tag in ("CREATE", "MODIFY", "DELETE") for e in kept)
            for entry in kept:
                if entry.is_dir:
                    continue
                for path, outside in path_candidates(entry.path):
                    if outside:
                        continue
                    spelled.append(path)
                    mention = Mention(path, False, "", "")
                    if entry.tag == "KEEP":
                        stance, action = ("exclude" if kind not in ("ignore",) else "skip"), None
                    elif entry.tag in ("CREATE", "MODIFY", "DELETE"):
                        stance, action = "change", entry.tag
                    elif not tagged and kind == "files":
                        stance, action = "change", "CREATE"
                    else:
                        stance, action = "skip", None
                    if kind in ("read", "ignore", "exclude") and stance == "change":
                        stance = "skip" if kind != "exclude" else "exclude"
                    if kind == "done" and stance == "change":
                        stance = "done"
                    raws.append(_Raw(start + entry.line, mention, stance, action, True, code[entry.line]))
            continue
        for index, item, negative in yaml_file_items(code):
            for mention in line_mentions(item):
                if mention.outside:
                    continue
                spelled.append(mention.path)
                if negative:
                    stance, action = "exclude", None
                else:
                    stance, action = "change", stated_action(mention)
                raws.append(_Raw(start + index, mention, stance, action, True, item))
        for line in code:  # names only: a fenced path still tells where a bare name lives
            if "/" in line and "." in line:
                spelled.extend(m.path for m in line_mentions(line, plain_text=True) if not m.outside and "/" in m.path)

    resolver = Resolver(spelled, dirs, tree)
    events = []
    for raw in raws:
        mention = raw.mention
        if mention.outside:
            path: str | None = mention.path
        else:
            path = resolver.resolve(mention.path, mention.near)
        if path is None:
            continue
        events.append(Event(raw.line, path, mention.outside, raw.stance, raw.action, raw.listing, raw.text))
    return events


def _indented_listing(code: list[str]) -> bool:
    """An unlabelled block of `dir/` lines with names indented under them (`tests/` + files)."""
    names = [line for line in code if line.strip()]
    return (
        len(names) >= 2
        and names[0].strip().endswith("/")
        and all(re.fullmatch(r"\s*[\w.\-/]+/?(?:\s+#.*)?", line) for line in names)
        and any(line[:1] in (" ", "\t") for line in names)
    )


def _shift(mention: Mention, line: str, start: int) -> Mention:
    return Mention(
        mention.path,
        mention.outside,
        line[:start] + mention.before,
        mention.after,
        mention.near,
        mention.plain,
    )


def _table_columns(header: list[str]) -> tuple[int, int | None, int | None]:
    file_col = next(
        (n for n, c in enumerate(header) if _FILE_COLUMN.match(c.strip("*_ `"))), None
    )
    action_col = next(
        (
            n
            for n, c in enumerate(header)
            if n != file_col and _ACTION_COLUMN.match(c.strip("*_ `"))
        ),
        None,
    )
    return 0, file_col, action_col


def _row_mentions(row: list[str], file_col: int | None) -> list[Mention]:
    chosen = [row[file_col]] if file_col is not None and file_col < len(row) else row
    out: list[Mention] = []
    for cell in chosen:
        out.extend(line_mentions(cell, plain_text=file_col is not None))
    return out


def _stance(mention: Mention, line: str, kind: str | None, label: str | None) -> tuple[str, str | None]:
    """What the plan says about one mention on a line (see the module docstring)."""
    if kind in ("ignore",) or label == "SKIP":
        return "skip", None
    if kind == "exclude" or label == "EXCLUDE" or excluded(mention, line):
        return "exclude", None
    if kind == "done" or (kind not in ("criteria", "verify") and is_done(line)):
        return "done", None
    action = stated_action(mention, label)
    if kind == "read" or label == "READ":
        return "read", action
    if action is None and only_read(mention):
        return "read", None
    return "change", action
