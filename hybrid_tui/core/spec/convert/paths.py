"""Which text names a file, and the file mentions on one line.

Behaviour choices:
- A token is a path when it looks like a file: a `/` with a file-like last part (any alphabetic
  extension), or a bare name with a known extension (so `objects.type_id` and `cache.addAll()`
  are not paths), or a known extension-less name (`Makefile`, `.gitignore`). No URLs, globs,
  `@scope` packages, directories or product names (`Node.js`).
- `path:line`, `path:line-line` and `#L12` suffixes are stripped; `{a,b}` braces expand.
- A leading `/` means the repository root (`/services/api/main.ts`) unless the first part is a
  system directory (`/etc`, `/home`, `/Users`, `/var`...): then, like `~` and `..` paths, the
  path is outside the repository.
- Mentions on a line come from, in this order: markdown links (`[x](../../src/a.ts)`: the target,
  with the `../` climbing out of the plans folder dropped; anchors dropped), backticked code
  spans, and plain tokens (`scripts/run.py`, `README.md`; a plain token with a `/` needs a known
  extension). Headings, table cells and tree lines are plain text too.
- A bare name listed right after a path (`src/x/core.py`, `article.py`) shares its directory
  (`near`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache

from hybrid_tui.core.spec.convert.scan import words
from hybrid_tui.core.spec.format import path_problem

CODE_SPAN = re.compile(r"`([^`\n]+)`")
_PATH_CHARS = re.compile(r"[\w./@+\-\[\]()#,{}~]+")
_LINE_SUFFIX = re.compile(r"(?::\d+(?:[-:]\d+)*|#L\d+(?:-L?\d+)?|::[A-Za-z_][\w.]*(?:\(\))?)$")
_BRACES = re.compile(r"^(.*?)\{([^{}]*,[^{}]*)\}(.*)$")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,12})$")
KNOWN_EXTENSIONS = words(
    """
    py pyi pyx ts tsx mts cts js jsx mjs cjs json jsonc json5 md mdx markdown rst adoc txt
    sql go mod sum rs toml yaml yml sh bash zsh fish ps1 bat nix tf tfvars hcl c h cc cpp
    cxx hpp hh hxx java kt kts swift rb php cs fs scala clj ex exs erl hs ml dart lua zig
    nim sol svelte vue astro css scss sass less html htm xml svg png jpg jpeg gif ico webp
    pdf csv tsv ipynb cfg ini conf lock gradle properties proto graphql gql prisma cmake mk
    dockerfile j2 jinja tmpl tpl ejs hbs pug plist xcconfig pbxproj csproj sln service timer
    desktop patch diff wgsl glsl cu R Rmd qmd asm ld vim el jl pl pm cabal sbt ron yarnrc
    npmrc editorconfig gitignore gitattributes dockerignore env example sample template spec
    d feature xctestplan tmux
    """
)
# extensions that are too often object attributes to count without a `/`
_AMBIGUOUS_BARE = words(
    """
    d env example sample template spec R mod sum service timer lock properties pm pl el ml
    fs cs ex sol nim ron asm ld c h
    """
)
_EXTENSIONLESS = words(
    """
    Makefile makefile GNUmakefile Dockerfile Containerfile Justfile justfile Procfile
    Gemfile Rakefile Brewfile Vagrantfile Jenkinsfile Caddyfile Pipfile LICENSE COPYING
    NOTICE CODEOWNERS AUTHORS CHANGELOG README NAMESPACE .gitignore .gitattributes
    .gitmodules .dockerignore .editorconfig .env .envrc .npmrc .nvmrc .prettierrc .eslintrc
    .babelrc .python-version .tool-versions .mcp.json
    """
)
# first parts of an absolute path that mean the machine, not the repository
_SYSTEM_ROOTS = words(
    """
    Users home root etc usr var tmp opt private Library System Applications Volumes mnt
    media dev proc sys srv bin sbin lib lib64 nix run boot persist snap
    """
)
# product names that look like file names
_NOT_FILES = words(
    """
    node.js next.js nuxt.js vue.js react.js three.js d3.js express.js chart.js nest.js
    ember.js backbone.js p5.js alpine.js solid.js day.js moment.js pixi.js babylon.js
    tone.js anime.js socket.io vite.js deno.land asp.net ml5.js
    highlight.js nextauth.js auth.js video.js tensorflow.js brain.js immer.js knockout.js
    angular.js meteor.js svelte.js preact.js mithril.js riot.js polymer.js lit.js htmx.js
    matter.js paper.js fabric.js konva.js leaflet.js mapbox.js cesium.js plotly.js echarts.js
    mermaid.js marked.js prism.js katex.js mathjax.js quill.js tiptap.js prosemirror.js
    pdf.js sharp.js howler.js gsap.js lottie.js swiper.js hammer.js sortable.js
    """
)
# `.test.ts`, `.d.ts`: a file-name suffix (as in "rename `.test.js` to `.test.ts`"), no file
_SUFFIX_ONLY = re.compile(
    r"\.(?:test|spec|d|stories|module|config|min|story|e2e)\.\w+$"
)


@dataclass(frozen=True, slots=True)
class Mention:
    path: str  # normalised repo-relative path, or the raw token when `outside`
    outside: bool
    before: str  # text on the same line before the mention
    after: str  # text on the same line after it
    near: str = (
        ""  # for a bare name: the directory of a path named before it on the line
    )
    plain: bool = False  # found in plain text (not a code span or a link)
    located: bool = False  # written with a line number (`a.py:12`): a reference, often
    follows: bool = False  # listed right after the previous mention (`a.py`, `b.py`)


_PROGRAM_DIR = re.compile(r"^(?:[\w.-]+/)*(?:bin|sbin|scripts?|tools|libexec|\.husky|\.githooks|hooks)/[\w][\w.-]*$")


def _looks_like_file(token: str, *, plain: bool = False) -> bool:
    """A file name: a known extension-less name, or `stem.ext` (with a `/`: any alphabetic
    extension, a known one in plain text; bare: a known extension), or, in code, a name in a
    programs folder (`bin/tool`, `scripts/deploy`)."""
    name = token.rsplit("/", 1)[-1]
    if token.lower() in _NOT_FILES or _SUFFIX_ONLY.match(name):
        return False
    if name in _EXTENSIONLESS or name.startswith(".env"):
        return not plain or name[0] == "." or "/" in token or name.isupper()
    match = _EXTENSION.search(name)
    if match is None and not plain and _PROGRAM_DIR.match(token):
        return True  # `bin/tool`, `scripts/deploy`: a program, extension-less by custom
    if match is None or match.start() == 0:
        return (
            False  # no extension, or a dot-name like `.claude` (a directory more often)
        )
    ext = match.group(1)
    if "/" in token and not plain:
        return any(ch.isalpha() for ch in ext)
    if ext in _AMBIGUOUS_BARE and "/" not in token:
        return ext in ("c", "h") and match.start() > 1
    return ext in KNOWN_EXTENSIONS


@lru_cache(maxsize=16384)
def path_candidates(token: str, plain: bool = False) -> tuple[tuple[str, bool], ...]:
    """The paths a token names: ((path, outside_repo), ...), empty when it is not a path."""
    return tuple(_path_candidates(token, plain))


def _path_candidates(token: str, plain: bool) -> list[tuple[str, bool]]:
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
            out.extend(_path_candidates(head + option.strip() + tail, plain))
        return out
    if "{" in token or "}" in token or "," in token or token.endswith("/"):
        return []
    if not _looks_like_file(token, plain=plain):
        return []
    if token.startswith("~"):
        return [(token, True)]
    if token.startswith("/"):
        first = token.lstrip("/").split("/", 1)[0]
        if first in _SYSTEM_ROOTS:
            return [(token, True)]
        token = token.lstrip("/")
    normal = posixpath.normpath(token)
    if normal == ".." or normal.startswith("../"):
        return [(token, True)]
    if path_problem(normal):
        return [(token, True)]
    return [(normal, False)]


_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LIST_GAP = re.compile(r"\s*\(?\s*(?:,|;|/|\+|&|and|or|、|，)?\s*(?:or\s+)?")
_PLAIN_TOKEN = re.compile(r"(?<![\w@$%/.:-])[A-Za-z0-9_.~][A-Za-z0-9_./~+\-]*")
_PLAIN_SKIP = re.compile(r"^(?:e\.g|i\.e|etc|vs|v\d)", re.IGNORECASE)


def link_target(target: str) -> str:
    """A markdown link target as a repo path candidate: anchors and the leading `./` / `../`
    (the plan sits in a sub-folder; its links climb to the repository) dropped."""
    target = target.split("#", 1)[0].split("?", 1)[0]
    while target.startswith(("./", "../")):
        target = target[2:] if target.startswith("./") else target[3:]
    return target


def line_mentions(line: str, *, plain_text: bool = True) -> list[Mention]:
    """Path mentions on one line: links, code spans, then (with `plain_text`) plain tokens."""
    if not line.strip():
        return []
    found: list[tuple[int, int, str, bool]] = []  # (start, end, token, plain)
    masked = line
    if "](" in line:
        for match in _LINK.finditer(line):
            target = link_target(match.group(2))
            if "://" in match.group(2) or match.group(2).startswith(("#", "mailto:")):
                masked = (
                    masked[: match.start()]
                    + " " * (match.end() - match.start())
                    + masked[match.end() :]
                )
                continue
            token = target if path_candidates(target) else match.group(1).strip("`")
            found.append((match.start(), match.end(), token, False))
            masked = (
                masked[: match.start()]
                + " " * (match.end() - match.start())
                + masked[match.end() :]
            )
    if "`" in masked:
        for match in CODE_SPAN.finditer(masked):
            found.append((match.start(), match.end(), match.group(1), False))
        masked = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), masked)
    if plain_text and "." in masked:
        for match in _PLAIN_TOKEN.finditer(masked):
            token = match.group(0).rstrip(".")
            if "." not in token or _PLAIN_SKIP.match(token):
                continue
            found.append((match.start(), match.start() + len(token), token, True))
    found.sort()
    out: list[Mention] = []
    near = ""
    last_end = -1
    for start, end, token, plain in found:
        listed = last_end >= 0 and bool(_LIST_GAP.fullmatch(line[last_end:start]))
        if near and not listed:
            near = ""  # only a list (`a/x.py`, `y.py`) shares a directory
        located = bool(_LINE_SUFFIX.search(token))
        for path, outside in path_candidates(token, plain):
            bare = "/" not in path
            if bare and path.split(".", 1)[0] in _VARIABLES and "." in path:
                continue
            if plain and bare and len(path.lstrip(".").split(".", 1)[0]) < 2:
                continue
            out.append(
                Mention(
                    path,
                    outside,
                    line[:start],
                    line[end:],
                    (near or _folder_after(line[end:])) if bare else "",
                    plain,
                    located,
                    listed,
                )
            )
            if not bare:
                near = "" if outside else path.rsplit("/", 1)[0]
        last_end = end
    return out


_IN_FOLDER = re.compile(r"^\s*(?:in|under|inside|into|to|within|dans|en|em|in der|im|在|に)\s*`([\w.\-]+(?:/[\w.\-]+)*)/`")


def _folder_after(after: str) -> str:
    """`cache.py` in `src/`: the folder a bare name is placed in right after it."""
    match = _IN_FOLDER.match(after)
    return match.group(1) if match else ""


# names that are variables more often than files when bare (`props.sql`, `this.state`)
_VARIABLES = words(
    """
    props this self state data obj item row req res ctx window document
    """
)


# --------------------------------------------------------------------------------------------
# Renames: `a.js` -> `a.ts`, `a.jsx` → `.tsx`, "rename a to b", "move a to b", `git mv a b`

_ARROW = re.compile(r"^\s*(?:->|→|=>|⇒|⟶)\s*$")
_EXT_ONLY = re.compile(r"^\s*(?:->|→|=>|⇒|⟶)\s*`?(\.[A-Za-z0-9]{1,8})`?(?![\w.])")
_RENAME_WORDS = re.compile(r"\b(?:rename[sd]?|move[sd]?|git mv|mv)\b", re.IGNORECASE)
_COPY_WORDS = re.compile(
    r"\b(?:cop(?:y|ies|ied)|duplicate|mirror|based on|from)\b", re.IGNORECASE
)
_TO = re.compile(r"^\s*(?:to|into|as|,)?\s*$", re.IGNORECASE)


def renames(line: str, found: list[Mention]) -> list[tuple[Mention, str]]:
    """(old mention, new path) pairs a line states as renames. An arrow between two paths is a
    rename unless the line says copy/duplicate (then the old one is only read)."""
    out: list[tuple[Mention, str]] = []
    inside = [m for m in found if not m.outside]
    for index, old in enumerate(inside):
        gap_start = len(line) - len(old.after)
        ext = _EXT_ONLY.match(old.after)
        if ext and "." in old.path.rsplit("/", 1)[-1]:
            out.append((old, old.path.rsplit(".", 1)[0] + ext.group(1)))
            continue
        if index + 1 >= len(inside):
            continue
        new = inside[index + 1]
        gap = line[gap_start : len(new.before)]
        if (
            _RENAME_WORDS.search(old.before[-40:])
            and _TO.match(gap)
            or (
                _ARROW.match(gap)
                and _same_file(old.path, new.path)
                and not _chained(old, new, line)
                and not _COPY_WORDS.search(old.before[-40:])
            )
        ):
            out.append((old, new.path))
    return out


def _same_file(old: str, new: str) -> bool:
    """An arrow renames only a file to a new name of the same file (same name in another
    folder, or same stem with another extension); `a.ts -> b.ts` is a sequence, not a rename."""
    old_name, new_name = old.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]
    return (
        old_name == new_name or old_name.split(".", 1)[0] == new_name.split(".", 1)[0]
    )


def _chained(old: Mention, new: Mention, line: str) -> bool:
    """`a -> b -> c`: an order of work, not renames."""
    return bool(re.search(r"(?:->|→|=>|⇒)", old.before)) or bool(
        re.search(r"^[^`]*`?\s*(?:->|→|=>|⇒)", new.after)
    )
