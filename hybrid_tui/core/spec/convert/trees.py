"""File trees and YAML-like file lists inside fenced blocks.

Behaviour choices:
- A fenced block is a tree when at least two lines carry tree glyphs (`├`, `└`, `|--`), or
  when it sits in a files / structure section and its lines are names indented under
  `dir/` lines. Depth comes from the column where the name starts; `dir/` lines open a folder.
- An entry's comment (after `#`, `←`, `//`, `<-` or two spaces) may tag it: NEW / (new) /
  新規 / 新增 -> CREATE; MODIFIED / UPDATED / CHANGED / 修改 -> MODIFY; DELETED / REMOVED ->
  DELETE; unchanged / (existing) / reference only / ✅ -> not a change. A folder's tag carries
  to the untagged entries under it.
- A single root folder is dropped when the plan names the same files without it (the tree is
  drawn from the repository's own folder, `pytrader/`), kept when the plan's paths start with
  it (`symbolic3/`), and a root that looks like a host (`github.com/org/lib/`) is another
  repository: the whole tree is skipped.
- In a fence, a YAML-like key naming files (`allowed_files:`, `files:`) followed by `- path`
  items lists files; a key saying forbidden / exclude / read-only lists files not to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybrid_tui.core.spec.convert.scan import words

_GLYPHS = re.compile(r"[├└┣┗]|\|--|`--|\+--")
_PREFIX = re.compile(r"^[\s│├└┃┣┗─━|`+\-]*")
_NAME = re.compile(r"^([^\s#←<]+)")
_COMMENT = re.compile(r"\s*(?:#|←|<-|//|--\s|\s{2,})\s*(.*)$")
_TAG_WORDS_CREATE = (r"新規|新增|新建|신규|nouveau|nouvelle|nuevo|nueva|novo|nova|nuovo|nuova|neu|neue|новый"
                     r"|новая|новое|создать|mới|tạo mới")
_TAG_WORDS_MODIFY = (r"修改|変更|수정|modifié|modifier|modificado|modificar|modificato|geändert|ändern|изменить"
                     r"|изменён|sửa|cập nhật")
_TAG_WORDS_DELETE = (r"删除|削除|삭제|supprimé|supprimer|eliminado|eliminar|remover|removido|eliminato|gelöscht"
                     r"|löschen|удалить|удалён|xóa")
_TAG_CREATE = re.compile(
    rf"\bNEW\b|\((?:new|new file)\)|\bnew file\b|{_TAG_WORDS_CREATE}", re.IGNORECASE
)
_TAG_CREATE_STRICT = re.compile(
    rf"\bNEW\b|\([Nn]ew(?: file)?\)|[Nn]ew file|{_TAG_WORDS_CREATE}"
)
_TAG_MODIFY = re.compile(
    rf"\bMODIFIED\b|\bMODIFY\b|\bUPDATED?\b|\bCHANGED\b|\([Mm]odified\)|{_TAG_WORDS_MODIFY}"
)
_TAG_DELETE = re.compile(
    rf"\bDELETED?\b|\bREMOVED?\b|\([Dd]eleted?\)|\([Rr]emoved?\)|{_TAG_WORDS_DELETE}"
)
_TAG_KEEP = re.compile(
    r"[Uu]nchanged|\([Ee]xisting(?![^)]*\+)|[Rr]eference only|✅|✔|[Nn]o changes?|[Ii]mplemented\)|\([Kk]eep\)"
    r"|сохранить|оставить|garder|conserver|conservar|manter|behalten|mantenere|giữ lại|保留|保持|維持|유지"
)
_TAG_EXISTING_PLUS = re.compile(r"\([Ee]xisting[^)]*\+")
_HOST_ROOT = re.compile(r"^[\w-]+\.(?:com|org|net|io|dev)/")
COMMON_ROOTS = words(
    """
    src lib app apps packages services crates docs tests test scripts modules internal cmd
    pkg public config server client frontend backend web api tools
    """
)


@dataclass(frozen=True, slots=True)
class TreeEntry:
    line: int  # index in the lines given to `tree_entries`
    path: str
    is_dir: bool
    tag: (
        str | None
    )  # CREATE / MODIFY / DELETE / EXTENDED ("existing + ..."), KEEP / None


_SIBLINGS = re.compile(r"\s*[/,、]\s*([\w.-]+\.\w+)")


def looks_like_tree(code: list[str]) -> bool:
    return sum(1 for line in code if _GLYPHS.search(line)) >= 2


def _tag(comment: str) -> str | None:
    if _TAG_EXISTING_PLUS.search(comment):
        return "EXTENDED"  # "(existing + more)": modified, but not an explicit tag
    if _TAG_KEEP.search(comment):
        return "KEEP"
    if _TAG_DELETE.search(comment):
        return "DELETE"
    if _TAG_CREATE_STRICT.search(comment):
        return "CREATE"
    if _TAG_MODIFY.search(comment):
        return "MODIFY"
    return None


def tree_entries(code: list[str], *, indented: bool = False) -> list[TreeEntry]:
    """Entries of a tree drawn in `code` (the lines inside a fence). With `indented`, a tree
    without glyphs (names indented under `dir/` lines) is read too."""
    if not (looks_like_tree(code) or indented):
        return []
    out: list[TreeEntry] = []
    stack: list[tuple[int, str, str | None]] = []  # (column, folder, inherited tag)
    for index, line in enumerate(code):
        if not line.strip():
            continue
        prefix = _PREFIX.match(line)
        column = prefix.end() if prefix else 0
        rest = line[column:]
        name_match = _NAME.match(rest)
        if not name_match:
            continue
        name = name_match.group(1)
        if name in ("...", "…") or not re.search(r"[\w.]", name):
            continue
        comment_match = _COMMENT.match(rest[name_match.end() :])
        comment = comment_match.group(1) if comment_match else rest[name_match.end() :]
        while stack and stack[-1][0] >= column:
            stack.pop()
        tag = _tag(comment)
        inherited = next((t for _, _, t in reversed(stack) if t), None)
        parent = stack[-1][1] if stack else ""
        is_dir = name.endswith("/") or (name.startswith("/") and _opens_folder(code, index, column))
        path = f"{parent}/{name.strip('/')}" if parent else name.strip("/")
        if is_dir:
            stack.append((column, path, tag if tag not in ("KEEP",) else "KEEP"))
        effective = (
            tag if tag is not None else (inherited if inherited != "KEEP" else "KEEP")
        )
        out.append(TreeEntry(index, path, is_dir, effective))
        tail = rest[name_match.end() :]
        if not is_dir and not _COMMENT.match(tail):  # "package.json / vite.config.ts": siblings on one line
            for sibling in _SIBLINGS.findall(re.split(r"\s{2,}|#|←|<-|//", tail, maxsplit=1)[0]):
                out.append(TreeEntry(index, f"{parent}/{sibling}" if parent else sibling, False, effective))
    return out


def _opens_folder(code: list[str], index: int, column: int) -> bool:
    """A `/components` line (trees written with leading slashes) is a folder when the next
    line is indented deeper."""
    following = next((line for line in code[index + 1 :] if line.strip()), "")
    prefix = _PREFIX.match(following)
    return bool(following) and (prefix.end() if prefix else 0) > column


def tree_root(entries: list[TreeEntry]) -> str | None:
    """The single root folder every other entry sits under, if any."""
    if not entries or not entries[0].is_dir:
        return None
    root = entries[0].path
    if all(e.path == root or e.path.startswith(root + "/") for e in entries):
        return root
    return None


def strip_root(entries: list[TreeEntry], known: set[str]) -> list[TreeEntry] | None:
    """Entries with the root folder decided as the module docstring says; None: skip the tree."""
    root = tree_root(entries)
    if root is None:
        return entries
    if _HOST_ROOT.match(root + "/"):
        return None
    first = root.split("/", 1)[0]
    if (
        first in COMMON_ROOTS
        or first.startswith(".")
        or any(p.startswith(root + "/") for p in known)
    ):
        return entries
    stripped = [
        TreeEntry(e.line, e.path[len(root) + 1 :], e.is_dir, e.tag)
        for e in entries
        if e.path != root
    ]
    if any(e.path in known for e in stripped if not e.is_dir):
        return stripped
    return entries


_YAML_KEY = re.compile(r"^(\s*)([A-Za-z_][\w ]*?)\s*:\s*$")
_YAML_ITEM = re.compile(r"^(\s*)-\s+(.*)$")
_FILE_KEY = re.compile(r"files?|paths?", re.IGNORECASE)
_NEGATIVE_KEY = re.compile(
    r"forbid|exclud|read_?only|do_?not|never|ignore", re.IGNORECASE
)


def yaml_file_items(code: list[str]) -> list[tuple[int, str, bool]]:
    """(line, item text, negative key) for the `- item` lines under keys naming files or
    forbidden changes in a YAML-like block."""
    out: list[tuple[int, str, bool]] = []
    key: tuple[int, bool] | None = None  # (indent, negative)
    for index, line in enumerate(code):
        if not line.strip():
            continue
        match = _YAML_KEY.match(line)
        if match:
            name = match.group(2)
            negative = bool(_NEGATIVE_KEY.search(name))
            key = (
                (len(match.group(1)), negative)
                if (_FILE_KEY.search(name) or negative)
                else None
            )
            continue
        item = _YAML_ITEM.match(line)
        if item and key is not None and len(item.group(1)) >= key[0]:
            out.append((index, item.group(2), key[1]))
        elif not item:
            key = None
    return out
