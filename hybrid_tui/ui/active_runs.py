"""The attempts the app started (`RunExecution`s, each awaited by an async worker on the UI's
event loop): quitting finds the ones still going, cancels them (their work committed) and
waits for their records (DESIGN invariant 4: no orphan agent from a clean exit)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.worker import Worker

    from hybrid_tui.core.run.dispatch import RunExecution


class ActiveRuns:
    """The app's registry of attempts it started, with the worker awaiting each."""

    def __init__(self) -> None:
        self._runs: list[tuple[RunExecution, Worker[Any]]] = []

    def add(self, execution: RunExecution, worker: Worker[Any]) -> None:
        self._runs = [*self._going(), (execution, worker)]

    def _going(self) -> list[tuple[RunExecution, Worker[Any]]]:
        return [(execution, worker) for execution, worker in self._runs if not worker.is_finished]

    def active(self) -> list[RunExecution]:
        return [execution for execution, _ in self._going()]

    async def cancel_all(self, timeout: float) -> int:
        """Cancel every attempt still going and wait (at most `timeout` s each) until it is
        recorded; returns how many there were. A slow or failing one never blocks quitting."""
        going = self._going()
        for execution, _ in going:
            execution.cancel()
        for _, worker in going:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.wait(), timeout)
        return len(going)
