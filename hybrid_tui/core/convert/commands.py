"""Verification commands: which text is a shell command, and the commands in a block of lines.

Behaviour choices:
- A command is a line whose first word (after `VAR=x` assignments) is a known tool, `./x`, or
  a path into `bin/` / `scripts/`; a one-word span counts only for a few tools (`pytest`, `make`).
- Shell code blocks (```bash/sh/shell/console..., or an unlabelled block whose every line starts
  like a command) give one command per line: comments and blank lines dropped, a trailing
  ` # comment` stripped (outside quotes), `$ ` prompts dropped, backslash continuations joined
  with one space, heredocs left out (they do not fit one line), and a lone `cd dir` line turned
  into a `cd dir && ` prefix of the commands after it.
- Outside code, backticked spans that look like commands are commands; every other block of a
  verification section is returned as an "other" item (a requirement: checklists, slash
  commands, REPL expressions).
"""

from __future__ import annotations

import re

from hybrid_tui.core.convert.scan import (
    FENCE_OPEN,
    blocks,
    closes,
    dedent,
    fence_end,
    fence_mask,
    indent_of,
    words,
)

CODE_SPAN = re.compile(r"`([^`\n]+)`")

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
    if "/" in first and first.rsplit("/", 1)[-1] in KNOWN_TOOLS:
        return True  # `venv/bin/python -m pytest`, `node_modules/.bin/tsc`
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
        end = fence_end(lines, fenced, i)
        info = FENCE_OPEN.match(lines[i]).group(2).strip().split()  # type: ignore[union-attr]
        body = [dedent(line, indent_of(lines[i])) for line in lines[i + 1 : end]]
        if body and closes(lines[i], body[-1]):
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
            for span in CODE_SPAN.findall(line)
            if looks_like_command(span)
        ]
        if found:
            commands.extend(found)
        else:
            others.append("\n".join(block.lines))
    return unique(commands), others


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_CHECK_WORDS = re.compile(
    r"\b(?:verify|verif\w+|check|checks|checking|tests?|testing|validate|validation|confirm"
    r"|ensure|must (?:still )?(?:pass|compile|build|succeed)|pass(?:es)?|green|clean|lint\w*)\b"
    r"|確認|検証|验证|检查|確かめ|확인|검증|vérifi\w*|kiểm tra|comprobar|prüf\w*",
    re.IGNORECASE,
)


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
        out.extend(span.strip() for span in spans if looks_like_command(span))
    return unique(out)
