"""The spec: what the worker is asked to do. Models, `parse_spec`, `render_spec`, `validate_spec`.

Canonical form (DESIGN.md):

    # Spec: 001 -- <title>

    Source: <plan file name>
    Base: <branch>@<short sha>

    ## Context
    <free text>

    ## Tasks

    ### Task 1: <title> [INDEPENDENT]

    Files:
    - CREATE path/new_file.py
    - MODIFY path/existing.py
    - DELETE path/old.py

    Requirements:
    - <concrete requirement>

    Verification:
    - `pytest tests/test_new_file.py`

    ## Verification
    - `pytest --cov=src`

`render_spec(parse_spec(text)) == text` for canonical text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

Action = Literal["CREATE", "MODIFY", "DELETE"]


class FileChange(BaseModel):
    action: Action
    path: str  # repo-relative, forward slashes


class Task(BaseModel):
    number: int
    title: str
    independent: bool = False
    files: list[FileChange] = []
    requirements: list[str] = []
    verification: list[str] = []  # shell commands, without backticks


class Spec(BaseModel):
    number: int = 1
    title: str
    source: str = ""
    base: str = ""
    context: str = ""
    tasks: list[Task] = []
    verification: list[str] = []  # spec-level shell commands

    def all_commands(self) -> list[str]:
        """Every verification command, task-level first, without repeats."""
        seen: dict[str, None] = {}
        for task in self.tasks:
            for command in task.verification:
                seen.setdefault(command, None)
        for command in self.verification:
            seen.setdefault(command, None)
        return list(seen)

    def all_files(self) -> list[FileChange]:
        return [change for task in self.tasks for change in task.files]


@dataclass(frozen=True, slots=True)
class Problem:
    """A validation finding; `line` is 1-based in the spec text (0: the spec as a whole)."""

    line: int
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.severity}: {self.message}"
