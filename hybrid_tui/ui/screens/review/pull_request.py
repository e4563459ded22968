"""The pull request: `P` (push the branch, open a pull request with gh) is only offered when
`pull_request.pr_available` says so (a remote and gh on PATH), worked out in a thread when the
screen opens; it asks first, then notifies the PR's URL.
"""

from __future__ import annotations

from hybrid_tui.ui.screens.confirm import ConfirmScreen


class PullRequestMixin:
    """`ReviewScreen`'s `P` key."""

    def _read_pr_available(self) -> tuple[bool, str]:
        from hybrid_tui.core.pull_request import pr_available

        return pr_available(self.run)

    def _pr_checked(self, result: tuple[bool, str]) -> None:
        self.pr_available, self.pr_reason = result
        self.refresh_bindings()

    def action_pull_request(self) -> None:
        if not (self.pr_available and self.idle):
            return

        def answer(confirmed: bool | None) -> None:
            if confirmed and self.idle:
                self.busy = "pr"
                self.clear_message()
                self.refresh_bindings()
                self._worker(self._open_pull_request, "pr")

        what = self.pr_reason[:1].upper() + self.pr_reason[1:]
        self.app.push_screen(ConfirmScreen(
            "Open a pull request?", f"{what}; the spec is its description.", "Open pull request", "Keep reviewing",
        ), answer)

    def _open_pull_request(self) -> str:
        from hybrid_tui.core.pull_request import open_pull_request

        return open_pull_request(self.hybrid.context.store, self.run)

    def _pr_opened(self, url: str) -> None:
        self.busy = None
        self.refresh_bindings()
        self.notify(url, title="Pull request opened", timeout=15)
