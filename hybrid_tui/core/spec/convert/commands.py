"""Verification commands: which text is a shell command, and the commands in a block of lines.

Behaviour choices:
- A command is a line whose first word (after `VAR=x` assignments) is a known tool, `./x`, or
  a path into `bin/` / `scripts/`; a one-word span counts only for a few tools (`pytest`, `make`).
- Shell code blocks (```bash/sh/shell/console..., or an unlabelled block whose every line starts
  like a command) give one command per line: comments and blank lines dropped, a trailing
  ` # comment` stripped (outside quotes), `$ ` prompts dropped, backslash continuations joined
  with one space, heredocs left out (they do not fit one line), and a lone `cd dir` line turned
  into a `cd dir && ` prefix of the commands after it.
- Outside code, a verification section's blocks (list items, paragraphs, tables) are read for
  commands: a backticked span that looks like a shell command in the broad sense
  (`looks_like_shell`: a known tool as above, or any program-like first word such as `cp`,
  `rm`, `chmod`, `./x`, `~/bin/x`, `/usr/bin/x` with at least one argument; never a slash
  command like `/review`, a code expression like `len(x) == 3` / `foo()` / `import x`, or a
  phrase that starts with an English word like `the`), and a list item (or nested bullet)
  without backticks whose text itself is a command: `looks_like_command` (`- npm test`), or
  broad-sense with a system tool (`- cp ~/.ssh/id_rsa /tmp/k`) or a shell sign (a flag, `~`,
  `./`, `$`, a pipe); never when its second word reads as prose (`- open the app`,
  `- make sure it builds`). A paragraph counts when every line of it is such a command.
- The rule for what becomes a requirement ("other" items): a plan's shell command never does,
  because a requirement is work the worker does, while a command in a verification section
  is a check the user approves before it runs (with warnings for risky ones). So:
  - a block with no command is an "other" item, verbatim (checklists, slash commands, REPL
    expressions, prose checks like "- [ ] the login page shows the error");
  - a block whose own text holds a command is a check ("Run `x` and check it passes",
    "`pnpm test` 全パス", "- npm test"): its commands are returned, the block is not an item
    (its nested lines say what the check shows). A paragraph's own text is all of it; an
    item's is its lines up to a nested bullet or a blank line;
  - an item whose commands are only in nested bullets ("**Create the script**" with a nested
    "Make executable: `chmod +x s.sh`"), and a table (its rows are units of their own), stay
    an item with each command span replaced by "(see Verification)" and each plain command
    line dropped; their commands are returned.
"""

from __future__ import annotations

import re

from hybrid_tui.core.spec.convert.scan import (
    BULLET,
    FENCE_OPEN,
    Block,
    blocks,
    closes,
    dedent,
    fence_end,
    fence_mask,
    indent_of,
    words,
)

CODE_SPAN = re.compile(r"`([^`\n]+)`")

SHELL_INFO = frozenset(
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
KNOWN_TOOLS = words(
    """
    npm npx pnpm yarn bun bunx node deno tsc tsx vitest jest eslint prettier biome python
    python3 py pip pip3 pipx uv uvx poetry pdm hatch tox nox pytest mypy ruff black isort
    flake8 pyright coverage django-admin manage.py alembic make cmake ctest ninja meson just
    task cargo rustc rustup clippy-driver go gofmt golangci-lint sqlc swift swiftc
    xcodebuild xcrun gradle gradlew ./gradlew mvn ./mvnw java javac kotlinc dotnet ruby
    bundle rake rails rspec php composer artisan mix elixir erl iex R Rscript flutter dart
    git gh docker docker-compose podman kubectl helm terraform tflint tofu ansible ansible-
    playbook ansible-lint nix nixos-rebuild nix-build nix-shell home-manager darwin-rebuild
    bash sh zsh fish shellcheck bats curl wget ls cat grep rg find test diff head tail wc jq
    yq psql mysql sqlite3 supabase prisma drizzle-kit playwright cypress turbo nx lerna vite
    next astro tmux systemctl journalctl sudo env echo open xdg-open cd export source time
    hyperfine pre-commit lefthook hybrid-tui kimi claude sam aws gcloud az wrangler vercel
    netlify firebase expo eas pod fastlane bazel buck pants lake lean stack cabal ghc opam
    dune mvn sbt lein clojure zig gcc g++ clang clang++ valgrind gdb lldb idf.py pio
    platformio pgrep pkill ps lsof sort uniq awk sed xargs sqlite3 redis-cli grpcurl wscat
    k6 ab westwest cloc tokei nvim vim code pandoc mkdocs sphinx-build hugo jekyll zola
    """
)
# tools that make a command on their own, in a single-word code span
_STANDALONE_TOOLS = words(
    """
    pytest make tox nox ruff mypy tsc jest vitest rspec bats shellcheck pyright
    """
)
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=\S*\s+")
_HEREDOC = re.compile(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?")
_CD = re.compile(r"^cd\s+[^\s;&|]+$")
_PROMPT = re.compile(r"^\s*[$>%]\s+")


def _without_assignments(text: str) -> str:
    """`text` without its leading `VAR=x` assignments."""
    while True:
        stripped = _ENV_ASSIGN.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


def looks_like_command(text: str) -> bool:
    """A shell command: first word (after VAR=x assignments) a known tool, `./x` or `x.sh`."""
    text = text.strip()
    if not text or text.startswith("/") or "\n" in text:
        return False
    words = _without_assignments(text).split()
    first = words[0] if words else ""
    if len(words) == 1:
        return first in _STANDALONE_TOOLS or first.startswith("./")
    if first in KNOWN_TOOLS:
        return True
    if "/" in first and first.rsplit("/", 1)[-1] in KNOWN_TOOLS:
        return True  # `venv/bin/python -m pytest`, `node_modules/.bin/tsc`
    return first.startswith(("./", "../", "bin/", "scripts/"))


# a program named by a word: lowercase `cp`, `docker-compose`, `manage.py`; or by a path:
# `./x`, `../x`, `~/x`, an absolute path of two or more parts (`/usr/bin/cp`, not `/review`)
_PROGRAM = re.compile(r"^(?:[a-z][a-z0-9_.+-]*|\.\.?/\S+|~/\S+|/[^\s/]+/\S+)$")
# first words of code or prose, not of a command (`import x`, `select * from t`, `the page`)
_NOT_PROGRAMS = words(
    """
    import from select insert update delete create drop alter with assert return def class
    const let var function await async new type interface lambda raise yield print not and
    or is in of as the a an this that these those it its all any each every no to on at by
    via per when then so but if for while until
    """
)
# code, not shell: a call `f(`, a comparison or assignment operator as a word
_CODE = re.compile(
    r"\w\(|(?:^|\s)(?:===?|!==?|=>|->|:=|[-+*/<>]=|=)(?:\s|$)|^\S*[:,](?:\s|$)|:$"
)
# `for f in *; do rm "$f"; done`, `if test -f x; then ...`: shell, despite the first word
_COMPOUND = re.compile(r"^(?:for|while|until|if)\s.*;\s*(?:do|then)\b")


def looks_like_shell(text: str) -> bool:
    """A shell command in the broad sense (see the module docstring): `looks_like_command`, or
    a program-like first word with at least one argument that is not code or prose."""
    if looks_like_command(text):
        return True
    text = text.strip()
    if "\n" in text:
        return False
    if _COMPOUND.match(text):
        return True
    text = _without_assignments(text)
    parts = text.split()
    if len(parts) < 2 or not _PROGRAM.match(parts[0]) or parts[0] in _NOT_PROGRAMS:
        return False
    return not _CODE.search(text)


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
    """(commands, other items) of a verification section's lines. The other items become
    requirements, so none holds a command (see the module docstring)."""
    commands: list[str] = []
    rest: list[str] = []
    fenced = fence_mask(lines)
    i = 0
    while i < len(lines):
        if not fenced[i]:
            rest.append(lines[i])
            i += 1
            continue
        end = fence_end(lines, fenced, i)
        info = FENCE_OPEN.match(lines[i]).group(2).strip().split()  # type: ignore[union-attr]
        body = [dedent(line, indent_of(lines[i])) for line in lines[i + 1 : end]]
        if body and closes(lines[i], body[-1]):
            body.pop()
        if info and info[0].lower() in SHELL_INFO:
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
        found, item = _block_commands(block)
        commands.extend(found)
        if item is not None:
            others.append(item)
    return unique(commands), others


_CHECKBOX = re.compile(r"^\[[ xX]\]\s+")
SEE = "(see Verification)"
# programs that, with arguments, make a plain line a command, though not known tools of a
# project's checks (`- cp ~/.ssh/id_rsa /tmp/k`); not English words (`touch targets stay
# 44px`): those need a shell sign
_SYSTEM_TOOLS = words(
    """
    cp mv rm rmdir mkdir ln chmod chown chgrp scp rsync sftp ssh ssh-keygen ssh-add
    ssh-copy-id tar unzip gzip gunzip dd shred base64 xxd nc ncat netcat socat killall
    crontab umount useradd usermod passwd openssl gpg pbcopy xclip nohup launchctl
    """
)
# a flag, a home or relative path, a variable or an operator: shell, not prose
_SHELL_SIGNAL = re.compile(
    r"(?:^|\s)(?:-{1,2}[A-Za-z]|~|\.\.?/|\$)|\s(?:\||>>?|<|&&|\|\||;)\s"
)
# a plain line whose second word is one of these is prose: "open the app", "go to settings",
# "make sure it builds", "test that it loads"
_PROSE_NEXT = words(
    """
    the a an to sure that this these it its all up out through in on at with for and if
    whether your each every there what how
    """
)


def _plain_command(line: str, *, bullet: bool = False) -> str | None:
    """A line without backticks that is itself a command (`npm test`, `[ ] make check`,
    `cp ~/.ssh/id_rsa /tmp/k`); with `bullet`, after its list marker (`- npm test`). Stricter
    than a span: besides a known tool, a system tool or a shell sign (a flag, `~`, `./`, `$`,
    a pipe or redirection) is needed, so "- verify login works" stays prose."""
    if bullet:
        line = BULLET.sub("", line, count=1)
    text = _CHECKBOX.sub("", line.strip())
    parts = text.split()
    if "`" in text or (len(parts) > 1 and parts[1].lower() in _PROSE_NEXT):
        return None
    if looks_like_command(text) or (
        looks_like_shell(text)
        and (parts[0] in _SYSTEM_TOOLS or _SHELL_SIGNAL.search(text))
    ):
        return text
    return None


def _block_commands(block: Block) -> tuple[list[str], str | None]:
    """(commands, item) of one block outside code; the item is None when the block is a check
    (see the module docstring: a command never stays in an item)."""
    lines = block.lines
    spans = [
        [span.strip() for span in CODE_SPAN.findall(line) if looks_like_shell(span)]
        for line in lines
    ]
    plain: list[str | None] = [None] * len(lines)
    if block.kind == "item":  # its own text, and each nested bullet
        plain = [
            _plain_command(line, bullet=i > 0) if i == 0 or BULLET.match(line) else None
            for i, line in enumerate(lines)
        ]
    elif block.kind == "para" and all(_plain_command(line) for line in lines):
        plain = [_plain_command(line) for line in lines]
    found = [
        command
        for line_spans, line_plain in zip(spans, plain)
        for command in ([line_plain] if line_plain else line_spans)
    ]
    if not found:
        return [], "\n".join(lines)
    # a paragraph is one unit (its lines are wrapping); an item's own text is its lines up
    # to a nested bullet or a blank line; a table's rows are units of their own
    lead = {"para": len(lines), "table": 0}.get(block.kind)
    if lead is None:
        lead = next(
            (
                i
                for i, line in enumerate(lines)
                if i and (not line.strip() or BULLET.match(line))
            ),
            len(lines),
        )
    if any(spans[:lead]) or any(plain[:lead]):
        return found, None
    kept = [
        CODE_SPAN.sub(
            lambda m: SEE if looks_like_shell(m.group(1)) else m.group(0), line
        )
        for line, line_plain in zip(lines, plain)
        if not line_plain
    ]
    return found, "\n".join(kept)


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_CHECK_WORDS = re.compile(
    r"\b(?:verify|verif\w+|check|checks|checking|tests?|testing|validate|validation|confirm"
    r"|ensure|make sure|must (?:still )?(?:pass|compile|build|succeed)|pass(?:es)?|green|clean|lint\w*)\b"
    r"|valider|validez|tester|testez|contrôler|testen|validieren|überprüf\w*|verificar|validar|probar"
    r"|testar|verificare|validare|testare|controllare|провер\w*|тест\w*|chạy thử|xác minh|errores|erreurs?"
    r"|errors?|erros?|fehler|fehlerfrei|vert|verde|grün|зел[её]н\w*|xanh|sans erreur|sin errores|sem erros"
    r"|senza errori|без ошибок"
    r"|確認|検証|验证|检查|测试|確かめ|テスト|확인|검증|테스트|vérifi\w*|kiểm tra|comprobar|prüf\w*|改后|完成后|変更後|이후",
    re.IGNORECASE,
)


def without_checks(requirements: list[str], checks: list[str]) -> list[str]:
    """The requirements with each check command (now in Verification) named "(see
    Verification)" instead; one left with no words of its own beyond check words ("**Verify**
    — `npm test`, `npm run lint` all pass") is dropped: the checks say it."""
    spans = {f"`{check}`" for check in checks}
    out = []
    for requirement in requirements:
        if not any(span in requirement for span in spans):
            out.append(requirement)
            continue
        text = requirement
        for span in spans:
            text = text.replace(span, SEE)
        rest = _CHECK_WORDS.sub(" ", text.replace(SEE, " "))
        if len(re.findall(r"[^\W\d_]{2,}", rest)) > 3 or re.search(r"[\u3040-\u9fff\uac00-\ud7af]{4,}", rest):
            out.append(text)
    return out


def inline_checks(lines: list[str]) -> list[str]:
    """Commands in code spans on lines that say they check something ("**Verify** — `npm test`",
    "verification after each story (`swift build` / `swift test`)"). Fenced lines are skipped
    by the caller (pass them as empty strings) or here when they open a fence."""
    out: list[str] = []
    for line, is_code in zip(lines, fence_mask(lines)):
        if is_code or "`" not in line:
            continue
        spans = CODE_SPAN.findall(line)
        if not _CHECK_WORDS.search(CODE_SPAN.sub(" ", line)):
            continue
        out.extend(span.strip() for span in spans
                   if looks_like_command(span) or (" -" in span and looks_like_shell(span)))  # `pglast --version`
    return unique(out)
