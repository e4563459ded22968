"""What the diff view draws, worked out off the UI thread: no Textual here.

`prepare_file(section)` turns one file's section of a run's patch (`core.land.hunks.PatchIndex`)
into a `FileModel`: the file's hunks (`core.land.hunks.parse_hunks`, so hunk numbers
are the ones a partial accept takes), the few header rows worth showing (mode change, rename,
binary, empty file), line numbers, the side-by-side pairing and the widest line. Syntax spans
(`syntax_spans`) come from a Pygments lexer picked by file name, a block of lines at a time,
when those lines are first drawn.

Behaviour choices:
- Lines are made safe to draw once here: tabs expand to 4 columns, control characters show as
  "\ufffd", a trailing "\\r" goes.
- Side by side, a run of removed lines is paired row by row with the added lines that follow
  it (the longer side leaves blanks on the other); context shows on both sides; git's
  "\\ No newline at end of file" goes with the side of the line before it.
- Highlighting restarts at each block of `SYNTAX_BLOCK` lines of a hunk (old side and new side
  separately), so a file of any size costs the same per screen; a construct spanning a block
  edge may be coloured a little wrong there. Files the lexer does not know, plain text, and
  lines longer than `SYNTAX_MAX_LINE` are not coloured.
"""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len

from hybrid_tui.core.inert import inert
from hybrid_tui.core.land.hunks import FileHunks, parse_hunks

SYNTAX_BLOCK = 128
SYNTAX_MAX_LINE = 2_000
SYNTAX_EAGER_LINES = 3_000  # files up to this many lines are highlighted in the worker


def clean(line: str) -> str:
    """A line safe to draw: tabs expanded, no trailing CR, and every other control character
    shown as text (`\\x1b` for ESC, `core.inert`): a file's bytes never drive the terminal."""
    if not line.isprintable():
        line = line.removesuffix("\r")
        if "\t" in line:
            line = line.expandtabs(4)
        line = inert(line, one_line=True)
    return line


def cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


# -- one file --------------------------------------------------------------------------------


@dataclass(slots=True)
class HunkRows:
    """One hunk made ready to draw. `lines` keep their sign as first character; `old`/`new`
    hold each line's number on that side (0: none); `left`/`right` are the side-by-side rows as
    indexes into `lines` (-1: blank)."""

    header: str
    lines: list[str]
    old: array
    new: array
    left: array
    right: array


@dataclass(slots=True)
class FileModel:
    path: str
    file: FileHunks
    header: list[tuple[str, str]]  # (kind, text) rows above the hunks: "meta" or "note"
    hunks: list[HunkRows]
    unified_starts: list[int]  # the row of each hunk's header, unified
    unified_rows: int
    split_starts: list[int]
    split_rows: int
    number_width: int
    code_width: int  # the widest line, in cells, without its sign
    whole_only: bool = False  # hunks cannot be chosen one by one (a type change)
    lexer: Any = None
    spans: dict[tuple[int, int], list[list[tuple[int, int, str]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def hunk_count(self) -> int:
        return len(self.hunks)

    @property
    def selectable_hunks(self) -> int:
        """How many hunks a selection can pick from (0: the file goes whole)."""
        return 0 if self.whole_only or self.file.binary else len(self.hunks)

    def starts(self, split: bool) -> list[int]:
        return self.split_starts if split else self.unified_starts

    def rows(self, split: bool) -> int:
        return self.split_rows if split else self.unified_rows

    def hunk_span(self, index: int, split: bool) -> tuple[int, int]:
        """Rows [first, end) of hunk `index`, its header included."""
        starts = self.starts(split)
        end = starts[index + 1] if index + 1 < len(starts) else self.rows(split)
        return starts[index], end


def header_rows(file: FileHunks) -> list[tuple[str, str]]:
    """The header facts worth a row: mode change, new/deleted file mode, rename, binary, empty."""
    values: dict[str, str] = {}
    for line in file.header_lines:
        for key in ("old mode ", "new mode ", "new file mode ", "deleted file mode ", "similarity index "):
            if line.startswith(key):
                values[key.strip()] = line[len(key):].strip()
    rows: list[tuple[str, str]] = []
    if "old mode" in values and "new mode" in values:
        rows.append(("meta", f"mode {values['old mode']} → {values['new mode']}"))
    if file.status == "added":
        rows.append(("meta", f"new file, mode {values.get('new file mode', '?')}"))
    elif file.status == "deleted":
        rows.append(("meta", f"deleted file, mode {values.get('deleted file mode', '?')}"))
    if file.status in ("renamed", "copied") and file.old_path:
        similar = f" ({values['similarity index']} similar)" if "similarity index" in values else ""
        verb = "renamed" if file.status == "renamed" else "copied"
        rows.append(("meta", clean(f"{verb} from {file.old_path}{similar}")))
    if file.binary:
        rows.append(("note", "binary file: contents not shown"))
    elif not file.hunks:
        if file.status in ("added", "deleted"):
            rows.append(("note", "empty file"))
        elif not rows:
            rows.append(("note", "no changes to the contents"))
    return rows


def _pair(lines: list[str]) -> tuple[array, array]:
    left, right = array("i"), array("i")
    removed: list[int] = []
    added: list[int] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            left.append(removed[k] if k < len(removed) else -1)
            right.append(added[k] if k < len(added) else -1)
        removed.clear()
        added.clear()

    last = " "
    for i, line in enumerate(lines):
        sign = line[:1]
        if sign == "-":
            if added:
                flush()
            removed.append(i)
        elif sign == "+":
            added.append(i)
        elif sign == "\\":
            if last == "-":
                removed.append(i)
            elif last == "+":
                added.append(i)
            else:
                flush()
                left.append(i)
                right.append(i)
            continue
        else:
            flush()
            left.append(i)
            right.append(i)
        last = sign
    flush()
    return left, right


def _numbers(hunk_old: int, hunk_new: int, lines: list[str]) -> tuple[array, array]:
    old, new = array("i", bytes(4 * len(lines))), array("i", bytes(4 * len(lines)))
    o, n = hunk_old, hunk_new
    for i, line in enumerate(lines):
        sign = line[:1]
        if sign == "-":
            old[i] = o
            o += 1
        elif sign == "+":
            new[i] = n
            n += 1
        elif sign != "\\":
            old[i], new[i] = o, n
            o += 1
            n += 1
    return old, new


def prepare_file(section: str, *, with_lexer: bool = True) -> FileModel:
    """A `FileModel` from one file's section of the patch (call it in a thread worker)."""
    entries = parse_hunks(section)
    file = entries[0]
    if len(entries) > 1:  # a type change: the old kind deleted, the new one added
        header = [("meta", "type changed: shown as the old file deleted and the new one added")]
        file = FileHunks(file.path, None, "type-changed", [line for e in entries for line in e.header_lines],
                         [h for e in entries for h in e.hunks], any(e.binary for e in entries))
    else:
        header = header_rows(file)
    hunks: list[HunkRows] = []
    unified, split = [], []
    u_row = s_row = len(header)
    width = 0
    top = 0
    for hunk in file.hunks:
        lines = [line[:1] + clean(line[1:]) for line in hunk.lines]
        if lines:
            width = max(width, max(cells(line) for line in lines) - 1)
        old, new = _numbers(hunk.old_start, hunk.new_start, lines)
        left, right = _pair(lines)
        hunks.append(HunkRows(clean(hunk.header), lines, old, new, left, right))
        unified.append(u_row)
        split.append(s_row)
        u_row += 1 + len(lines)
        s_row += 1 + len(left)
        top = max(top, hunk.old_start + hunk.old_count, hunk.new_start + hunk.new_count)
    model = FileModel(
        path=file.path, file=file, header=header, hunks=hunks,
        unified_starts=unified, unified_rows=u_row, split_starts=split, split_rows=s_row,
        number_width=max(2, len(str(top))), code_width=width, whole_only=len(entries) > 1,
        lexer=lexer_for(file.path) if with_lexer and hunks else None,
    )
    if model.lexer is not None and sum(len(h.lines) for h in hunks) <= SYNTAX_EAGER_LINES:
        for index, rows in enumerate(hunks):
            for block in range(0, len(rows.lines), SYNTAX_BLOCK):
                syntax_spans(model, index, block // SYNTAX_BLOCK)
    return model


# -- syntax --------------------------------------------------------------------------------


_CATEGORIES: list[tuple[str, str]] = [
    # (pygments token type path, category); the first that contains the token wins
    ("Comment", "comment"),
    ("Keyword.Constant", "constant"),
    ("Keyword.Type", "type"),
    ("Keyword", "keyword"),
    ("Operator.Word", "keyword"),
    ("Literal.String", "string"),
    ("Literal.Number", "number"),
    ("Name.Builtin", "builtin"),
    ("Name.Function", "function"),
    ("Name.Decorator", "function"),
    ("Name.Class", "type"),
    ("Name.Tag", "keyword"),
    ("Name.Attribute", "constant"),
    ("Name.Constant", "constant"),
    ("Generic.Heading", "heading"),
    ("Generic.Subheading", "heading"),
]
SYNTAX_CATEGORIES = tuple(dict.fromkeys(category for _, category in _CATEGORIES))
_category_cache: dict[Any, str | None] = {}


def _category(token_type: Any) -> str | None:
    found = _category_cache.get(token_type, "")
    if found != "":
        return found
    from pygments import token as tokens

    result = None
    for path, category in _CATEGORIES:
        parent = tokens.Token
        for part in path.split("."):
            parent = getattr(parent, part)
        if token_type in parent:
            result = category
            break
    _category_cache[token_type] = result
    return result


def lexer_for(path: str) -> Any:
    """A Pygments lexer for `path` by its name, or None (unknown, or plain text)."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_for_filename(path, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None
    return None if lexer.name == "Text only" else lexer


def _tokenize(lexer: Any, lines: list[str]) -> list[list[tuple[int, int, str]]]:
    """Spans (start, end, category) of each line, lexed as one text."""
    spans: list[list[tuple[int, int, str]]] = [[] for _ in lines]
    if not lines:
        return spans
    text = "\n".join(lines) + "\n"
    row, col = 0, 0
    for token_type, value in lexer.get_tokens(text):
        category = _category(token_type)
        parts = value.split("\n")
        for k, part in enumerate(parts):
            if k:
                row += 1
                col = 0
            if part and category is not None and row < len(spans):
                found = spans[row]
                if found and found[-1][1] == col and found[-1][2] == category:
                    found[-1] = (found[-1][0], col + len(part), category)  # one span, not three
                else:
                    found.append((col, col + len(part), category))
            col += len(part)
    return spans


def syntax_spans(model: FileModel, hunk_index: int, block: int) -> list[list[tuple[int, int, str]]]:
    """Spans for lines [block*SYNTAX_BLOCK, ...) of a hunk, cached in the model. Removed lines
    are lexed with the old side's lines, the rest with the new side's."""
    key = (hunk_index, block)
    cached = model.spans.get(key)
    if cached is not None:
        return cached
    hunk = model.hunks[hunk_index]
    first = block * SYNTAX_BLOCK
    chunk = hunk.lines[first : first + SYNTAX_BLOCK]
    result: list[list[tuple[int, int, str]]] = [[] for _ in chunk]
    if model.lexer is not None:
        for side in ("-", "+"):
            picked = [i for i, line in enumerate(chunk) if line[:1] in (side, " ")]
            texts = [chunk[i][1:] if len(chunk[i]) <= SYNTAX_MAX_LINE else "" for i in picked]
            with model.lock:
                side_spans = _tokenize(model.lexer, texts)
            for i, spans in zip(picked, side_spans):
                if chunk[i][:1] == side or side == "+":
                    result[i] = spans
    model.spans[key] = result
    return result
