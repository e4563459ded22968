"""Every file mention in a plan, with what the plan says about it (an `Event` per mention).

One pass over the plan gives, for each line, the kind of section it sits in (the innermost
heading with a kind: done, read, exclude, ignore, criteria, files, verify, context) and the
label above its list (`**Files to create:**`, `**Rollback:**`), then one `Event` per mention:

- `stance`: "change" (the plan changes the file), "read" (consulted: weak, another mention may
  still list the file), "exclude" (the plan says it does not change: wins over everything),
  "done" (finished work: the entry it marks, and the file's mentions that say nothing of their
  own), "skip" (says nothing: rollback, alternatives, risks);
- `action`: CREATE / DELETE / MODIFY when words, a label, a table's action column or a tree tag
  state it, else None;
- `listing`: the mention sits in a list of files (a files section, criteria, a table with a
  file column, a tree, a YAML file list): such mentions count even outside the plan's steps.

Sources besides plain lines: tables (a column whose header names files; an action / type /
status column gives the action), trees and YAML file lists in fences (see `trees`), and
renames (`a.js` -> `a.ts`: DELETE the old path, CREATE the new one).

Paths are resolved by `resolve.Resolver` (bare names, partial paths, the tree) once every
spelled path of the plan is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybrid_tui.core.spec.convert.actions import (
    cell_action,
    excluded,
    is_done,
    only_read,
    says_change,
    stated_action,
)
from hybrid_tui.core.spec.convert.commands import SHELL_INFO
from hybrid_tui.core.spec.convert.context import DIR_SPAN as _DIR_SPAN
from hybrid_tui.core.spec.convert.context import label_kinds, section_folders
from hybrid_tui.core.spec.convert.paths import (
    Mention,
    line_mentions,
    path_candidates,
    renames,
)
from hybrid_tui.core.spec.convert.resolve import Resolver
from hybrid_tui.core.spec.convert.scan import (
    BULLET,
    FENCE_OPEN,
    HEADING_LINE,
    TABLE_ROW,
    Doc,
    cells,
    closes,
    fence_end,
)
from hybrid_tui.core.spec.convert.trees import (
    strip_root,
    tree_entries,
    yaml_file_items,
)


@dataclass(slots=True)
class Event:
    line: int
    path: str  # resolved repo-relative path, or the raw token when `outside`
    outside: bool
    stance: str  # change / read / exclude / done / skip
    action: str | None
    listing: bool  # part of a list of files (counts outside the steps too)
    text: str  # the line (or table row) it came from
    worded: bool = False  # an action or a change verb is said for this mention ("Update `a.py`")


_FILE_COLUMN = re.compile(
    r"^(?:(?:files?|paths?|file ?paths?|component|components|asset|module|modules|location|deliverables?"
    r"|fichiers?|livrables?|archivos?|entregables?|ruta|arquivos?|entregáveis|dateien|datei|pfad|artefakte?"
    r"|файл|файлы|путь|результат|tệp|tập tin|đường dẫn|sản phẩm)\b"
    r"|文件|文件路径|产出|交付物|ファイル|成果物|파일|산출물)",
    re.IGNORECASE,
)
_ACTION_COLUMN = re.compile(
    r"^(?:(?:action|actions|change|changes|type|status|operation|op|what|acción|accion|statut|état|etat"
    r"|estado|ação|acao|azione|aktion|änderung|действие|изменение|hành động|thay đổi|modification)\b"
    r"|操作|类型|類型|変更|種別|작업|유형|状态|状態|상태|变更|修改|改动|対応|변경)",
    re.IGNORECASE,
)
_SOURCE_COLUMN = re.compile(
    r"^(?:(?:source|sources|from|reference|original|origin|based on|quelle|vorlage|origine|référence|origen"
    r"|referencia|origem|fonte|riferimento|источник|оригинал|nguồn|tham khảo|examples?|e\.g\.|samples?"
    r"|beispiele?|exemples?|ejemplos?|exemplos?|esempi[oa]?|пример\w*|ví dụ|patterns?|conventions?|naming"
    r"|format|muster|convention de nommage)\b"
    r"|来源|源|参考|元|参照元|ソース|移植元|출처|원본|소스|示例|例子|例|サンプル|예시|예|规范|命名|規約|形式|형식)",
    re.IGNORECASE,
)
"""A table column whose files are read, not changed: a source (`| Source | Target |`), an
example or a naming pattern (`| 类型 | 规范 | 示例 |`)."""
_TARGET_COLUMN = re.compile(
    r"^(?:(?:target|to|destination|new (?:path|location|file)|moved to|ziel|nach|cible|vers|destino|para"
    r"|destinazione|куда|đích)\b|目标|移動先|移行先|대상)",
    re.IGNORECASE,
)
"""A table column naming where content goes (`| From | To |`, `| Section | Target |`): new files."""
_GLOB_DIR = re.compile(r"`((?:[\w.\-]+/)+)[^`/\s]*\*[^`/\s]*`")
_FOLDER_SPAN = re.compile(r"`([\w.\-]+(?:/[\w.\-]+)*)/?`")
# a list item or line that opens with a file name in bold or code: it announces that file
_FILE_LABEL = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*|__)?`?[\w.\-/\[\]()]+\.\w+`?(?:\*\*|__)"
    r"|^\s*(?:[-*+]\s+|\d+[.)]\s+)(?:\S{1,6}\s*)?`[\w.\-/\[\]()]*\.\w+`\s*[:：—–]"
)
"""A list item or line that opens with a file name in bold or code, or an item whose subject is
a file ("- `.gitignore`：追加...", "- 根 `README.md`: ..."): it announces that file."""
_CHECK_LEAD = re.compile(
    r"^\s*(?:[-*+]|\d+[.)])?\s*(?:\*\*|__)(?:verify|verification|tests?|testing|check|validate"
    r"|validation)\b",
    re.IGNORECASE,
)


def _row_folder(row: list[str]) -> str:
    """A folder a table row is about (`| 2 | `packages/types` shell | `src/index.ts` |`): the
    first cell holding just a folder path."""
    folders = [
        match.group(1).strip("/")
        for cell in row
        for match in _FOLDER_SPAN.finditer(cell)
        if "/" in match.group(1)
        and not path_candidates(match.group(1))
        and "." not in match.group(1).rsplit("/", 1)[-1]
    ]
    return folders[0] if len(folders) == 1 else ""


def _fenced_blocks(doc: Doc) -> list[tuple[int, int]]:
    """(first code line, end) of each fenced block."""
    out = []
    i = 0
    n = len(doc.lines)
    while i < n:
        if doc.fenced[i] and FENCE_OPEN.match(doc.lines[i]):
            end = fence_end(doc.lines, doc.fenced, i)
            last = (
                end - 1
                if end - 1 > i and closes(doc.lines[i], doc.lines[end - 1])
                else end
            )
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
    literal: bool = False
    worded: bool = False


def collect_events(
    doc: Doc, title_index: int | None, kinds: list[str | None], tree: set[str] | None, root: str | None = None
) -> list[Event]:
    """Every file mention in the plan as an `Event` (see the module docstring); `kinds` is
    `section_kinds(doc, title_index)`."""
    labels = label_kinds(doc)
    folders = section_folders(doc)
    raws: list[_Raw] = []
    spelled: list[str] = []
    dirs: list[str] = []

    # plain lines (outside fences)
    table_header: tuple[int, int | None, int | None] | None = (
        None  # (start, file col, action col)
    )
    table_sources: list[int] = []  # the header's source columns
    table_targets: list[int] = []  # the header's target (move destination) columns
    for i, line in enumerate(doc.lines):
        if doc.fenced[i] or i == title_index:
            continue
        kind = kinds[i]
        label = labels[i]
        dirs.extend(m.group(1) for m in _DIR_SPAN.finditer(line))
        dirs.extend(m.group(1) for m in _GLOB_DIR.finditer(line))  # `theme/inc/cpt-*.php`: theme/inc is a folder
        if TABLE_ROW.match(line):
            row = cells(line)
            if table_header is None or not TABLE_ROW.match(doc.lines[i - 1]):
                table_header = _table_columns(row)
                table_sources = [n for n, c in enumerate(row) if _SOURCE_COLUMN.match(c.strip("*_ `"))]
                table_targets = [n for n, c in enumerate(row) if _TARGET_COLUMN.match(c.strip("*_ `"))]
                spelled.extend(
                    m.path for m in _row_mentions(row, None) if not m.outside
                )
                continue
            if all(re.fullmatch(r":?-{2,}:?", c.strip()) or not c.strip() for c in row):
                continue
            _, file_col, action_col = table_header
            found = _row_mentions(row, file_col)
            read_cells = [row[n] for n in table_sources if n < len(row) and n != file_col]
            target_cells = [row[n] for n in table_targets if n < len(row)]
            spelled.extend(m.path for m in found if not m.outside)
            cell = (
                cell_action(row[action_col])
                if action_col is not None and action_col < len(row)
                else None
            )
            row_text = " | ".join(c for c in row if c)
            folder = _row_folder(row)
            for mention in found:
                stance, action = _stance(mention, line, kind, label)
                if cell == "DONE":
                    stance = (
                        "done"
                        if kind not in ("criteria", "verify", "ignore")
                        else stance
                    )
                elif cell == "SKIP" and stance in ("change", "read"):
                    stance = "exclude"
                elif cell in ("CREATE", "DELETE", "MODIFY") and stance in (
                    "change",
                    "read",
                ):
                    stance, action = "change", stated_action(mention) or cell
                if stance == "change" and any(f"`{mention.path}`" in c or mention.path in c.split() for c in read_cells):
                    stance = "read"  # the row's source or example column: not what changes
                elif stance == "change" and action is None and any(f"`{mention.path}`" in c for c in target_cells):
                    action = "CREATE"  # a "Target" / "To" column: where content moves to, a new file
                if (
                    folder
                    and not mention.outside
                    and not mention.path.startswith(folder + "/")
                ):
                    # the row is about one folder: the names in it are that folder's files
                    mention = Mention(
                        f"{folder}/{mention.path}", False, mention.before, mention.after
                    )
                listing = file_col is not None or kind == "files"
                raws.append(
                    _Raw(
                        i,
                        mention,
                        stance,
                        action,
                        listing,
                        row_text,
                        literal=file_col is not None,
                    )
                )
            continue
        table_header = None
        heading = HEADING_LINE.match(line)
        found = line_mentions(heading.group(2) if heading else line)
        if heading:
            found = [_shift(m, line, heading.start(2)) for m in found]
        elif i > 0 and _continues(line, doc.lines[i - 1], doc.fenced[i - 1]):
            # a sentence broken over lines: the words before the break still apply
            joined = doc.lines[i - 1].strip() + " "
            found = [_shift(m, joined, len(joined)) for m in found]
        folder = folders[i]
        if folder:
            found = [
                Mention(
                    m.path,
                    m.outside,
                    m.before,
                    m.after,
                    folder,
                    m.plain,
                    m.located,
                    m.follows,
                )
                if "/" not in m.path and not m.near and not m.outside
                else m
                for m in found
            ]
        spelled.extend(m.path for m in found if not m.outside)
        moved = {id(old): new for old, new in renames(line, found)}
        if _CHECK_LEAD.match(line):
            kind = "verify"  # "**Verify** — `npm test` ...": files there are run, not changed
        names_file = bool(found) and (
            heading is not None or _FILE_LABEL.match(line) is not None
        )
        literal_items = BULLET.match(line) is not None and (
            kind == "files" or label in ("CREATE", "DELETE", "MODIFY")
        )
        previous: str | None = None
        previous_action: str | None = None
        previous_worded = False
        for mention in found:
            stance, action = _stance(mention, line, kind, label)
            if (
                mention.follows
                and previous in ("read", "exclude")
                and stance == "change"
                and action is None
            ):
                stance = previous
            if mention.follows and previous == stance == "change" and action is None:
                action = previous_action  # "Add `a.py` and `b.py`": both are added
            previous, previous_action = stance, action
            worded = action is not None or says_change(mention) or (mention.follows and previous_worded)
            previous_worded = worded
            listing = (
                kind in ("files", "criteria")
                or label in ("CREATE", "DELETE", "MODIFY", "CRITERIA", "FILES")
                or names_file
            )
            if id(mention) in moved and stance == "change":
                new = moved[id(mention)]
                raws.append(_Raw(i, mention, "change", "DELETE", listing, line))
                new_mention = Mention(new, False, mention.before, mention.after)
                spelled.append(new)
                raws.append(_Raw(i, new_mention, "change", "CREATE", listing, line))
                continue
            raws.append(
                _Raw(i, mention, stance, action, listing, line, literal=literal_items,
                     worded=worded)
            )

    # fenced blocks: trees, YAML-like file lists (names also feed the resolver)
    for start, end in _fenced_blocks(doc):
        code = doc.lines[start:end]
        if not code:
            continue
        kind = kinds[start]
        entries = tree_entries(
            code, indented=kind == "files" or _indented_listing(code)
        )
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
                        stance, action = (
                            ("exclude" if kind not in ("ignore",) else "skip"),
                            None,
                        )
                    elif entry.tag in ("CREATE", "MODIFY", "DELETE"):
                        stance, action = "change", entry.tag
                    elif entry.tag == "EXTENDED" and kind == "files":
                        stance, action = "change", "MODIFY"
                    elif not tagged and labels[start] in ("CREATE", "MODIFY", "DELETE"):
                        stance, action = "change", labels[start]  # a tree under "### Neue Dateien"
                    elif not tagged and kind == "files":
                        stance, action = "change", "CREATE"
                    else:
                        stance, action = "skip", None
                    if kind in ("read", "ignore", "exclude") and stance == "change":
                        stance = "skip" if kind != "exclude" else "exclude"
                    if kind == "done" and stance == "change":
                        stance = "done"
                    raws.append(
                        _Raw(
                            start + entry.line,
                            mention,
                            stance,
                            action,
                            True,
                            code[entry.line],
                        )
                    )
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
        if _only_comments(code):  # notes written as comments in a code block: prose
            for index, line in enumerate(code):
                text = _COMMENT_MARK.sub("", line)
                for mention in line_mentions(text):
                    if mention.outside:
                        continue
                    spelled.append(mention.path)
                    stance, action = _stance(mention, text, kind, None)
                    raws.append(_Raw(start + index, mention, stance, action, False, text,
                                     worded=action is not None or says_change(mention)))
            continue
        listed = _path_lines(code)
        if listed:
            block_label = labels[start]
            for index, mention in listed:
                spelled.append(mention.path)
                stance, action = _stance(mention, code[index], kind, block_label)
                if stance == "change" and action is None and block_label in ("CREATE", "DELETE", "MODIFY"):
                    action = block_label
                raws.append(_Raw(start + index, mention, stance, action, True, code[index]))
            continue
        header = _code_header(doc.lines[start - 1], code)
        if header is not None:
            index, mention = header
            spelled.append(mention.path)
            stance, action = _stance(mention, code[index], kind, None)
            if stance == "change":
                raws.append(_Raw(start + index, mention, "change", action, True, code[index]))
        for (
            line
        ) in code:  # names only: a fenced path still tells where a bare name lives
            if "/" in line and "." in line:
                spelled.extend(
                    m.path
                    for m in line_mentions(line, plain_text=True)
                    if not m.outside and "/" in m.path
                )

    literal = {raw.mention.path for raw in raws if raw.literal}
    resolver = Resolver(spelled, dirs, tree, literal, root)
    events = []
    for raw in raws:
        mention = raw.mention
        outside = mention.outside
        inside = resolver.inside(mention.path) if outside else None
        resolved: str | None = inside
        if inside is not None:
            outside = False
        else:
            resolved = mention.path if outside else resolver.resolve(mention.path, mention.near, literal=raw.literal)
        if resolved is None:
            continue
        path = resolved
        events.append(
            Event(
                raw.line,
                path,
                outside,
                raw.stance,
                raw.action,
                raw.listing,
                raw.text,
                raw.worded or raw.action is not None,
            )
        )
    return events


_HEADER_COMMENT = re.compile(
    r"^\s*(?://|#|--|/\*|<!--|;)\s*(?:file(?:name)?\s*:\s*)?(\S+?)(?:\s+[-—–(:].*?)?\s*(?:\*/|-->)?\s*$", re.IGNORECASE
)


def _code_header(opener: str, code: list[str]) -> tuple[int, Mention] | None:
    """A code block (not shell) whose first line is a comment naming a file (`// src/app.ts`,
    `# file: tools/x.py`) shows that file's new code: a change of it."""
    info = FENCE_OPEN.match(opener)
    language = info.group(2).strip().split()[0].lower() if info and info.group(2).strip() else ""
    if language in SHELL_INFO:
        return None
    index = next((n for n, line in enumerate(code) if line.strip()), None)
    if index is None:
        return None
    match = _HEADER_COMMENT.match(code[index])
    if match is None:
        return None
    found = [m for m in line_mentions(f"`{match.group(1)}`") if not m.outside]
    return (index, found[0]) if len(found) == 1 and "/" in found[0].path else None


_PATH_LINE = re.compile(r"^\s*[-*]?\s*`?([^\s`]+)`?\s*(?:(?:←|<-|<--|#|//|--|—|–|-|:|\()\s*.*)?$")


_COMMENT_MARK = re.compile(r"^\s*(?:#+|//+|--)\s?")


def _only_comments(code: list[str]) -> bool:
    """A code block whose every line is a comment (`# 创建 branding.js`): notes, not code."""
    lines = [line for line in code if line.strip()]
    return bool(lines) and all(_COMMENT_MARK.match(line) and not line.lstrip().startswith("#!") for line in lines)


def _path_lines(code: list[str]) -> list[tuple[int, Mention]]:
    """A code block that is a list of paths, one a line (each maybe with a `← why` comment):
    its mentions with their line; empty for any other block."""
    out: list[tuple[int, Mention]] = []
    lines = [(n, line) for n, line in enumerate(code) if line.strip()]
    for n, line in lines:
        match = _PATH_LINE.match(line)
        found = [m for m in line_mentions(f"`{match.group(1)}`") if not m.outside] if match else []
        if len(found) != 1:
            return []
        out.append((n, Mention(found[0].path, False, "", line[match.end(1):] if match else "")))
    return out


def _indented_listing(code: list[str]) -> bool:
    """An unlabelled block of `dir/` lines with names indented under them (`tests/` + files)."""
    names = [line for line in code if line.strip()]
    return (
        len(names) >= 2
        and (names[0].strip().endswith("/") or names[0].strip().startswith("/"))
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
        mention.located,
        mention.follows,
    )


def _continues(line: str, previous: str, previous_fenced: bool) -> bool:
    """`line` goes on with the sentence of `previous` (no blank line, no new item or block)."""
    if previous_fenced or not previous.strip() or not line.strip():
        return False
    if BULLET.match(line) or HEADING_LINE.match(line) or TABLE_ROW.match(line):
        return False
    return not HEADING_LINE.match(previous) and not TABLE_ROW.match(previous)


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


_DEFERRED = re.compile(
    r"^[\s`*_]*[(\[（—–-]\s*[*_]*(?:deferred|later|postponed|next phase|out of scope|v2|todo later|後で|後回し|推迟|延后"
    r"|以后|나중에|보류|später|verschoben|plus tard|reporté|más tarde|aplazado|depois|adiado|più tardi|rinviato"
    r"|позже|отложено|sau này|hoãn lại)\b",
    re.IGNORECASE,
)
"""A deferred mark beside one entry (`src/x.py` (deferred)): not this plan's change."""
_NO_CHANGE_LATER = re.compile(r"\s[-—–:]\s*\**(?:no changes? (?:needed|required)|unchanged)\b", re.IGNORECASE)


def _stance(
    mention: Mention, line: str, kind: str | None, label: str | None
) -> tuple[str, str | None]:
    """What the plan says about one mention on a line (see the module docstring)."""
    if kind in ("ignore",) or label == "SKIP":
        return "skip", None
    if kind == "exclude" or label == "EXCLUDE":
        return "exclude", None
    if excluded(mention, line) or _DEFERRED.match(mention.after):
        return "done", None  # "`x` (no change)", "`x` (deferred)": this entry, like a done mark
    checklist = kind in ("criteria", "verify") or label == "CRITERIA"
    if kind == "done" or (not checklist and is_done(line)):
        # "- [x] Update README.md (if needed) - No changes needed": it did not change at all
        return ("exclude" if _NO_CHANGE_LATER.search(mention.after) else "done"), None
    action = stated_action(mention, label)
    if kind == "read" or label == "READ":
        return "read", action
    if action is None and only_read(mention):
        return "read", None
    return "change", action
