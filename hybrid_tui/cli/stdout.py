"""The sub-commands' stdout: a reader that leaves early (`| head`) does not stop the command."""

from __future__ import annotations

import os
from typing import Any


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
