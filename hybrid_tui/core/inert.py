"""Text from outside made inert for a terminal: the one place that decides how control
characters and escape sequences from the agent, plans, specs, checks, git and run records are
shown (DESIGN.md, safety invariant 6: bytes from the agent or a plan never reach the terminal
raw).

The rule, for the CLI's plain output and for every TUI widget that draws outside text:
- C0 control characters other than tab and newline, DEL and the C1 controls (U+0080-U+009F,
  which some terminals obey like ESC sequences) are shown as `\\xNN`: ESC is `\\x1b`, so an
  escape sequence shows as text (`\\x1b]0;title\\x07`) and does nothing. Carriage return is
  `\\x0d` too: a lone CR could draw one line over another.
- The explicit bidirectional controls (U+202A-U+202E, U+2066-U+2069) are shown as `\\uNNNN`:
  they can make a command read as something other than what runs (a right-to-left override
  in a verification command).
- Tab and newline keep their meaning (`inert`); where one line is expected (a title in a list,
  a file name) they are shown as `\\x09` and `\\x0a` too (`inert(text, one_line=True)`), so a
  title cannot fake a row of its own.
- In program output (the agent's text and tool results, the checks' output: `inert_output`)
  SGR colour sequences (`ESC [ ... m`, from tools run with `--color=always`) are dropped
  first: they only colour, and dropped they leave the text readable; every other sequence
  (cursor moves, clearing the screen, a window title, OSC 8 links) is shown as above.

The result is idempotent: `inert(inert(t)) == inert(t)` (backslashes are left as they are), so
a front end may apply it at its last step (the CLI's stdout and stderr) as well as where the
text is drawn. `--json` output is JSON-escaped by `json.dumps`, which leaves DEL, the C1 and the
bidi controls raw when non-ASCII is kept: `inert_json` escapes those as `\\u00NN`, still the same
JSON value. Nothing here changes what is stored: transcripts, logs and files keep their bytes.
"""

from __future__ import annotations

import re

_BIDI = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_IN_JSON = re.compile(f"[\x7f-\x9f{_BIDI}]")  # json.dumps escapes C0 itself
_COLOUR = re.compile(r"\x1b\[[0-9;:]*m")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def inert(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character shown as `\\xNN` (tab and newline kept unless
    `one_line`) and the bidi controls as `\\uNNNN`; see the module's rule."""
    if text.isprintable():  # the common case: a C check, no regex
        return text
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).sub(_shown, text)


def drop_colours(text: str) -> str:
    """`text` without its SGR colour sequences (`ESC [ ... m`); everything else as it is."""
    return _COLOUR.sub("", text) if "\x1b" in text else text


def inert_output(text: str, *, one_line: bool = False) -> str:
    """Program output (the agent's, the checks'): colour sequences dropped, then `inert`."""
    if text.isprintable():
        return text
    return inert(drop_colours(text), one_line=one_line)


def inert_json(dumped: str) -> str:
    """A `json.dumps(..., ensure_ascii=False)` document with DEL, the C1 and the bidi controls
    escaped as `\\u00NN`: the same JSON value, nothing a terminal obeys. (Those characters can
    only occur inside JSON strings, where the escape means the same character.)"""
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped
    return _UNSAFE_IN_JSON.sub(_json_escaped, dumped)


def is_inert(text: str, *, one_line: bool = False) -> bool:
    """Whether `text` holds nothing `inert` would change."""
    return (_UNSAFE_ONE_LINE if one_line else _UNSAFE).search(text) is None
