"""The real app started on the plans screen and driven by Textual's Pilot: corpus plans dated
against a fixed NOW in Claude's plans dir, the app with a fixed clock and run id, waiting on a
condition with a deadline (never a bare sleep), and the spec screen opened from a plan."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot

from hybrid_tui.config import Settings
from hybrid_tui.core.runs import RunStore
from hybrid_tui.ui.app import HybridApp, make_app
from hybrid_tui.ui.plans.screen import PlansScreen
from hybrid_tui.ui.spec.screen import SpecScreen
from tests.support.repos import CORPUS_PLANS

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
RUN_ID = "261102-120000-aa"


def claude_plans_dir() -> Path:
    """Where plans go when nothing is configured: $CLAUDE_CONFIG_DIR/plans (tmp, see conftest)."""
    return Path(os.environ["CLAUDE_CONFIG_DIR"]) / "plans"


def add_plan(plans_dir: Path, fixture: str, *, age: float, name: str | None = None) -> Path:
    """Copy a corpus plan into `plans_dir`, dated `age` seconds before NOW."""
    target = plans_dir / (name or fixture)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CORPUS_PLANS / fixture, target)
    stamp = NOW.timestamp() - age
    os.utime(target, (stamp, stamp))
    return target


def new_app(repo: Path, *, watch: bool = False, settings: Settings | None = None,
            plans_dir: Path | None = None) -> HybridApp:
    store = RunStore(Settings().resolved_state_dir(), clock=lambda: NOW, id_factory=lambda now: RUN_ID)
    return make_app(settings or Settings(), repo=repo, plans_dir=plans_dir, store=store,
                    clock=lambda: NOW, watch_plans=watch)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail with `what` after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def plans_screen(app: HybridApp) -> PlansScreen:
    screen = app.screen
    assert isinstance(screen, PlansScreen), f"expected the plans screen, got {screen!r}"
    return screen


async def plans_shown(pilot: Pilot) -> PlansScreen:
    """Wait for the first listing, its advice badges and, when there are plans, the selected
    plan's preview."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, PlansScreen), "the plans screen")
    screen = plans_screen(pilot.app)
    await wait_until(
        pilot,
        lambda: screen.listed and screen.advised and (not screen.plans or (
            screen.shown_preview == screen.selected_plan.path and screen.preview_complete)),
        "the plan list, its advice and the preview",
    )
    return screen


def run(app: HybridApp, body: Callable[[Pilot], Awaitable[None]], size: tuple[int, int] = (80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await body(pilot)

    asyncio.run(main())


def notifications(app: HybridApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# -- the spec screen -----------------------------------------------------------------------


async def open_spec(pilot: Pilot) -> SpecScreen:
    """From the plans screen: `d` on the selected plan, then wait for the spec (or its error)."""
    await plans_shown(pilot)
    await pilot.press("d")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SpecScreen), "the spec screen")
    screen: SpecScreen = pilot.app.screen  # type: ignore[assignment]
    await wait_until(pilot, lambda: screen.source is not None, "the spec to be loaded")
    await pilot.pause()
    return screen
