"""Risky verification commands: what in a check reaches outside the worktree or destroys data.

`command_risks(command)` returns plain-words reasons, one per kind of risk found, in a fixed
order; an empty list is a command with nothing to warn about. Spec validation (`check`, the
editor), the TUI's run confirmation and the CLI's list of checks show them next to the command.
They are warnings, never refusals: the user decides (a check runs only once approved, and
inside the sandbox when there is one).

What counts (the command is split into words as the shell would, quotes kept literal; a
command that cannot be split, an open quote say, is split on spaces):
- deleting recursively: `rm` with `-r`/`-R`/`--recursive` (in any flag cluster: `-rf`, `-fr`),
  `find ... -delete` or `find ... -exec rm`, `git clean` with `-x`, `shred`, `mkfs*`, `dd of=`;
- your home: a word that starts with `~` (`~`, `~/x`, `~user`) or holds `$HOME` / `${HOME}`;
- your SSH keys (or other credentials): `.ssh/`, `id_rsa`, `id_ed25519`, `.aws/credentials`,
  `.netrc`, `.gnupg` in any word;
- absolute paths: any word that is, or assigns (`--out=/x`, `>/x`), an absolute path, because
  checks run in the run's worktree and every absolute path is outside it (your checkout
  included); not `/dev/null` and the other `/dev` streams, and not a program named by its
  path in command position (`/usr/bin/env python`);
- running what it downloads: `curl`/`wget` piped into a shell or an interpreter (`| sh`,
  `| bash`, `| python`...), or `sh -c "$(curl ...)"`;
- root: `sudo`, `doas`, `su`, `pkexec` as a command;
- publishing: `git push` (it leaves the machine), `npm publish`, `twine upload`.
"""

from __future__ import annotations

import re
import shlex

__all__ = ["command_risks", "risks_text"]

_SEPARATORS = frozenset({"|", "||", "&", "&&", ";", ";;", "(", ")", "|&", "\n"})
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3", "perl", "ruby", "node"})
_ROOT = frozenset({"sudo", "doas", "su", "pkexec"})
_DEV_STREAMS = frozenset(
    {"/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/tty"}
)
_HOME = re.compile(r"^~|\$\{?HOME\b")
_SECRETS = re.compile(r"(?:^|/)\.ssh(?:/|$)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.aws/credentials|(?:^|/)\.netrc\b|(?:^|/)\.gnupg\b")
_ABSOLUTE = re.compile(r"(?:^|=|^[0-9]?>>?|^<)(/[^\s]*)")
_PREFIXES = frozenset({"env", "command", "exec", "nice", "nohup", "time", "timeout", "xargs"})


def _words(command: str) -> list[str]:
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars="|&;()")
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # an open quote: the shell would refuse it too, but warn on what is there
        return command.split()


def _simple_commands(words: list[str]) -> list[list[str]]:
    """The words split at `|`, `&&`, `;`...; each part starts with its program (after
    `VAR=x` assignments and `env`/`nohup`-like prefixes)."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word in _SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    out = []
    for part in parts:
        while part and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", part[0]):
            part = part[1:]
        if part:
            out.append(part)
    return out


def _program_at(part: list[str]) -> int | None:
    """Where the program of a simple command is, past `sudo`-like and `env`-like prefixes
    (with their flags and `VAR=x` words); None when there is none."""
    for i, word in enumerate(part):
        name = word.rsplit("/", 1)[-1]
        if name in _PREFIXES or name in _ROOT or word.startswith("-") or re.match(r"^[A-Za-z_]\w*=", word):
            continue
        return i
    return None


def _program(part: list[str]) -> tuple[str, list[str]]:
    """(the program's base name, its arguments) of a simple command; ("", []) when none."""
    at = _program_at(part)
    if at is None:
        return "", []
    return part[at].rsplit("/", 1)[-1], part[at + 1 :]


def _recursive_rm(args: list[str]) -> bool:
    for arg in args:
        if arg == "--":
            return False
        if arg in ("--recursive",) or (re.match(r"^-[A-Za-z]+$", arg) and ("r" in arg or "R" in arg)):
            return True
    return False


def _destroys(parts: list[list[str]]) -> bool:
    for part in parts:
        program, args = _program(part)
        if program == "rm" and _recursive_rm(args):
            return True
        if program == "find" and ("-delete" in args or any(
            a in ("-exec", "-execdir", "-ok") and args[i + 1 : i + 2] and args[i + 1].rsplit("/", 1)[-1] == "rm"
            for i, a in enumerate(args)
        )):
            return True
        if program == "git" and args[:1] == ["clean"] and any(re.match(r"^-[A-Za-z]*x", a) for a in args[1:]):
            return True
        if program in ("shred", "wipefs") or program.startswith("mkfs"):
            return True
        if program == "dd" and any(a.startswith("of=") for a in args):
            return True
    return False


def _runs_download(command: str, parts: list[list[str]]) -> bool:
    programs = [_program(part)[0] for part in parts]
    for before, after in zip(programs, programs[1:]):
        if before in ("curl", "wget") and after in _SHELLS:
            return True
    return bool(re.search(r"\$\(\s*(?:curl|wget)\b|`\s*(?:curl|wget)\b|<\(\s*(?:curl|wget)\b", command))


def _absolute_paths(parts: list[list[str]]) -> list[str]:
    found: list[str] = []
    for part in parts:
        at = _program_at(part)
        for i, word in enumerate(part):
            if at is not None and i <= at and not word.startswith("-") and "=" not in word:
                continue  # the program (or `env`, `sudo`...) named by its path reads nothing of yours
            match = _ABSOLUTE.search(word)
            if match and match.group(1) not in _DEV_STREAMS:
                found.append(match.group(1))
    return list(dict.fromkeys(found))


def command_risks(command: str) -> list[str]:
    """What in `command` reaches outside the worktree or destroys data, in plain words (see the
    module docstring); [] when nothing does."""
    words = _words(command)
    parts = _simple_commands(words)
    risks: list[str] = []
    if _destroys(parts):
        risks.append("deletes files recursively")
    if any(_HOME.search(word) for word in words):
        risks.append("reaches your home directory (~ or $HOME)")
    if any(_SECRETS.search(word) for word in words):
        risks.append("reads your SSH keys or other credentials")
    if outside := _absolute_paths(parts):
        shown = ", ".join(outside[:3]) + (" …" if len(outside) > 3 else "")
        risks.append(f"uses absolute paths outside the worktree ({shown})")
    if _runs_download(command, parts):
        risks.append("runs what it downloads (curl/wget into a shell)")
    if any(_as_root(part) for part in parts):
        risks.append("runs as root (sudo)")
    if any(_publishes(part) for part in parts):
        risks.append("publishes outside this machine (push or upload)")
    return risks


def _as_root(part: list[str]) -> bool:
    at = _program_at(part)
    return any(word.rsplit("/", 1)[-1] in _ROOT for word in part[: len(part) if at is None else at])


def _publishes(part: list[str]) -> bool:
    program, args = _program(part)
    verb = next((a for a in args if not a.startswith("-")), "")
    return (program, verb) in {("git", "push"), ("npm", "publish"), ("pnpm", "publish"), ("yarn", "publish"), ("twine", "upload")}


def risks_text(command: str) -> str:
    """`command_risks` as one line ("deletes files recursively; reaches your home..."), "" when none."""
    return "; ".join(command_risks(command))
