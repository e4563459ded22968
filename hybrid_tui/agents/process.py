"""Run one agent CLI as a subprocess: its own process group, a chunked line reader, timeout, cancel.

Behaviour choices:
- The agent starts in a new session (`start_new_session=True`), so its process group id is its
  pid; timeout and cancel signal the whole group (SIGTERM, then SIGKILL after `kill_grace`).
  When the agent itself has exited, whatever is left of its group (a background job a shell
  tool started) is SIGKILLed too, so nothing outlives the run and holds its pipes open.
- stdout is read in 64 KiB chunks and split into lines here: `StreamReader.readline` with a
  limit raises on a longer line and loses it. Every chunk goes to the transcript file as it
  came (one write per chunk, no per-line syscalls), so the transcript holds the stream byte for
  byte. A line longer than `max_event_line` bytes is handed to `on_line` cut to that size (on a
  UTF-8 character boundary) with `truncated=True` (default 1 MiB); only that much of it is
  ever buffered, so memory stays bounded however long a line is.
- On Linux the agent runs under `supervisor.py`, a small parent that is a child subreaper:
  helpers the agent started in sessions of their own (the Kimi Code CLI runs every Bash command
  in a new session, out of reach of a signal to the group) are stopped when the agent ends.
- `finished(grace)`: the agent said its run is over (Kimi Code's resume hint); a process still
  alive `grace` seconds later is stopped like a timeout (SIGTERM, then SIGKILL) and the
  outcome says `lingered`, not `timed_out`.
- stderr is copied raw to `stderr_log`; its last 16 KiB come back in the outcome.
- A missing or non-executable command is `AgentMissing` (an `InputError`) with an install hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from hybrid_tui.agents.base import Invocation, ProcessOutcome
from hybrid_tui.core.errors import InputError
from hybrid_tui.core.private_files import private_opener

CHUNK_SIZE = 65536
STDERR_TAIL_BYTES = 16 * 1024
LAST_LINES = 20
LAST_LINE_CHARS = 2048
SUPERVISOR = Path(__file__).with_name("supervisor.py")
# The longest stdout line handed on whole: Kimi Code's Read gives 100,000 characters a call,
# which its JSON escapes can make several times as many bytes.
MAX_EVENT_LINE = 1024 * 1024


class AgentMissing(InputError):
    """The agent's command cannot be found or started; `fix` says how to install it."""

    def __init__(
        self, command: str, install_hint: str, *, reason: str = "not found on PATH"
    ) -> None:
        super().__init__(f"agent command {command!r}: {reason}", fix=install_hint)
        self.command = command
        self.install_hint = install_hint


def _default_hint(command: str) -> str:
    return f"install {command!r} or set the agent's `command` in the hybrid-tui config"


class LineSplitter:
    """Splits a byte stream, fed in chunks of any size, into lines for `on_line(text, truncated)`.

    Lines end at b"\n" (a trailing b"\r" is dropped) and are decoded as UTF-8 with
    replacement; `finish()` delivers a last line that had no newline. `last_lines` keeps the
    last 20 non-blank lines (each cut to 2,048 characters) for the verdict.
    """

    __slots__ = ("_on_line", "_max", "_keep", "_partial", "_overflow", "last_lines")

    def __init__(self, on_line: Callable[[str, bool], None], max_line: int) -> None:
        self._on_line = on_line
        self._max = max_line
        # Enough to tell "exactly max bytes + \r" from "longer than max".
        self._keep = max_line + 2
        self._partial = bytearray()
        self._overflow = False
        self.last_lines: deque[str] = deque(maxlen=LAST_LINES)

    def feed(self, chunk: bytes) -> None:
        pieces = chunk.split(b"\n")
        tail = pieces.pop()
        if pieces:
            if self._partial or self._overflow:
                self._add_partial(pieces[0])
                pieces[0] = bytes(self._partial)
                overflow_first = self._overflow
                self._partial.clear()
                self._overflow = False
            else:
                overflow_first = False
            emit = self._emit
            for index, piece in enumerate(pieces):
                emit(piece, overflow_first and index == 0)
        if tail:
            self._add_partial(tail)

    def finish(self) -> None:
        """Deliver a final line that had no newline."""
        if self._partial or self._overflow:
            data, overflow = bytes(self._partial), self._overflow
            self._partial.clear()
            self._overflow = False
            self._emit(data, overflow)

    def _add_partial(self, data: bytes) -> None:
        room = self._keep - len(self._partial)
        if len(data) > room:
            self._partial += data[: max(room, 0)]
            self._overflow = True
        else:
            self._partial += data

    def _emit(self, data: bytes, overflow: bool) -> None:
        if data.endswith(b"\r") and not overflow:
            data = data[:-1]
        truncated = overflow or len(data) > self._max
        if truncated:
            cut = self._max
            # Back off to a UTF-8 character boundary (at most 3 continuation bytes).
            while cut > self._max - 3 and cut > 0 and (data[cut] & 0xC0) == 0x80:
                cut -= 1
            data = data[:cut]
        text = data.decode("utf-8", "replace")
        if text.strip():
            self.last_lines.append(text[:LAST_LINE_CHARS])
        self._on_line(text, truncated)


class _Protocol(asyncio.subprocess.SubprocessStreamProtocol):
    """The stock protocol plus `exited`, a future set when the process itself has exited.

    `Process.wait()` only returns once stdout and stderr are closed too, which never happens
    while a grandchild holds them open; this future is what tells the agent is gone.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=CHUNK_SIZE, loop=loop)
        self.exited: asyncio.Future[None] = loop.create_future()

    def process_exited(self) -> None:
        super().process_exited()
        if not self.exited.done():
            self.exited.set_result(None)


class AgentProcess:
    """One run of an agent CLI; `run()` once, `cancel()` from the same event loop."""

    def __init__(
        self,
        invocation: Invocation,
        *,
        timeout: float,
        transcript: Path,
        stderr_log: Path,
        kill_grace: float = 3.0,
        max_event_line: int = MAX_EVENT_LINE,
        install_hint: str | None = None,
    ) -> None:
        self.invocation = invocation
        self.timeout = timeout
        self.transcript = transcript
        self.stderr_log = stderr_log
        self.kill_grace = kill_grace
        self.max_event_line = max_event_line
        self.install_hint = install_hint
        self.pid: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._cancelled = False
        self._stop: asyncio.Event | None = None
        self._transport: asyncio.SubprocessTransport | None = None
        self._linger_deadline: float | None = None
        self._finished: asyncio.Event | None = None

    # -- control -----------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the run: SIGTERM the group now, SIGKILL after the grace; `cancelled=True`."""
        if self._cancelled:
            return
        self._cancelled = True
        if self._proc is not None and self._proc.returncode is None:
            self._signal_group(signal.SIGTERM)
        if self._stop is not None:
            self._stop.set()

    def finished(self, grace: float) -> None:
        """The agent said its run is over: stop it should it still be running `grace` s later."""
        if self._linger_deadline is not None or self._finished is None:
            return
        self._linger_deadline = asyncio.get_running_loop().time() + grace
        self._finished.set()

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    # -- running -----------------------------------------------------------------------------

    async def _spawn(self) -> tuple[asyncio.subprocess.Process, _Protocol]:
        inv = self.invocation
        env = os.environ | inv.env
        command = inv.argv[0]
        hint = self.install_hint or _default_hint(command)
        if shutil.which(command, path=env.get("PATH", os.defpath)) is None:
            raise AgentMissing(command, hint, reason="not found on PATH or not executable")
        if not Path(inv.cwd).is_dir():
            raise InputError(f"{inv.cwd}: the agent's working directory does not exist")
        loop = asyncio.get_running_loop()
        argv = inv.argv
        if sys.platform.startswith("linux"):
            # Half the grace for its sweep, so it is done before a SIGKILL of the group.
            argv = [sys.executable, "-I", str(SUPERVISOR), str(self.kill_grace / 2), "--", *argv]
        try:
            transport, protocol = await loop.subprocess_exec(
                lambda: _Protocol(loop),
                *argv,
                cwd=inv.cwd,
                env=env,
                stdin=asyncio.subprocess.DEVNULL if inv.stdin is None else asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError) as err:
            raise AgentMissing(command, hint, reason=f"cannot be started ({err.strerror})") from err
        self._transport = transport
        return asyncio.subprocess.Process(transport, protocol, loop), protocol

    async def run(
        self,
        on_line: Callable[[str, bool], None],
        on_start: Callable[[int], None] | None = None,
    ) -> ProcessOutcome:
        """Start the agent, stream its stdout lines to `on_line`, and return how it ended."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        proc, protocol = await self._spawn()
        self._proc = proc
        self.pid = proc.pid
        splitter = LineSplitter(on_line, self.max_event_line)
        stderr_tail = bytearray()
        tasks: list[asyncio.Future] = []
        timed_out = lingered = False
        with contextlib.ExitStack() as files:
            try:
                if on_start is not None:
                    on_start(proc.pid)
                if self.invocation.stdin is not None:
                    tasks.append(asyncio.ensure_future(_feed_stdin(proc, self.invocation.stdin)))
                out = files.enter_context(_open_append(self.transcript))
                err = files.enter_context(_open_append(self.stderr_log))
                out_task = asyncio.ensure_future(_pump_stdout(proc.stdout, out, splitter))
                err_task = asyncio.ensure_future(_pump_stderr(proc.stderr, err, stderr_tail))
                wait_task = protocol.exited
                stop_task = asyncio.ensure_future(self._stop.wait())
                finished_task = asyncio.ensure_future(self._finished.wait())
                tasks += [out_task, err_task, wait_task, stop_task, finished_task]
                if self._cancelled:  # cancel() came before the process existed
                    self._signal_group(signal.SIGTERM)
                    self._stop.set()

                deadline = loop.time() + self.timeout
                pending: set[asyncio.Future[Any]] = {wait_task, stop_task, out_task, finished_task}
                while not wait_task.done():
                    linger = self._linger_deadline
                    if linger is not None and loop.time() >= linger:
                        lingered = not self._cancelled
                        break
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        timed_out = not self._cancelled
                        break
                    if linger is not None:
                        remaining = min(remaining, linger - loop.time())
                    done, _ = await asyncio.wait(
                        pending, timeout=max(remaining, 0), return_when=asyncio.FIRST_COMPLETED
                    )
                    if stop_task in done:
                        break
                    if finished_task in done:
                        pending.discard(finished_task)
                    if out_task in done:
                        pending.discard(out_task)
                        if out_task.exception() is not None:  # on_line raised: stop the agent
                            break
                if not wait_task.done():
                    await self._terminate(wait_task)
                # The agent is gone; kill what it left in its group so the pipes reach EOF.
                self._signal_group(signal.SIGKILL)
                pumped, _ = await asyncio.wait({out_task, err_task}, timeout=self.kill_grace + 2)
                if out_task in pumped and out_task.exception() is not None:
                    raise out_task.exception()  # type: ignore[misc]
            except BaseException:
                # Our caller was cancelled or something broke: never leave the agent running.
                if proc.returncode is None:
                    self._signal_group(signal.SIGKILL)
                raise
            finally:
                for task in tasks:
                    if not task.done():
                        task.cancel()
                if tasks:
                    await asyncio.gather(*tasks, return_exceptions=True)
                if self._transport is not None:
                    self._transport.close()  # pipes a stray process still holds; no-op otherwise
        return ProcessOutcome(
            returncode=proc.returncode,
            timed_out=timed_out,
            cancelled=self._cancelled,
            stderr_tail=stderr_tail.decode("utf-8", "replace"),
            last_lines=list(splitter.last_lines),
            lingered=lingered,
            invocation=self.invocation,
        )

    async def _terminate(self, wait_task: asyncio.Future) -> None:
        """SIGTERM the group, give it `kill_grace` seconds, then SIGKILL it."""
        self._signal_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(wait_task), self.kill_grace)
        except TimeoutError:
            self._signal_group(signal.SIGKILL)
            await wait_task


def _open_append(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    # unbuffered: one write per chunk, visible at once; created 0600 (it holds what the agent printed)
    return open(path, "ab", buffering=0, opener=private_opener)


async def _feed_stdin(proc: asyncio.subprocess.Process, data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the agent exited without reading its prompt; its exit code says why
    finally:
        proc.stdin.close()
        try:
            await proc.stdin.wait_closed()
        except (BrokenPipeError, ConnectionResetError):
            pass


async def _pump_stdout(
    stream: asyncio.StreamReader | None, out: BinaryIO, splitter: LineSplitter
) -> None:
    assert stream is not None
    read = stream.read
    while chunk := await read(CHUNK_SIZE):
        out.write(chunk)
        splitter.feed(chunk)
    splitter.finish()


async def _pump_stderr(stream: asyncio.StreamReader | None, out: BinaryIO, tail: bytearray) -> None:
    assert stream is not None
    while chunk := await stream.read(CHUNK_SIZE):
        out.write(chunk)
        tail += chunk
        if len(tail) > STDERR_TAIL_BYTES:
            del tail[:-STDERR_TAIL_BYTES]
