"""Scanning a plan: lines, fenced code, headings and blocks.

Behaviour choices:
- Lines are split on `\\n` only (a trailing `\\r` dropped), so unicode line separators stay content.
- The structure (headings, fences, HTML comments) is markdown-it-py's (see `scan`). Fenced code
  is content, never structure: a `#` line inside a fence is not a heading.
- `blocks` groups a run of lines into list items (with their nested lines), paragraphs, tables,
  headings and code; a fence that does not belong to a list item joins the block before it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class Heading:
    index: int  # 0-based line index
    level: int
    text: str  # without the leading #'s and a closing #-run


@dataclass(slots=True)
class Doc:
    lines: list[str]
    fenced: list[bool]  # True for fence lines and the lines between them
    headings: list[Heading]
    ends: dict[int, int]  # heading line -> index after the last line of its section
    keys: list[int]  # heading line indices, ascending

    def section_end(self, heading: Heading) -> int:
        """Index after the last line of `heading`'s section (sub-sections included)."""
        return self.ends[heading.index]

    def headings_in(self, start: int, end: int) -> list[Heading]:
        """Headings on lines with start < index < end."""
        return self.headings[
            bisect_right(self.keys, start) : bisect_left(self.keys, end)
        ]


FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)$")
HEADING_LINE = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def split_lines(text: str) -> list[str]:
    """Split on `\\n` only (unicode line separators stay content); drop a trailing `\\r`."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def fence_state(lines: list[str]) -> tuple[list[bool], str]:
    """(mask, open fence): which lines belong to a fenced code block (fence lines included),
    and the fence left open at the end ("" when none). An unclosed fence runs to the end, as
    in CommonMark."""
    mask = [False] * len(lines)
    fence = ""
    for i, line in enumerate(lines):
        if fence:
            mask[i] = True
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = ""
            continue
        if "```" in line or "~~~" in line:
            match = FENCE_OPEN.match(line)
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = match.group(1)
                mask[i] = True
    return mask, fence


def fence_mask(lines: list[str]) -> list[bool]:
    return fence_state(lines)[0]


_MARKDOWN = MarkdownIt("commonmark")
_MARKDOWN.disable("inline")  # only the block structure is read: headings, fences, HTML
_COMMENT = re.compile(r"\s*<!--")


def _unescaped(line: str) -> list[str]:
    """A long line holding many literal `\\n` escapes is text that was stored JSON-escaped (the
    rest of a plan on one physical line): its lines, unescaped. Other lines as they are."""
    if len(line) < 300 or line.count("\\n") < 5:
        return [line]
    return line.replace("\\t", "\t").replace('\\"', '"').split("\\n")


_DRIFTED_HEADING = re.compile(r"^( {4,})#{2,6}[ \t]+\S")


def _undrifted(lines: list[str]) -> list[str]:
    """A plan pasted through an auto-indenting editor drifts right: its `## Headings` and
    fences end up 20 spaces in, where Markdown reads code. With two or more such headings, from
    each one on the lines are shifted back by its indentation (until a line less indented)."""
    if sum(1 for line in lines if _DRIFTED_HEADING.match(line)) < 2:
        return lines
    out: list[str] = []
    shift = 0
    for line in lines:
        drifted = _DRIFTED_HEADING.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if drifted:
            shift = len(drifted.group(1))
        elif line.strip() and indent < shift:
            shift = 0
        out.append(line[shift:] if line.strip() else line.strip())
    return out


def scan(text: str) -> Doc:
    """Lines, fenced code and headings, from markdown-it-py's block tokens (`token.map` gives
    their lines): ATX and setext headings, also inside list items and block quotes; fenced code
    as CommonMark closes it (at the end of its list item when unclosed there); an HTML comment
    block is blanked out (it is not shown, so it is neither structure nor content)."""
    lines = _undrifted([part for line in split_lines(text) for part in _unescaped(line)])
    fenced = [False] * len(lines)
    headings: list[Heading] = []
    # markdown-it breaks lines at a lone \r too; ours at \n only
    tokens = _MARKDOWN.parse("\n".join(lines).replace("\r", " "))
    for n, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "heading_open":
            headings.append(Heading(start, int(token.tag[1:]), " ".join(tokens[n + 1].content.split())))
        elif token.type == "fence":
            fenced[start:end] = [True] * (end - start)
        elif token.type == "html_block" and _COMMENT.match(token.content):
            lines[start:end] = [""] * (end - start)
    ends: dict[int, int] = {}
    open_sections: list[Heading] = []  # a stack of headings whose section is still open
    for heading in headings:
        while open_sections and open_sections[-1].level >= heading.level:
            ends[open_sections.pop().index] = heading.index
        open_sections.append(heading)
    for heading in open_sections:
        ends[heading.index] = len(lines)
    return Doc(lines, fenced, headings, ends, [h.index for h in headings])


# Blocks: bullets, paragraphs, tables, headings and code inside a run of lines

BULLET = re.compile(r"([ \t]*)([-*+]|\d+[.)])([ \t]+|$)")
TABLE_ROW = re.compile(r"\s*\|")
RULE = re.compile(r"\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")


@dataclass(slots=True)
class Block:
    kind: str  # "item" | "para" | "table" | "heading" | "code"
    lines: list[str]
    numbered: bool = False
    line: int = 0  # index of the first line in the lines given to `blocks`
    end: int = 0  # index after its last line


def indent_of(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def dedent(line: str, columns: int) -> str:
    """Remove up to `columns` columns of leading whitespace (a tab counts to the next 4)."""
    col = 0
    i = 0
    while i < len(line) and col < columns and line[i] in " \t":
        col = col + 1 if line[i] == " " else (col // 4 + 1) * 4
        i += 1
    return line[i:]


def blocks(lines: list[str]) -> list[Block]:
    """Group lines into blocks: list items (with their nested lines), paragraphs, tables,
    headings, code. Code fences are kept whole; a fence that does not belong to a list item
    joins the block before it (the code belongs to the text above it)."""
    fenced = fence_mask(lines)
    base = min(
        (indent_of(line) for line, f in zip(lines, fenced) if line.strip() and not f),
        default=0,
    )
    out: list[Block] = []
    current: Block | None = None
    item_indent = 0  # indentation of the current item's marker
    content_col = 0  # column where the current item's text starts
    blank = False
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            blank = True
            i += 1
            continue
        indent = indent_of(line)
        if fenced[i]:
            end = fence_end(lines, fenced, i)
            code = lines[i:end]
            if current is not None and current.kind == "item" and indent > item_indent:
                current.lines.extend([""] if blank else [])
                current.lines.extend(dedent(c, content_col) for c in code)
            elif current is not None and current.kind != "table":
                current.lines.extend([""] if blank else [])
                current.lines.extend(dedent(c, base) for c in code)
            else:
                current = Block("code", [dedent(c, base) for c in code], line=i)
                out.append(current)
            current.end = end
            blank = False
            i = end
            continue
        bullet = BULLET.match(line)
        starts_block = bool(
            bullet
            or TABLE_ROW.match(line)
            or HEADING_LINE.match(line)
            or RULE.match(line)
        )
        if (
            current is not None
            and current.kind == "item"
            and (
                indent >= content_col
                or (indent > item_indent and (not blank or bullet))
                or (not blank and not starts_block)
            )
        ):
            current.lines.extend([""] if blank else [])
            current.lines.append(dedent(line, content_col))
        elif (
            current is not None
            and current.kind == "para"
            and not blank
            and not starts_block
        ):
            current.lines.append(dedent(line, base))
        elif RULE.match(line) and not (bullet and bullet.group(3)):
            current = None
        elif bullet:
            item_indent = indent
            content_col = len(bullet.group(0).expandtabs(4)) + (
                0 if bullet.group(3) else 1
            )
            current = Block(
                "item", [line[bullet.end() :]], bullet.group(2)[0].isdigit(), i
            )
            out.append(current)
        elif TABLE_ROW.match(line):
            j = i
            while j < n and not fenced[j] and TABLE_ROW.match(lines[j]):
                j += 1
            current = Block("table", [row.strip() for row in lines[i:j]], line=i, end=j)
            out.append(current)
            blank = False
            i = j
            continue
        elif HEADING_LINE.match(line):
            current = Block("heading", [line.strip()], line=i)
            out.append(current)
        else:
            current = Block("para", [dedent(line, base)], line=i)
            out.append(current)
        if current is not None:
            current.end = i + 1
        blank = False
        i += 1
    result = []
    for block in out:
        block.lines = [line.rstrip() for line in block.lines]
        while block.lines and not block.lines[-1]:
            block.lines.pop()
        if any(block.lines):
            result.append(block)
    return result


def closes(opener: str, line: str) -> bool:
    fence = FENCE_OPEN.match(opener).group(1)  # type: ignore[union-attr]
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])


def fence_end(lines: list[str], fenced: list[bool], start: int) -> int:
    """Index after the fenced block opening at `start`."""
    j = start + 1
    while j < len(lines) and fenced[j]:
        if closes(lines[start], lines[j]):
            return j + 1
        j += 1
    return j


def requirements(lines: list[str]) -> list[str]:
    """One requirement per block, verbatim (markdown kept)."""
    return ["\n".join(block.lines) for block in blocks(lines)]


def cells(row: str) -> list[str]:
    """The cells of a table row (`| a | b |` -> ["a", "b"])."""
    row = row.strip()
    row = row.removeprefix("|")
    row = row.removesuffix("|")
    return [cell.strip() for cell in row.split("|")]


def words(text: str) -> frozenset[str]:
    """A word list written as one string (keyword tables stay compact)."""
    return frozenset(text.split())
