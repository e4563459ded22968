"""The sub-commands' stdout and stderr: a reader that leaves early (`| head`) does not stop the
command, and no control character or escape sequence from outside reaches the terminal."""

from __future__ import annotations

import os
from typing import Any

from hybrid_tui.core.inert import inert


class ReaderMayLeave:
    """`sys.stdout` for the sub-commands, when its reader may leave early (`| head`).

    The first write or flush that finds the pipe closed points the file descriptor at
    /dev/null and drops the rest of the output: the command carries on to its end and exits
    with its own code. So `hybrid-tui run SPEC | head` still runs the agent and its checks to
    the end and commits the work (a BrokenPipeError raised inside the run would stop it as a
    crash), and `hybrid-tui plans | head` exits 0."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.reader_left = False

    def write(self, text: str) -> int:
        if not self.reader_left:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._leave()
        return len(text)

    def flush(self) -> None:
        if not self.reader_left:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._leave()

    def _leave(self) -> None:
        self.reader_left = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())  # what is still buffered goes nowhere
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class InertStream:
    """`sys.stdout` and `sys.stderr` for the sub-commands: everything written is made inert
    (`core.inert`: ESC shown as `\\x1b`, other controls as `\\xNN`, tab and newline kept), so a
    plan title, a run title, a file name, a check's or the agent's output never drives the
    terminal, whichever command prints it and whether or not stdout is a terminal. This is the
    CLI's one choke point: its plain output is for people; the exact text is in `--json`
    (JSON-escaped, `inert_json`) and in the run's files (`-o FILE`, the transcript)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(inert(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
