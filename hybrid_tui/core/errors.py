"""The two kinds of error every front end turns into a message.

`InputError` is bad input: a plan file that cannot be read, an invalid spec, a directory that is
not a git repository. It changes nothing; the CLI exits 2. `ActionFailed` is an action the
user asked for that could not be done as things stand (git refused a merge, a run is not in a
state to accept); the CLI exits 1. Both carry a message meant for the user, naming the file
and the reason, and optionally a `fix`: the exact next step.
"""

from __future__ import annotations


class HybridError(Exception):
    """Base of the user-facing errors: `str(err)` is the message shown to the user."""

    exit_code = 1

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n{self.fix}" if self.fix else self.message


class InputError(HybridError):
    """Bad input (file, flag, repository state): nothing was changed."""

    exit_code = 2


class ActionFailed(HybridError):
    """An action could not be carried out; the repository is as it was before."""

    exit_code = 1
