"""A run the TUI is executing: `LiveRun` drives one `RunExecution` off the UI thread (a first
attempt, or with `revision=True` the run sent back to its agent on the prepared revision).

Why a thread with its own asyncio loop rather than an async worker on the UI loop:
`RunExecution.start` does blocking git work before and after the agent (checkout fingerprint,
commit, run record), and the issue asks that git and subprocess work never run on the UI
thread. So the screen starts `LiveRun.run_blocking` in a thread worker; inside, a private
event loop runs the agent process and an `EventBatcher` (on that loop) coalesces its events,
handing each batch to `sink` (the screen posts it to itself as a Message: thread-safe).

Behaviour choices:
- `cancel()` may be called from any thread, before or during the run: it reaches
  `RunExecution.cancel` on the run's own loop, so the agent is stopped and its work committed,
  the run marked cancelled.
- `wait()` (async, any loop) returns when the execution has finished, its record written.
- The app keeps every `LiveRun` in `LiveRuns`, so quitting can find the ones still going
  (DESIGN invariant 4: no orphan agent from a clean exit).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hybrid_tui.agents.base import Agent
    from hybrid_tui.agents.events import AgentEvent
    from hybrid_tui.core.runs import Run, RunStore
    from hybrid_tui.ui.widgets.event_log import EventBatcher


class LiveRun:
    """One `RunExecution` on its own thread and event loop."""

    def __init__(
        self,
        store: RunStore,
        run: Run,
        agent: Agent,
        *,
        timeout: float,
        sink: Callable[[list[AgentEvent]], None],
        check_timeout: float | None = None,
        approved_checks: list[str] | None = None,
        interval: float = 1 / 30,
        revision: bool = False,
        sandbox: str = "auto",
        check_network: bool = False,
    ) -> None:
        """`check_timeout`: seconds for each of the spec's checks, which run after the agent
        finished (their output streams to `sink` too); None runs no checks. `approved_checks`:
        the checks the user approved (None: not approved, so skipped). `revision`:
        the agent works on the revision `revise.prepare_revision` prepared (its session
        resumed, on the same branch)."""
        # GitPython comes with dispatch: imported here, never before the first frame.
        from hybrid_tui.core.dispatch import RunExecution

        self.execution = RunExecution(
            store, run, agent, timeout=timeout, on_events=self._on_events, check_timeout=check_timeout,
            approved_checks=approved_checks, sandbox=sandbox, check_network=check_network, revision=revision,
        )
        self._sink = sink
        self._interval = interval
        self._batcher: EventBatcher | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel_requested = False
        self.done: Future[Run] = Future()

    @property
    def run(self) -> Run:
        return self.execution.run

    @property
    def running(self) -> bool:
        return not self.done.done()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    @property
    def steps(self) -> int:
        """Steps (model requests: Kimi's steps, Claude's turns) the agent took so far (read
        across threads: a plain int)."""
        return self.execution.parser.steps

    def run_blocking(self) -> Run:
        """Run the execution to its end on a private loop (call in a thread worker)."""
        try:
            run = asyncio.run(self._main())
        except BaseException as err:
            self.done.set_exception(err)
            raise
        self.done.set_result(run)
        return run

    async def _main(self) -> Run:
        from hybrid_tui.ui.widgets.event_log import EventBatcher

        batcher = self._batcher = EventBatcher(self._sink, interval=self._interval)
        with self._lock:
            self._loop = asyncio.get_running_loop()
            cancel_now = self._cancel_requested
        if cancel_now:
            self.execution.cancel()
        try:
            return await self.execution.start()
        finally:
            batcher.flush()
            with self._lock:
                self._loop = None

    def _on_events(self, events: list[AgentEvent]) -> None:
        assert self._batcher is not None  # only called while `_main` runs
        self._batcher.add(events)

    def cancel(self) -> None:
        """Stop the agent (thread-safe); its work is committed, the run marked cancelled."""
        with self._lock:
            self._cancel_requested = True
            loop = self._loop
            if loop is not None:
                loop.call_soon_threadsafe(self.execution.cancel)

    async def wait(self, timeout: float | None = None) -> Run:
        """Wait until the execution has ended (its commit made, its record written)."""
        return await asyncio.wait_for(asyncio.wrap_future(self.done), timeout)


class LiveRuns:
    """The app's registry of runs it started: quitting asks about the ones still going."""

    def __init__(self) -> None:
        self._runs: list[LiveRun] = []

    def add(self, live: LiveRun) -> None:
        self._runs = [r for r in self._runs if r.running] + [live]

    def active(self) -> list[LiveRun]:
        return [r for r in self._runs if r.running]

    def cancel_all(self) -> list[LiveRun]:
        """Cancel every run still going; returns them (to wait on)."""
        active = self.active()
        for live in active:
            live.cancel()
        return active
