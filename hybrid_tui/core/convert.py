"""Plan -> Spec, deterministically (no model calls).

The converter reads a Claude Code plan (markdown) in four small passes, each a function that
can be extended on its own:

1. `scan`: split lines, mark fenced code (content, never structure) and find the headings.
2. Sections: the title (first `# ` heading, else the file name stem), the context (the first
   Context / Background / Problem / Goal ... section, verbatim and trimmed; else the text
   between the title and the first heading), the verification sections.
3. Steps (`find_units`), first strategy that yields something wins:
   a. step headings: `Step N` / `Phase N` / `Task N` / `Stage N` / `Story N` / `Part N` (and a
      few translations), at least two at one heading level (the level holding most of them);
   b. step sections: `Changes`, `Implementation ...`, `Steps`, `Tasks`, `Phases`, `Fix`
      (and translations). Inside each: its sub-headings; else its top-level numbered list
      items; else the rows of a numbered table; else the section itself is one step;
   c. numbered headings (`### 2. ...`), at least two at one level;
   d. no steps: one task holding every path the plan mentions.
   Inside a step section, lines that are wholly bold (`**`index.html`**`) also count as
   sub-headings (`_bold_label_units`); `Implementation order` lists are steps only when no
   other step section exists.
4. Per step (`_task`): files (`heading_mentions`, `mentions`, resolved by `_Resolver`),
   requirements (`requirements`: one per bullet, paragraph, table or heading, verbatim, a
   code block kept with the item before it), and the commands of its verification
   sub-sections or `**Verification:**` label blocks (`split_checks`, `commands_in`).

Paths are backticked tokens that look like files: a `/` with a file-like last part, or a known
extension (so `objects.type_id` and `cache.addAll()` are not paths); no URLs, globs, `@scope`
packages or directories; `:line` suffixes are stripped; `{a,b}` braces expand. Headings also
count bare file names (`### 1. ListCard.svelte — CSS`). A bare name resolves to the directory
of a path named before it on the same line, else to the one full path with that name the plan
spells out elsewhere, else (with `tree`) to the one tree file with that name. Paths outside the
repository (absolute, `~`, `..`) are left out of Files and listed in a requirement instead.

Action per path: with `tree`, DELETE when the words around the path say delete/remove it, else
MODIFY when the file is present (in the tree or created by an earlier task), else CREATE.
Without `tree`, the words decide (create/new/add/write right before the path, `(new)` right
after it, or a `Files to create:` label; the first such statement anywhere in the plan counts
when the step says nothing; words under a `Rollback:` label do not count) and the default is
MODIFY; a path an earlier task created is MODIFY.

`[INDEPENDENT]` goes on each task that has files and shares none with another task.

Verification: spec-level commands come from verification sections outside the steps:
backticked inline commands (first word a known tool, or `./x`; a one-word span only for a few
tools such as `pytest`, `make`) and the lines of shell code blocks (```bash/sh/shell/console,
or an unlabelled block whose every line starts like a command), with comments and blank lines
dropped, trailing ` # comment` stripped, `$ ` prompts dropped, backslash continuations joined,
heredocs skipped and a lone `cd dir` line turned into a `cd dir && ` prefix of the commands
after it. Other items there (sentences, checklists, `/slash` commands) become requirements of
the last task. Verification sub-sections inside a step feed that task's own Verification.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from hybrid_tui.core.spec import FileChange, Spec, Task, path_problem

# --------------------------------------------------------------------------------------------
# 1. Scanning


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
        return self.headings[bisect_right(self.keys, start) : bisect_left(self.keys, end)]


_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


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
            match = _FENCE_OPEN.match(line)
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = match.group(1)
                mask[i] = True
    return mask, fence


def fence_mask(lines: list[str]) -> list[bool]:
    return fence_state(lines)[0]


def scan(text: str) -> Doc:
    lines = split_lines(text)
    fenced = fence_mask(lines)
    headings: list[Heading] = []
    ends: dict[int, int] = {}
    open_sections: list[Heading] = []  # a stack of headings whose section is still open
    for i, line in enumerate(lines):
        if not fenced[i] and line.lstrip(" ").startswith("#"):
            match = _HEADING.match(line)
            if match:
                heading = Heading(i, len(match.group(1)), match.group(2).strip())
                while open_sections and open_sections[-1].level >= heading.level:
                    ends[open_sections.pop().index] = i
                open_sections.append(heading)
                headings.append(heading)
    for heading in open_sections:
        ends[heading.index] = len(lines)
    return Doc(lines, fenced, headings, ends, [h.index for h in headings])


# --------------------------------------------------------------------------------------------
# 2. Section kinds (keyword tables are the place to extend for other wordings and languages)

_NUMBERING = re.compile(r"^(?:\d+(?:[.\-]\d+)*[.):]?|[a-z][.)])\s+")
_DECORATION = re.compile(r"[*_`~]|[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]")

_CONTEXT_WORDS = [
    # best first
    ("context", "background", "contexto", "contexte", "背景", "需求背景", "배경"),
    (
        "problem",
        "problem statement",
        "problem summary",
        "the problem",
        "current problem",
        "problème",
        "probleme",
        "problema",
        "问题",
        "問題",
        "문제",
        "vấn đề",
    ),
    (
        "goal",
        "goals",
        "objective",
        "objectif",
        "objetivo",
        "目的",
        "目标",
        "목표",
        "mục tiêu",
        "motivation",
        "why",
    ),
    (
        "overview",
        "summary",
        "feature overview",
        "executive summary",
        "概要",
        "概述",
        "개요",
        "프로젝트 개요",
        "tổng quan",
        "resumen",
        "résumé",
    ),
]
_STEPS_SECTION = re.compile(
    r"^(?:(?:[\w/&+-]+\s+){0,2}(?:changes|steps|tasks|phases|edits|milestones)\b"
    r"|implementation(?!\s+(?:order|notes?|details?|status|summary|strategy|checklist))\b"
    r"|plan$|the plan$|roadmap|work items|to ?do|fix$|fixes$|proposed fix"
    r"|tâches|taches|étapes|etapes|pasos|tareas|fases|m[oó]dulos|schritte|aufgaben"
    r"|các bước|công việc|nhiệm vụ|실행|구현|작업|단계"
    r"|実装|作業内容|手順|タスク|实施步骤|实现步骤|实施|步骤|任务|实现方案)"
)
# A verification heading is a noun from this list, alone or with a short qualifier
# ("Testing & verification (frontend)", "Validation checklist"), or a bare verb ("Verify").
_VERIFY_NOUNS = (
    r"verification|validation|testing|tests|test|test plan|test strategy|test commands"
    r"|quality checks|checks|smoke tests?|manual (?:testing|verification)|how to (?:verify|test)"
    r"|vérification|verificación|verificacion|verificação|pruebas|prüfung|kiểm tra|kiểm thử"
    r"|xác minh"
)
_VERIFY_SECTION = re.compile(
    rf"^(?:(?:{_VERIFY_NOUNS})(?:\s*(?:[(:&/,].*|and .*|(?:[\w-]+\s*){{0,3}}))?"
    r"|(?:verify|validate|test|check)(?:\s*[(:].*)?)$"
    r"|^(?:검증|테스트|検証|テスト|動作確認|验证|测试|驗證|測試)"
)
_STEP_WORDS = (
    r"step|phase|task|stage|story|milestone|part|wave|sprint|iteration|pass"
    r"|étape|etape|tâche|tache|paso|fase|tarea|schritt|bước|giai đoạn"
    r"|ステップ|フェーズ|段階|阶段|步骤|단계"
)
_STEP_HEADING = re.compile(
    rf"^(?:{_STEP_WORDS})\s*(?:\d+(?:\.\d+)*(?!\d)|[ivx]+(?![\w]))", re.IGNORECASE
)
_STEP_PREFIX = re.compile(
    rf"^(?:{_STEP_WORDS})\s*(?:\d+(?:\.\d+)*|[ivx]+)\s*[:.)\-—–]*\s*", re.IGNORECASE
)
_NUMBERED_HEADING = re.compile(r"^\d+(?:\.\d+)*[.)]?\s+\S")


def normalize_heading(text: str) -> str:
    """Lower case, no markdown decoration or emoji, no leading `1.` numbering."""
    text = _DECORATION.sub("", text).strip().lower()
    text = _NUMBERING.sub("", text)
    return " ".join(text.split())


def context_rank(heading: str) -> int | None:
    """Priority of a context heading (0 is best), None when it is not one."""
    norm = normalize_heading(heading)
    for rank, words in enumerate(_CONTEXT_WORDS):
        for word in words:
            if norm == word or norm.startswith((word + " ", word + ":")):
                return rank
            if not word.isascii() and norm.startswith(word):
                return rank
    return None


# order lists: steps only when no other step section exists (else they repeat the steps)
_ORDER_SECTION = re.compile(
    r"^(?:(?:implementation|execution|build|recommended|suggested|work) order|order of work"
    r"|orden de desarrollo|ordre|実装順序|实施顺序)"
)
_NOT_STEPS = re.compile(r"^(?:next|future|follow-?up|optional|out of scope|non-goals|open)\b")


def is_order_heading(heading: str) -> bool:
    return bool(_ORDER_SECTION.match(normalize_heading(heading)))


def is_steps_heading(heading: str) -> bool:
    norm = normalize_heading(heading)
    return (
        bool(_STEPS_SECTION.match(norm))
        and not _ORDER_SECTION.match(norm)
        and not _NOT_STEPS.match(norm)
        and not is_verification_heading(heading)
    )


def is_verification_heading(heading: str) -> bool:
    return bool(_VERIFY_SECTION.match(normalize_heading(_STEP_PREFIX.sub("", heading.strip()))))


def is_step_heading(heading: str) -> bool:
    return bool(_STEP_HEADING.match(_DECORATION.sub("", heading).strip()))


# --------------------------------------------------------------------------------------------
# Blocks: bullets, paragraphs, tables, headings and code inside a run of lines

_BULLET = re.compile(r"([ \t]*)([-*+]|\d+[.)])([ \t]+|$)")
_TABLE_ROW = re.compile(r"\s*\|")
_RULE = re.compile(r"\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")


@dataclass(slots=True)
class Block:
    kind: str  # "item" | "para" | "table" | "heading" | "code"
    lines: list[str]
    numbered: bool = False
    line: int = 0  # index of the first line in the lines given to `blocks`


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _dedent(line: str, columns: int) -> str:
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
        (_indent(line) for line, f in zip(lines, fenced) if line.strip() and not f), default=0
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
        indent = _indent(line)
        if fenced[i]:
            end = _fence_end(lines, fenced, i)
            code = lines[i:end]
            if current is not None and current.kind == "item" and indent > item_indent:
                current.lines.extend([""] if blank else [])
                current.lines.extend(_dedent(c, content_col) for c in code)
            elif current is not None and current.kind != "table":
                current.lines.extend([""] if blank else [])
                current.lines.extend(_dedent(c, base) for c in code)
            else:
                current = Block("code", [_dedent(c, base) for c in code], line=i)
                out.append(current)
            blank = False
            i = end
            continue
        bullet = _BULLET.match(line)
        starts_block = bool(
            bullet or _TABLE_ROW.match(line) or _HEADING.match(line) or _RULE.match(line)
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
            current.lines.append(_dedent(line, content_col))
        elif current is not None and current.kind == "para" and not blank and not starts_block:
            current.lines.append(_dedent(line, base))
        elif _RULE.match(line) and not (bullet and bullet.group(3)):
            current = None
        elif bullet:
            item_indent = indent
            content_col = len(bullet.group(0).expandtabs(4)) + (0 if bullet.group(3) else 1)
            current = Block("item", [line[bullet.end() :]], bullet.group(2)[0].isdigit(), i)
            out.append(current)
        elif _TABLE_ROW.match(line):
            j = i
            while j < n and not fenced[j] and _TABLE_ROW.match(lines[j]):
                j += 1
            current = Block("table", [row.strip() for row in lines[i:j]], line=i)
            out.append(current)
            blank = False
            i = j
            continue
        elif _HEADING.match(line):
            current = Block("heading", [line.strip()], line=i)
            out.append(current)
        else:
            current = Block("para", [_dedent(line, base)], line=i)
            out.append(current)
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


def _closes(opener: str, line: str) -> bool:
    fence = _FENCE_OPEN.match(opener).group(1)  # type: ignore[union-attr]
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])


def _fence_end(lines: list[str], fenced: list[bool], start: int) -> int:
    """Index after the fenced block opening at `start`."""
    j = start + 1
    while j < len(lines) and fenced[j]:
        if _closes(lines[start], lines[j]):
            return j + 1
        j += 1
    return j


def requirements(lines: list[str]) -> list[str]:
    """One requirement per block, verbatim (markdown kept)."""
    return ["\n".join(block.lines) for block in blocks(lines)]


# --------------------------------------------------------------------------------------------
# Paths

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_PATH_CHARS = re.compile(r"[\w./@+\-\[\]()#,{}~]+")
_LINE_SUFFIX = re.compile(r"(?::\d+(?:[-:]\d+)*|#L\d+(?:-L?\d+)?)$")
_BRACES = re.compile(r"^(.*?)\{([^{}]*,[^{}]*)\}(.*)$")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,12})$")
KNOWN_EXTENSIONS = frozenset(
    """py pyi pyx ts tsx mts cts js jsx mjs cjs json jsonc json5 md mdx markdown rst adoc txt
    sql go mod sum rs toml yaml yml sh bash zsh fish ps1 bat nix tf tfvars hcl c h cc cpp cxx
    hpp hh hxx java kt kts swift rb php cs fs scala clj ex exs erl hs ml dart lua zig nim sol
    svelte vue astro css scss sass less html htm xml svg png jpg jpeg gif ico webp pdf csv tsv
    ipynb cfg ini conf lock gradle properties proto graphql gql prisma cmake mk dockerfile
    j2 jinja tmpl tpl ejs hbs pug plist xcconfig pbxproj csproj sln service timer desktop
    patch diff wgsl glsl cu R Rmd qmd asm ld vim el jl pl pm cabal sbt ron yarnrc npmrc
    editorconfig gitignore gitattributes dockerignore env example sample template spec d""".split()
)
# extensions that are too often object attributes to count without a `/`
_AMBIGUOUS_BARE = frozenset(
    {
        "d",
        "env",
        "example",
        "sample",
        "template",
        "spec",
        "R",
        "mod",
        "sum",
        "service",
        "timer",
        "lock",
        "properties",
        "pm",
        "pl",
        "el",
        "ml",
        "fs",
        "cs",
        "ex",
        "sol",
        "nim",
        "ron",
        "asm",
        "ld",
        "c",
        "h",
    }
)
_EXTENSIONLESS = frozenset(
    """Makefile makefile GNUmakefile Dockerfile Containerfile Justfile justfile Procfile
    Gemfile Rakefile Brewfile Vagrantfile Jenkinsfile Caddyfile Pipfile LICENSE COPYING
    NOTICE CODEOWNERS AUTHORS CHANGELOG README .gitignore .gitattributes .gitmodules
    .dockerignore .editorconfig .env .envrc .npmrc .nvmrc .prettierrc .eslintrc .babelrc
    .python-version .tool-versions .mcp.json""".split()
)


@dataclass(frozen=True, slots=True)
class Mention:
    path: str  # normalised repo-relative path, or the raw token when `outside`
    outside: bool
    before: str  # text on the same line before the code span
    after: str  # text on the same line after it
    near: str = ""  # for a bare name: the directory of a path named before it on the line


# product names that look like file names
_NOT_FILES = frozenset(
    """node.js next.js nuxt.js vue.js react.js three.js d3.js express.js chart.js nest.js
    ember.js backbone.js p5.js alpine.js solid.js day.js moment.js pixi.js babylon.js tone.js
    anime.js socket.io vite.js deno.land asp.net ml5.js""".split()
)


# `.test.ts`, `.d.ts`: a file-name suffix (as in "rename `.test.js` to `.test.ts`"), no file
_SUFFIX_ONLY = re.compile(r"\.(?:test|spec|d|stories|module|config|min|story|e2e)\.\w+$")


def _looks_like_file(token: str) -> bool:
    """A file name: a known extension-less name, or `stem.ext` (with a `/`: any alphabetic
    extension; bare: a known extension, so `objects.type_id` is not a file)."""
    name = token.rsplit("/", 1)[-1]
    if token.lower() in _NOT_FILES or _SUFFIX_ONLY.match(name):
        return False
    if name in _EXTENSIONLESS or name.startswith(".env"):
        return True
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return False  # no extension, or a dot-name like `.claude` (a directory more often)
    ext = match.group(1)
    if "/" in token:
        return any(ch.isalpha() for ch in ext)
    if ext in _AMBIGUOUS_BARE:
        return ext in ("c", "h") and match.start() > 1
    return ext in KNOWN_EXTENSIONS


@lru_cache(maxsize=8192)
def path_candidates(token: str) -> tuple[tuple[str, bool], ...]:
    """The paths a code span names: ((path, outside_repo), ...), empty when it is not a path."""
    return tuple(_path_candidates(token))


def _path_candidates(token: str) -> list[tuple[str, bool]]:
    token = token.strip().strip("'\"")
    if not token or any(ch.isspace() for ch in token) or "://" in token:
        return []
    if token.startswith(("@", "http:", "https:", "www.", "git@", "$", "-")):
        return []
    token = _LINE_SUFFIX.sub("", token)
    if not _PATH_CHARS.fullmatch(token) or "*" in token or "?" in token:
        return []
    braces = _BRACES.match(token)
    if braces:
        head, options, tail = braces.groups()
        out: list[tuple[str, bool]] = []
        for option in options.split(","):
            out.extend(_path_candidates(head + option.strip() + tail))
        return out
    if "{" in token or "}" in token or "," in token or token.endswith("/"):
        return []
    if not _looks_like_file(token):
        return []
    if token.startswith(("~", "/")):
        return [(token, True)]
    normal = posixpath.normpath(token)
    if normal == ".." or normal.startswith("../"):
        return [(token, True)]
    if path_problem(normal):
        return [(token, True)]
    return [(normal, False)]


_LIST_GAP = re.compile(r"\s*(?:,|;|/|\+|&|and|or)?\s*")


def line_mentions(line: str) -> list[Mention]:
    """Path mentions in the inline code spans of one line."""
    out: list[Mention] = []
    if "`" in line:
        near = ""
        last_end = 0
        for match in _CODE_SPAN.finditer(line):
            if near and not _LIST_GAP.fullmatch(line[last_end : match.start()]):
                near = ""  # only a list (`a/x.py`, `y.py`) shares a directory
            for path, outside in path_candidates(match.group(1)):
                bare = "/" not in path
                out.append(
                    Mention(
                        path,
                        outside,
                        line[: match.start()],
                        line[match.end() :],
                        near if bare else "",
                    )
                )
                if not bare:
                    near = "" if outside else path.rsplit("/", 1)[0]
            last_end = match.end()
    return out


_HEADING_TOKEN = re.compile(r"[^\s`,;()]+")


def heading_mentions(heading: str) -> list[Mention]:
    """Mentions in a heading: code spans, and bare tokens that look like files
    (`### 1. ListCard.svelte — CSS`)."""
    out = line_mentions(heading)
    bare = _CODE_SPAN.sub(" ", heading)
    for match in _HEADING_TOKEN.finditer(bare):
        token = match.group(0).rstrip(".:")
        if "." not in token:
            continue
        for path, outside in path_candidates(token):
            out.append(Mention(path, outside, bare[: match.start()], bare[match.end() :]))
    return out


def mentions(lines: list[str]) -> list[Mention]:
    """Path mentions in inline code spans outside fenced code, in order."""
    return [
        mention
        for line, is_code in zip(lines, fence_mask(lines))
        if not is_code
        for mention in line_mentions(line)
    ]


# --------------------------------------------------------------------------------------------
# Actions from the words around a path

_V_CREATE = r"create|add|new|write|scaffold|introduce|generate|created|added"
_V_DELETE = r"delete|remove|rm|git rm|drop|deleted|removed"
_GAP = r"[\s*_:—–-]+"
_NOT_PREP = r"(?!(?:in|into|to|from|of|on|for|with|inside|within|by|and|or|at|as)\b)"
# the verb right before the path, at most two other words between ("add a smoke test `x`")
_CREATE_BEFORE = re.compile(
    rf"\b(?:{_V_CREATE})\b(?:{_GAP}{_NOT_PREP}[\w-]+){{0,3}}(?:{_GAP}(?:at|called|named|as))?"
    rf"{_GAP}$",
    re.IGNORECASE,
)
_DELETE_BEFORE = re.compile(
    rf"\b(?:{_V_DELETE})\b(?:{_GAP}(?:the|this|old|obsolete|unused|legacy|stale|dead|file"
    rf"|module|script))*{_GAP}$",
    re.IGNORECASE,
)
_CREATE_AFTER = re.compile(
    r"^\s*(?:[(\[][*_]*(?i:new|create|created|added)(?i:\s+file)?[*_]*\s*[)\];,:]"
    r"|(?:—|–|-|:)\s*[*_]*(?:NEW|CREATE|[Nn]ew file|[Cc]reated?)\b)"
)
_DELETE_AFTER = re.compile(
    r"^\s*(?:[(\[][*_]*(?:delete|deleted|remove|removed|rm)[*_]*\s*[)\];,:]"
    r"|(?:—|–|-|:)\s*[*_]*(?:delete|deleted|remove|removed)(?:\s+(?:it|this file|the file|"
    r"entirely))?[*_]*\s*(?:$|[.;,)]))",
    re.IGNORECASE,
)
_LABEL_CREATE = re.compile(
    r"(?:files?\s+to\s+(?:create|add)|new\s+files?|created\s+files?|files?\s+created"
    r"|^(?:create|new|add)$)",
    re.IGNORECASE,
)
_LABEL_DELETE = re.compile(
    r"(?:files?\s+to\s+(?:delete|remove)|(?:deleted|removed)\s+files?|^(?:delete|remove)$)",
    re.IGNORECASE,
)


_LABEL_SKIP = re.compile(
    r"^(?:rollback|roll back|undo|revert|reverting|backout|back out)\b", re.IGNORECASE
)


def stated_action(mention: Mention, label: str | None = None) -> str | None:
    """The action the words say ("CREATE" / "DELETE"), else `label`'s, else None. Under a
    rollback label the words say nothing (`Rollback: delete x` undoes, it is not the step)."""
    if label == "SKIP":
        return None
    if _DELETE_BEFORE.search(mention.before) or _DELETE_AFTER.match(mention.after):
        return "DELETE"
    if _CREATE_BEFORE.search(mention.before) or _CREATE_AFTER.match(mention.after):
        return "CREATE"
    return label


def _label_action(line: str) -> str | None:
    """The action of a short label line (`**Files to create:**`, `### New files`)."""
    text = line.strip().lstrip("#").strip().strip("*_").strip()
    if len(text) > 80 or not (text.endswith(":") or line.lstrip().startswith("#")):
        return None
    text = text.rstrip(":").strip("*_ ")
    if _LABEL_SKIP.match(text):
        return "SKIP"
    if _LABEL_DELETE.search(text):
        return "DELETE"
    if _LABEL_CREATE.search(text):
        return "CREATE"
    return None


def _labelled_mentions(lines: list[str]) -> list[tuple[Mention, str | None]]:
    """Mentions with the action of the label line above their list, if any."""
    out = []
    label: str | None = None
    for line, is_code in zip(lines, fence_mask(lines)):
        if is_code:
            continue
        if line.strip() and not _BULLET.match(line):
            label = _label_action(line)
        found = heading_mentions(line) if _HEADING.match(line) else line_mentions(line)
        for mention in found:
            out.append((mention, label))
    return out


# --------------------------------------------------------------------------------------------
# Commands

_SHELL_INFO = frozenset(
    {
        "bash",
        "sh",
        "shell",
        "zsh",
        "console",
        "terminal",
        "shell-session",
        "shellsession",
        "fish",
        "cmd",
        "powershell",
        "ps",
        "pwsh",
    }
)
KNOWN_TOOLS = frozenset(
    """npm npx pnpm yarn bun bunx node deno tsc tsx vitest jest eslint prettier biome python
    python3 py pip pip3 pipx uv uvx poetry pdm hatch tox nox pytest mypy ruff black isort flake8
    pyright coverage django-admin manage.py alembic make cmake ctest ninja meson just task cargo
    rustc rustup clippy-driver go gofmt golangci-lint sqlc swift swiftc xcodebuild xcrun
    gradle gradlew ./gradlew mvn ./mvnw java javac kotlinc dotnet ruby bundle rake rails
    rspec php composer artisan mix elixir erl iex R Rscript flutter dart git gh docker
    docker-compose podman kubectl helm terraform tflint tofu ansible ansible-playbook ansible-lint
    nix nixos-rebuild nix-build nix-shell home-manager darwin-rebuild bash sh zsh fish
    shellcheck bats curl wget ls cat grep rg find test diff head tail wc jq yq psql mysql
    sqlite3 supabase prisma drizzle-kit playwright cypress turbo nx lerna vite next astro
    tmux systemctl journalctl sudo env echo open xdg-open cd export source time hyperfine
    pre-commit lefthook hybrid-tui kimi claude sam aws gcloud az wrangler vercel netlify
    firebase expo eas pod fastlane bazel buck pants lake lean stack cabal ghc opam dune
    mvn sbt lein clojure zig gcc g++ clang clang++ valgrind gdb lldb idf.py pio platformio
    westwest cloc tokei nvim vim code pandoc mkdocs sphinx-build hugo jekyll zola""".split()
)
# tools that make a command on their own, in a single-word code span
_STANDALONE_TOOLS = frozenset(
    "pytest make tox nox ruff mypy tsc jest vitest rspec bats shellcheck pyright".split()
)
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*\s+")
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_CD = re.compile(r"^cd\s+[^\s;&|]+$")
_PROMPT = re.compile(r"^\s*[$>%]\s+")


def looks_like_command(text: str) -> bool:
    """A shell command: first word (after VAR=x assignments) a known tool, `./x` or `x.sh`."""
    text = text.strip()
    if not text or text.startswith("/") or "\n" in text:
        return False
    while True:
        stripped = _ENV_ASSIGN.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    words = text.split()
    first = words[0] if words else ""
    if len(words) == 1:
        return first in _STANDALONE_TOOLS or first.startswith("./")
    if first in KNOWN_TOOLS:
        return True
    return first.startswith(("./", "../", "bin/", "scripts/"))


def strip_comment(line: str) -> str:
    """Drop a trailing ` # comment` that is outside quotes."""
    quote = ""
    prev = " "
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                pass
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "#" and prev in " \t":
            return line[:i].rstrip()
        prev = ch
    return line.rstrip()


def shell_commands(code: list[str]) -> list[str]:
    """Commands in the lines of a shell code block (fence lines excluded)."""
    out: list[str] = []
    pending = ""
    prefix = ""
    heredoc: str | None = None
    for raw in code:
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            continue
        line = _PROMPT.sub("", raw) if not pending else raw
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not pending):
            continue
        line = strip_comment(stripped)
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        command = (pending + line).strip()
        pending = ""
        doc = _HEREDOC.search(command)
        if doc:
            heredoc = doc.group(1)
            continue  # a command with a heredoc does not fit on one line: left out
        if _CD.match(command):
            prefix += command + " && "  # a lone `cd` applies to the commands after it
            continue
        if command:
            out.append(prefix + command)
    if pending.strip():
        out.append(prefix + pending.strip())
    return out


def commands_in(lines: list[str]) -> tuple[list[str], list[str]]:
    """(commands, other items) of a verification section's lines."""
    commands: list[str] = []
    rest: list[str] = []
    fenced = fence_mask(lines)
    i = 0
    while i < len(lines):
        if not fenced[i]:
            rest.append(lines[i])
            i += 1
            continue
        end = _fence_end(lines, fenced, i)
        info = _FENCE_OPEN.match(lines[i]).group(2).strip().split()  # type: ignore[union-attr]
        body = [_dedent(line, _indent(lines[i])) for line in lines[i + 1 : end]]
        if body and _closes(lines[i], body[-1]):
            body.pop()
        if info and info[0].lower() in _SHELL_INFO:
            commands.extend(shell_commands(body))
        elif not info:
            found = shell_commands(body)
            if found and all(looks_like_command(c) for c in found):
                commands.extend(found)
        i = end
    others: list[str] = []
    for block in blocks(rest):
        if block.kind == "heading":
            continue
        found = [
            span.strip()
            for line in block.lines
            for span in _CODE_SPAN.findall(line)
            if looks_like_command(span)
        ]
        if found:
            commands.extend(found)
        else:
            others.append("\n".join(block.lines))
    return _unique(commands), others


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------------------------
# 3. Steps


@dataclass(slots=True)
class Unit:
    """One future task: its title, body lines, and lines of verification sub-sections."""

    title: str
    head: str  # the heading (or first line) the title came from: paths in it count
    body: list[str]
    checks: list[list[str]] = field(default_factory=list)
    verify_only: bool = False  # the step itself is a verification step
    span: tuple[int, int] | None = None  # line range in the plan it came from
    from_heading: bool = True  # a heading title drops a path at either end; an item's keeps it


def find_units(doc: Doc, title_index: int | None) -> list[Unit]:
    headings = [h for h in doc.headings if h.index != title_index]
    for strategy in (
        _units_from_step_headings,
        _units_from_step_sections,
        _units_from_numbered_headings,
    ):
        units = strategy(doc, headings)
        if units:
            return units
    return []


def _most_common_level(candidates: list[Heading]) -> list[Heading]:
    by_level: dict[int, list[Heading]] = {}
    for heading in candidates:
        by_level.setdefault(heading.level, []).append(heading)
    if not by_level:
        return []
    level = max(by_level, key=lambda lv: (len(by_level[lv]), -lv))
    return by_level[level]


def _units_from_step_headings(doc: Doc, headings: list[Heading]) -> list[Unit]:
    chosen = _most_common_level([h for h in headings if is_step_heading(h.text)])
    if len(chosen) < 2:
        return []
    return [_heading_unit(doc, h) for h in chosen]


def _units_from_numbered_headings(doc: Doc, headings: list[Heading]) -> list[Unit]:
    chosen = _most_common_level(
        [
            h
            for h in headings
            if _NUMBERED_HEADING.match(h.text)
            and not is_verification_heading(h.text)
            and context_rank(h.text) is None
        ]
    )
    if len(chosen) < 2:
        return []
    return [_heading_unit(doc, h) for h in chosen]


def _units_from_step_sections(doc: Doc, headings: list[Heading]) -> list[Unit]:
    return _units_from_sections(doc, headings, is_steps_heading) or _units_from_sections(
        doc, headings, is_order_heading
    )


def _units_from_sections(
    doc: Doc, headings: list[Heading], kind: Callable[[str], bool]
) -> list[Unit]:
    units: list[Unit] = []
    covered_until = -1
    for heading in headings:
        if heading.index < covered_until or not kind(heading.text):
            continue
        end = doc.section_end(heading)
        covered_until = end
        inner = doc.headings_in(heading.index, end)
        if inner:
            top = min(h.level for h in inner)
            children = [
                h
                for h in inner
                if h.level == top
                and not is_verification_heading(h.text)
                and context_rank(h.text) is None
            ]
            if children:
                units.extend(_heading_unit(doc, h) for h in children)
                continue
        body = doc.lines[heading.index + 1 : end]
        labelled = _bold_label_units(body)
        if labelled:
            units.extend(labelled)
            continue
        items = [b for b in blocks(body) if b.kind == "item" and b.numbered]
        if items and 2 * sum(len(b.lines) for b in items) >= sum(1 for x in body if x.strip()):
            # a numbered list that is most of the section: its items are the steps
            units.extend(_item_unit(b) for b in items)
            continue
        rows = _table_units(body)
        if rows:
            units.extend(rows)
            continue
        units.append(_heading_unit(doc, heading))
    return units


def _heading_unit(doc: Doc, heading: Heading) -> Unit:
    end = doc.section_end(heading)
    body: list[str] = []
    checks: list[list[str]] = []
    inner = doc.headings_in(heading.index, end)
    i = heading.index + 1
    for sub in inner:
        if sub.index < i or not is_verification_heading(sub.text):
            continue
        body.extend(doc.lines[i : sub.index])
        sub_end = doc.section_end(sub)
        checks.append(doc.lines[sub.index + 1 : sub_end])
        i = sub_end
    body.extend(doc.lines[i:end])
    return Unit(
        title=heading.text,
        head=heading.text,
        body=body,
        checks=checks,
        verify_only=is_verification_heading(heading.text),
        span=(heading.index, end),
    )


_BOLD_LEAD = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)")


def _item_unit(block: Block) -> Unit:
    first = block.lines[0]
    bold = _BOLD_LEAD.match(first)
    if bold:
        title = bold.group(1).strip().rstrip(":—–-").strip()
    else:
        title = re.split(r"(?<=[.!?。])\s|:\s|\s[—–]\s|\s-\s", first, maxsplit=1)[0]
    return Unit(title=title, head="", body=list(block.lines), from_heading=False)


_BOLD_LINE = re.compile(r"(?:\*\*|__)([^*_]+?)(?:\*\*|__)(\s*\([^)]*\))?\s*$")


def _bold_label_units(lines: list[str]) -> list[Unit]:
    """Lines that are wholly bold (`**`index.html`**`, `**Phase 1: Setup** (~2h)`) used as
    sub-headings, at least two of them: one step each. A label ending in `:` is a field
    (`**Files:**`), not a step."""
    fenced = fence_mask(lines)
    starts = []
    for i, (line, is_code) in enumerate(zip(lines, fenced)):
        if is_code or not line.startswith(("**", "__")):
            continue
        match = _BOLD_LINE.match(line)
        if match and not match.group(1).rstrip().endswith(":"):
            starts.append((i, match.group(1).strip()))
    if len(starts) < 2:
        return []
    units = []
    for n, (i, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        units.append(Unit(title=title, head=lines[i], body=lines[i + 1 : end]))
    return units


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row.removeprefix("|")
    row = row.removesuffix("|")
    return [cell.strip() for cell in row.split("|")]


def _table_units(lines: list[str]) -> list[Unit]:
    """Rows of a table whose first column numbers the steps (`| 1 | change | files |`)."""
    units = []
    for block in blocks(lines):
        if block.kind != "table":
            continue
        rows = [_cells(r) for r in block.lines]
        data = [r for r in rows[2:] if len(r) >= 2] if len(rows) > 2 else []
        if not data or not all(re.fullmatch(r"\d+[a-z]?\.?", r[0].strip("*")) for r in data):
            continue
        for row in data:
            text = row[1]
            title = re.split(r":\s|;\s|\s[—–]\s", text, maxsplit=1)[0]
            body = [text] + [f"Files: {cell}" for cell in row[2:] if cell]
            units.append(Unit(title=title, head="", body=body, from_heading=False))
    return units


# --------------------------------------------------------------------------------------------
# Titles

_EDGE_PATH = re.compile(r"^\s*`([^`]+)`|`([^`]+)`\s*$")
_SEPARATORS = " \t—–-:|,;·"


def clean_title(text: str, fallback: str, *, strip_paths: bool = True) -> str:
    """A one-line task title: no numbering or step-word prefix; a heading that is just a path
    becomes that path; a path at either end is dropped; long titles are cut at a word."""
    text = text.strip().rstrip("#").strip()
    text = re.sub(r"^\d+(?:[.\-]\d+)*[.):]?\s+", "", text)
    rest = _STEP_PREFIX.sub("", text)
    if rest.strip(_SEPARATORS):
        text = rest
    first_path = ""
    while strip_paths:
        match = _EDGE_PATH.search(text)
        if not match:
            break
        token = match.group(1) or match.group(2)
        found = path_candidates(token)
        if not found:
            break
        first_path = first_path or found[0][0]
        text = (text[: match.start()] + text[match.end() :]).strip(_SEPARATORS)
    if not re.search(r"\w", text):
        text = first_path or ""
    text = " ".join(text.split())
    while text.endswith("[INDEPENDENT]"):
        text = text[: -len("[INDEPENDENT]")].rstrip()
    if len(text) > 100:
        cut = text[:100].rsplit(" ", 1)[0]
        text = (cut if len(cut) > 40 else text[:100]).rstrip(_SEPARATORS) + "…"
    return text or fallback


# --------------------------------------------------------------------------------------------
# 4. Putting it together


def convert_plan(
    plan_text: str,
    *,
    source: str,
    number: int = 1,
    base: str = "",
    tree: set[str] | None = None,
) -> Spec:
    """Turn a plan into a Spec. `source` is the plan's file name (also the title fallback),
    `tree` the repo-relative files of the base commit (None: decide actions from words only)."""
    doc = scan(plan_text)
    title_heading = next((h for h in doc.headings if h.level == 1), None)
    title_index = title_heading.index if title_heading else None
    title = " ".join(title_heading.text.split()) if title_heading else ""
    if not title:
        title = " ".join(PurePosixPath(source).stem.split()) or "Untitled plan"

    context_heading = _context_heading(doc, title_index)
    context = _context_text(doc, context_heading, title_index)

    units = find_units(doc, title_index)
    owned = [False] * len(doc.lines)
    for unit in units:
        if unit.span:
            owned[unit.span[0] : unit.span[1]] = [True] * (unit.span[1] - unit.span[0])
    whole_plan = not units
    if whole_plan:
        units = [_whole_plan_unit(doc, title, title_index, context_heading)]

    spec_commands, spec_others = _spec_verification(doc, title_index, owned)
    resolver = _Resolver(doc, tree)
    tasks = [_task(unit, n, resolver) for n, unit in enumerate(units, start=1)]
    if len(tasks) == 1:
        # one task holds every path: the context's too (no steps), or a Files section's
        extra = _file_section_lines(doc, title_index)
        if whole_plan and context_heading is not None:
            extra += doc.lines[context_heading.index + 1 : doc.section_end(context_heading)]
        _add_paths(tasks[0], extra, resolver)
    if spec_others:
        tasks[-1].requirements.extend(spec_others)
    _mark_independent(tasks)
    return Spec(
        number=number,
        title=title,
        source=source,
        base=base,
        context=context,
        tasks=tasks,
        verification=spec_commands,
    )


def _context_heading(doc: Doc, title_index: int | None) -> Heading | None:
    best: tuple[int, int] | None = None
    chosen = None
    for heading in doc.headings:
        if heading.index == title_index:
            continue
        rank = context_rank(heading.text)
        if rank is not None and (best is None or (rank, heading.index) < best):
            best, chosen = (rank, heading.index), heading
    return chosen


_SPEC_SECTION_LINE = re.compile(r"##\s+(?:context|tasks|verification)\s*$", re.IGNORECASE)


def _context_text(doc: Doc, heading: Heading | None, title_index: int | None) -> str:
    if heading is not None:
        lines = doc.lines[heading.index + 1 : doc.section_end(heading)]
    else:
        start = 0 if title_index is None else title_index + 1
        stop = next((h.index for h in doc.headings if h.index >= start), len(doc.lines))
        lines = doc.lines[start:stop]
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    fenced, open_fence = fence_state(lines)
    # a line the spec parser would read as a section heading is escaped
    lines = [
        "\\" + line if not f and _SPEC_SECTION_LINE.match(line) else line
        for line, f in zip(lines, fenced)
    ]
    if open_fence:
        lines.append(open_fence)  # close it, or the spec's next section would be code
    return "\n".join(lines)


def _whole_plan_unit(
    doc: Doc, title: str, title_index: int | None, context_heading: Heading | None
) -> Unit:
    skip = [False] * len(doc.lines)
    if title_index is not None:
        skip[title_index] = True
    if context_heading is not None:
        for i in range(context_heading.index, doc.section_end(context_heading)):
            skip[i] = True
    for heading in doc.headings:
        if heading.index != title_index and is_verification_heading(heading.text):
            for i in range(heading.index, doc.section_end(heading)):
                skip[i] = True
    body = [line for line, s in zip(doc.lines, skip) if not s]
    return Unit(title=title, head="", body=body)


def _spec_verification(
    doc: Doc, title_index: int | None, owned: list[bool]
) -> tuple[list[str], list[str]]:
    commands: list[str] = []
    others: list[str] = []
    covered_until = -1
    for heading in doc.headings:
        if heading.index == title_index or heading.index < covered_until or owned[heading.index]:
            continue
        if not is_verification_heading(heading.text):
            continue
        end = doc.section_end(heading)
        covered_until = end
        lines = [doc.lines[i] for i in range(heading.index + 1, end) if not owned[i]]
        found, rest = commands_in(lines)
        commands.extend(found)
        others.extend(rest)
    return _unique(commands), others


class _Resolver:
    """Turns mentions into FileChanges, keeping what earlier tasks created or deleted.

    A bare file name (no `/`) resolves to the one path with that name the plan spells out
    elsewhere (a Files section), else, with a tree, to the one tree file with that name; a
    name matching several tree files is ambiguous and left out. A path given as relative to a
    sub-directory resolves to the one tree file ending with it.
    """

    def __init__(self, doc: Doc, tree: set[str] | None) -> None:
        self.tree = tree
        self.present = set(tree) if tree is not None else set()
        self.created: set[str] = set()
        self._tree_names: dict[str, list[str]] | None = None
        self.plan_names: dict[str, set[str]] = {}
        self.plan_actions: dict[str, str] = {}
        for mention, label in _labelled_mentions(doc.lines):
            if mention.outside:
                continue
            if "/" in mention.path:
                name = mention.path.rsplit("/", 1)[-1]
                self.plan_names.setdefault(name, set()).add(mention.path)
            action = stated_action(mention, label)
            if action is not None:
                self.plan_actions.setdefault(mention.path, action)

    def resolve(self, path: str, near: str = "") -> str | None:
        if "/" not in path:
            spelled = self.plan_names.get(path, ())
            if near and (self.tree is None or f"{near}/{path}" in self.tree or not spelled):
                path = f"{near}/{path}"
            elif len(spelled) == 1:
                path = next(iter(spelled))
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
            if item.endswith("/" + path)
        ]
        if len(matches) == 1:
            return matches[0]
        return None if matches else path

    def files(
        self, labelled: list[tuple[Mention, str | None]]
    ) -> tuple[list[FileChange], list[str]]:
        """(changes in order of first mention, paths outside the repository)."""
        stated: dict[str, str | None] = {}
        outside: list[str] = []
        for mention, label in labelled:
            if mention.outside:
                if mention.path not in outside:
                    outside.append(mention.path)
                continue
            path = self.resolve(mention.path, mention.near)
            if path is None:
                continue  # ambiguous: stays in the requirement text only
            action = (
                stated_action(mention, label)
                or self.plan_actions.get(path)
                or self.plan_actions.get(mention.path)
            )
            if path not in stated or (stated[path] is None and action is not None):
                stated[path] = action
        full_names = {p.rsplit("/", 1)[-1] for p in stated if "/" in p}
        changes = []
        for path, action in stated.items():
            if "/" not in path and path in full_names:
                continue  # `index.ts` beside `mcp/src/index.ts`: the full path says it
            if self.tree is not None:
                exists = path in self.present
                final = "DELETE" if action == "DELETE" else ("MODIFY" if exists else "CREATE")
            else:
                final = action or "MODIFY"
                if final == "CREATE" and path in self.created:
                    final = "MODIFY"
            if final == "CREATE":
                self.present.add(path)
                self.created.add(path)
            elif final == "DELETE":
                self.present.discard(path)
            changes.append(FileChange(action=final, path=path))  # type: ignore[arg-type]
        return changes, outside


_LABEL_LINE = re.compile(r"^(?:\*\*|__)?([^*_:][^:]{0,60}?)(?::\s*(?:\*\*|__)?|(?:\*\*|__):)\s*$")


def split_checks(body: list[str]) -> tuple[list[str], list[list[str]]]:
    """Cut `**Verification:**`-style label blocks out of a step's body: (rest, checks). A block
    runs to the next label line or heading at the left margin."""
    fenced = fence_mask(body)
    rest: list[str] = []
    checks: list[list[str]] = []
    current: list[str] | None = None
    for line, is_code in zip(body, fenced):
        if not is_code and line[:1] not in (" ", "\t", ""):
            label = _LABEL_LINE.match(line.strip())
            if label or _HEADING.match(line):
                current = None
                if label and is_verification_heading(label.group(1)):
                    current = []
                    checks.append(current)
                    continue
        (rest if current is None else current).append(line)
    return rest, checks


def _task(unit: Unit, number: int, resolver: _Resolver) -> Task:
    body, labelled_checks = split_checks(unit.body)
    unit_checks = unit.checks + labelled_checks
    verification: list[str] = []
    reqs: list[str] = []
    if unit.verify_only:
        found, rest = commands_in(body)
        verification.extend(found)
        reqs.extend(rest)
    else:
        reqs.extend(requirements(body))
    for check in unit_checks:
        found, rest = commands_in(check)
        verification.extend(found)
        reqs.extend(rest)

    labelled = [(m, _label_action(unit.head)) for m in heading_mentions(unit.head)]
    labelled.extend(_labelled_mentions(body))
    for check in unit_checks:
        labelled.extend(_labelled_mentions(check))
    files, outside = resolver.files(labelled)
    if outside:
        listed = ", ".join(f"`{p}`" for p in outside)
        reqs.append(
            f"Paths outside the repository (not in Files, not edited by this spec): {listed}"
        )
    return Task(
        number=number,
        title=clean_title(unit.title, f"Step {number}", strip_paths=unit.from_heading),
        files=files,
        requirements=reqs,
        verification=_unique(verification),
    )


_FILES_SECTION = re.compile(
    r"^(?:(?:key |relevant |changed |modified |affected |new )?files?\b|file map|file list"
    r"|关键文件|文件|変更ファイル|ファイル|파일|fichiers?|archivos?)"
)


def _file_section_lines(doc: Doc, title_index: int | None) -> list[str]:
    out: list[str] = []
    for heading in doc.headings:
        if heading.index != title_index and _FILES_SECTION.match(normalize_heading(heading.text)):
            out.extend(doc.lines[heading.index + 1 : doc.section_end(heading)])
    return out


def _add_paths(task: Task, lines: list[str], resolver: _Resolver) -> None:
    known = {change.path for change in task.files}
    extra, _ = resolver.files(
        [(m, label) for m, label in _labelled_mentions(lines) if m.path not in known]
    )
    task.files.extend(change for change in extra if change.path not in known)


def _mark_independent(tasks: list[Task]) -> None:
    owners: dict[str, int] = {}
    for task in tasks:
        for change in task.files:
            owners[change.path] = owners.get(change.path, 0) + 1
    for task in tasks:
        task.independent = bool(task.files) and all(owners[c.path] == 1 for c in task.files)
