"""The held-out plans (issue 13): real plans annotated by hand before the converter first ran on
them. `tests/fixtures/heldout/` and `tests/fixtures/heldout2/` were each measured once and are
development sets since (their READMEs); `tests/fixtures/heldout3/` is the held-out set now. This module checks that each set is whole and
that every plan converts into a valid spec, and prints the figures per language with
`pytest -s tests/core/test_convert_heldout.py`. It asserts no target on them: a held-out set is
for measuring, and tuning the converter to it (or editing an annotation to match a result) would
make its figures mean nothing."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from hybrid_tui.core.spec.convert import convert_plan
from hybrid_tui.core.spec.format import render_spec, validate_spec
from tests.support.conversion_scores import Totals, report, score_plan, totals
from tests.support.repos import FIXTURES

SETS = [FIXTURES / "heldout", FIXTURES / "heldout2", FIXTURES / "heldout3"]
each_set = pytest.mark.parametrize("folder", SETS, ids=lambda p: p.name)


def _manifest(folder: Path) -> dict[str, str]:
    """plan file -> language."""
    with (folder / "MANIFEST.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row["language"] for row in csv.DictReader(handle, delimiter="\t")}


def _annotations(folder: Path) -> dict[str, dict]:
    with (folder / "annotations.toml").open("rb") as handle:
        return tomllib.load(handle)


@each_set
def test_the_heldout_set_is_whole(folder: Path) -> None:
    languages = _manifest(folder)
    annotations = _annotations(folder)
    files = {path.name for path in (folder / "plans").glob("*.md")}
    assert set(languages) == files == set(annotations)
    assert len(files) >= 30
    assert sum(language != "en" for language in languages.values()) * 3 >= len(files)
    for name, annotation in annotations.items():
        assert annotation.get("note"), name
        assert all(action in ("CREATE", "MODIFY", "DELETE") for action, _ in annotation["files"]), name


@each_set
def test_every_heldout_plan_converts_into_a_valid_spec(folder: Path) -> None:
    for path in sorted((folder / "plans").glob("*.md")):
        spec = convert_plan(path.read_text(encoding="utf-8"), source=path.name)
        parsed, problems = validate_spec(render_spec(spec))
        assert parsed == spec, path.name
        assert [p for p in problems if p.severity == "error"] == [], path.name


def _line(label: str, result: Totals) -> str:
    return (f"{label:<14} plans {result.plans:>2}  recall {result.recall:.3f}  precision {result.precision:.3f}  "
            f"actions {result.action_accuracy:.3f}  commands {result.command_recall:.3f}")


@each_set
def test_the_heldout_figures_per_language(folder: Path) -> None:
    languages = _manifest(folder)
    scores = [score_plan(name, annotation, folder / "plans") for name, annotation in sorted(_annotations(folder).items())]
    by_language: dict[str, list] = {}
    for score in scores:
        by_language.setdefault(languages[score.name], []).append(score)
    lines = [report(scores), ""]
    lines.append(_line("all", totals(scores)))
    lines.append(_line("English", totals(by_language.get("en", []))))
    lines.append(_line("not English", totals([s for s in scores if languages[s.name] != "en"])))
    lines.extend(_line(language, totals(group)) for language, group in sorted(by_language.items()))
    print(f"\n{folder.name}:\n" + "\n".join(lines))
    assert sum(len(group) for group in by_language.values()) == len(scores) == len(languages)
