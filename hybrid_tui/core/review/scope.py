"""Scope check: did the run change the files its spec named, and only those?

Behaviour choices:
- A changed file is *out of scope* when the spec names it in no task (CREATE, MODIFY or
  DELETE alike: the action is not compared; a MODIFY that became a delete is in scope).
- A rename touches both names: each name the spec does not mention is out of scope, and each
  name it does mention counts as touched. A copy touches only its new name.
- A named file is *untouched* when the branch did not change it (neither name of a rename).
- Paths are compared in their normal spelling (`./a//b` == `a/b`); lists come sorted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hybrid_tui.core.git import FileDiff
from hybrid_tui.core.spec.format import Spec, SpecError, normalize_path, parse_spec


@dataclass(frozen=True, slots=True)
class Scope:
    out_of_scope: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)

    def flags(self, file: FileDiff) -> bool:
        """True when this file of the diff is (wholly or by one of its names) out of scope."""
        return any(name in self.out_of_scope for name in touched_names(file))


def touched_names(file: FileDiff) -> list[str]:
    """The paths a changed file touches: both names of a rename, else its path."""
    if file.status == "renamed" and file.old_path:
        return [file.old_path, file.path]
    return [file.path]


def scope_check(spec: Spec, files: list[FileDiff]) -> Scope:
    """Out-of-scope changed files and untouched named files of `spec` against `files`."""
    named = {normalize_path(change.path) for change in spec.all_files()}
    touched = {normalize_path(name) for file in files for name in touched_names(file)}
    return Scope(out_of_scope=sorted(touched - named), untouched=sorted(named - touched))


def load_spec(spec_path: str | Path) -> Spec | None:
    """The run's spec (from its `spec.md`), or None when it cannot be read or parsed."""
    try:
        return parse_spec(Path(spec_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SpecError):
        return None

