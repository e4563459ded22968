"""Scoring plan -> spec conversion against a hand annotation (used by the corpus quality test
and the held-out set's report). See tests/core/test_convert_quality.py for what each figure
means."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.format import Spec


def _norm_path(path: str) -> str:
    return posixpath.normpath(path.strip())


def _norm_command(command: str) -> str:
    return " ".join(command.replace("\\\n", " ").split())


@dataclass
class PlanScore:
    name: str
    expected: int
    predicted: int  # paths in the spec, tolerated ones left out
    hits: int
    right_action: int
    commands: int
    commands_found: int
    commands_in_text: int = 0
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong_action: list[str] = field(default_factory=list)
    missed_commands: list[str] = field(default_factory=list)


def _first_actions(spec: Spec) -> dict[str, str]:
    actions: dict[str, str] = {}
    for change in spec.all_files():
        actions.setdefault(_norm_path(change.path), change.action)
    return actions


def _command_found(wanted: str, commands: list[str]) -> bool:
    wanted = _norm_command(wanted)
    for command in commands:
        command = _norm_command(command)
        if command == wanted or command.endswith(" && " + wanted):
            return True
    return False


def score_plan(name: str, annotation: dict, plans: Path) -> PlanScore:
    text = (plans / name).read_text(encoding="utf-8")
    spec = convert_plan(text, source=name)
    predicted = _first_actions(spec)
    expected = {_norm_path(path): action for action, path in annotation["files"]}
    tolerated = {_norm_path(path) for path in annotation.get("tolerated", [])}
    counted = {
        path: action
        for path, action in predicted.items()
        if path not in tolerated or path in expected
    }
    hits = [path for path in expected if path in counted]
    right = [path for path in hits if counted[path] == expected[path]]
    commands = spec.all_commands()
    wanted = annotation["commands"]
    found = [command for command in wanted if _command_found(command, commands)]
    texts = [" ".join(text.split()) for task in spec.tasks for text in (task.title, *task.requirements)]
    in_text = [c for c in wanted if any(f"`{_norm_command(c)}`" in text for text in texts)]
    return PlanScore(
        name=name,
        expected=len(expected),
        predicted=len(counted),
        hits=len(hits),
        right_action=len(right),
        commands=len(wanted),
        commands_found=len(found),
        commands_in_text=len(in_text),
        missed=sorted(set(expected) - set(counted)),
        extra=sorted(set(counted) - set(expected)),
        wrong_action=sorted(
            f"{path} ({counted[path]}, want {expected[path]})"
            for path in set(hits) - set(right)
        ),
        missed_commands=[command for command in wanted if command not in found],
    )


@dataclass(frozen=True)
class Totals:
    plans: int
    recall: float
    precision: float
    action_accuracy: float
    command_recall: float
    commands_in_text: float

    def __str__(self) -> str:
        return (
            f"{self.plans} annotated plans: path recall {self.recall:.3f}, "
            f"path precision {self.precision:.3f}, action accuracy {self.action_accuracy:.3f}, "
            f"command recall {self.command_recall:.3f}, commands in text {self.commands_in_text:.3f}"
        )


def totals(scores: list[PlanScore]) -> Totals:
    expected = sum(s.expected for s in scores)
    predicted = sum(s.predicted for s in scores)
    hits = sum(s.hits for s in scores)
    right = sum(s.right_action for s in scores)
    commands = sum(s.commands for s in scores)
    found = sum(s.commands_found for s in scores)
    return Totals(
        plans=len(scores),
        recall=hits / expected if expected else 1.0,
        precision=hits / predicted if predicted else 1.0,
        action_accuracy=right / hits if hits else 1.0,
        command_recall=found / commands if commands else 1.0,
        commands_in_text=sum(s.commands_in_text for s in scores) / commands if commands else 0.0,
    )


def report(scores: list[PlanScore]) -> str:
    lines = [
        f"{'plan':<34} {'exp':>4} {'got':>4} {'hit':>4} {'act':>4} {'cmd':>7}",
    ]
    for s in scores:
        lines.append(
            f"{s.name[:34]:<34} {s.expected:>4} {s.predicted:>4} {s.hits:>4} "
            f"{s.right_action:>4} {s.commands_found:>3}/{s.commands:<3}"
        )
        for label, items in (
            ("missed", s.missed),
            ("extra", s.extra),
            ("action", s.wrong_action),
            ("no cmd", s.missed_commands),
        ):
            for item in items:
                lines.append(f"    {label}: {item}")
    lines.append(str(totals(scores)))
    return "\n".join(lines)
