"""Hostile bytes: control characters and escape sequences from the agent, a plan, a spec's
checks and git never reach the terminal raw (DESIGN.md, safety invariant 6; issue 10, point 5).

The CLI is driven as a real process with the stand-in kimi replaying
`hostile_escapes.jsonl` (ESC ] title sequences, a screen clear, a C1 CSI, DEL, a bidi override,
a file whose name holds ESC); its stdout and stderr must hold no control character but tab and
newline, and show the sequences as `\\x1b...` text. `--json` must stay JSON that decodes to the
exact text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hybrid_tui.core.inert import inert, inert_json, inert_output, is_inert
from tests.support.cli import run_cli, standin_env

ESC = "\x1b"
# What a terminal could obey: every C0 control but tab and newline, DEL, C1, bidi controls.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE_PLAN = f"""\
# Add a greeting {ESC}]0;PWNED-PLAN\x07{ESC}[2J

## Context
The app needs a greeting file.

## Changes

### 1. `hello.txt`
Create it with a friendly line.

## Verification
- `python3 -c "print('check', chr(27) + ']0;PWNED-CHECK' + chr(7), 'out')"`
"""


def assert_inert(text: str) -> None:
    found = sorted({hex(ord(c)) for c in RAW.findall(text)})
    assert not found, f"raw control characters reached the terminal: {found}\n{text!r}"


# -- the rule ------------------------------------------------------------------------------------


def test_controls_are_shown_as_escapes_and_tab_and_newline_kept() -> None:
    assert inert(f"a{ESC}]0;t\x07b") == "a\\x1b]0;t\\x07b"
    assert inert("c\x9b2Jd\x7fe\x00f\rg") == "c\\x9b2Jd\\x7fe\\x00f\\x0dg"
    assert inert("tab\there\nnext") == "tab\there\nnext"
    assert inert("tab\there\nnext", one_line=True) == "tab\\x09here\\x0anext"
    assert inert("ls \u202etxt.exe") == "ls \\u202etxt.exe"
    assert inert("plain, ünïcode ✓ 漢字") == "plain, ünïcode ✓ 漢字"


def test_inert_is_idempotent_and_leaves_nothing_raw() -> None:
    every = "".join(map(chr, range(0xA0))) + "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    once = inert(every)
    assert inert(once) == once
    assert_inert(once.replace("\t", "").replace("\n", ""))
    assert is_inert(once) and not is_inert(every)
    assert is_inert(inert(every, one_line=True), one_line=True)


def test_program_output_drops_colours_and_shows_other_sequences() -> None:
    assert inert_output(f"{ESC}[1;31mFAILED{ESC}[0m test_x") == "FAILED test_x"
    assert inert_output(f"{ESC}[2J{ESC}]0;t{ESC}\\") == "\\x1b[2J\\x1b]0;t\\x1b\\"


def test_inert_json_is_the_same_json_value_with_nothing_raw() -> None:
    value = {"text": f"{ESC}]0;t\x07 \x9b6n \x7f \u202eabc", "n": 1}
    dumped = inert_json(json.dumps(value, ensure_ascii=False))
    assert_inert(dumped)
    assert json.loads(dumped) == value


# -- the CLI ---------------------------------------------------------------------------------------


def _approval(repo: Path) -> list[str]:
    """`--approve-checks` where `run` has it (the checks need the user's approval there)."""
    return ["--approve-checks"] if "--approve-checks" in run_cli("run", "--help", cwd=repo).stdout else []


@pytest.fixture
def hostile_run(repo: Path, tmp_path: Path) -> tuple[Path, str, object]:
    """A plain `hybrid-tui run` on the hostile plan with the hostile stream; (plan, run id, result)."""
    plan = tmp_path / "hostile.md"
    plan.write_text(HOSTILE_PLAN)
    result = run_cli("run", str(plan), *_approval(repo), cwd=repo, env=standin_env("hostile_escapes"))
    assert result.returncode in (0, 1), result.stderr
    run_id = re.search(r"^run (\d{6}-\d{6}-[a-z0-9]{2})", result.stdout, re.MULTILINE).group(1)
    return plan, run_id, result


def test_run_shows_the_agent_the_plan_and_the_checks_inert(hostile_run) -> None:
    _, _, result = hostile_run
    assert_inert(result.stdout)
    assert_inert(result.stderr)
    out = result.stdout
    assert "\\x1b]0;PWNED-TEXT\\x07" in out  # the agent's text, shown, not obeyed
    assert "\\x1b[2J\\x1b[H" in out and "\\x9b6n" in out and "\\x7f" in out and "\\u202eevil" in out
    assert "RED" in out and "\\x1b[31m" not in out  # its colours are dropped
    assert "\\x1b]0;PWNED-RESULT\\x07" in out and "\\x1b]0;PWNED-RAW\\x07" in out
    assert "\\x1b]0;PWNED-CHECK\\x07" in out  # the check's output


def test_runs_diff_and_verify_show_titles_names_and_output_inert(hostile_run, repo: Path) -> None:
    _, run_id, _ = hostile_run
    runs = run_cli("runs", cwd=repo)
    assert runs.returncode == 0, runs.stderr
    assert_inert(runs.stdout)
    assert "\\x1b]0;PWNED-PLAN\\x07" in runs.stdout

    diff = run_cli("diff", run_id, cwd=repo)
    assert diff.returncode == 0, diff.stderr
    assert_inert(diff.stdout)
    assert "PWNED-NAME" in diff.stdout and "\\x1b]0;PWNED-CONTENT\\x07" in diff.stdout

    verify = run_cli("verify", run_id, cwd=repo)
    assert_inert(verify.stdout)
    assert_inert(verify.stderr)


def test_json_outputs_decode_to_the_exact_text_with_nothing_raw(hostile_run, repo: Path, tmp_path: Path) -> None:
    plan, run_id, _ = hostile_run
    (plans_dir := tmp_path / "plans").mkdir()
    (plans_dir / "hostile.md").write_text(HOSTILE_PLAN)
    for args in (["runs", "--json"], ["diff", run_id, "--json"], ["plans", "--plans-dir", str(plans_dir), "--json"]):
        result = run_cli(*args, cwd=repo)
        assert result.returncode == 0, result.stderr
        assert_inert(result.stdout)
        data = json.loads(result.stdout)
        if args[0] == "runs":
            assert f"{ESC}]0;PWNED-PLAN\x07" in data[0]["title"]  # the record's exact title
        elif args[0] == "diff":
            assert f"{ESC}]0;PWNED-CONTENT\x07" in data["diff"]
        else:
            assert data[0]["title"].startswith(f"Add a greeting {ESC}]0;PWNED-PLAN")
    run = run_cli("run", str(plan), "--json", cwd=repo, env=standin_env("hostile_escapes"))
    assert_inert(run.stdout)
    texts = [json.loads(line).get("text", "") for line in run.stdout.splitlines()]
    assert any(f"{ESC}]0;PWNED-TEXT\x07" in text and "\u202eevil" in text and "\x9b6n" in text for text in texts)


def test_plans_and_errors_show_plan_titles_and_paths_inert(repo: Path, tmp_path: Path) -> None:
    plans_dir = tmp_path / "plans"
    plans_dir.mkdir()
    (plans_dir / "hostile.md").write_text(HOSTILE_PLAN)
    listed = run_cli("plans", "--plans-dir", str(plans_dir), cwd=repo)
    assert listed.returncode == 0, listed.stderr
    assert_inert(listed.stdout)
    assert "Add a greeting \\x1b]0;PWNED-PLAN\\x07\\x1b[2J" in listed.stdout

    missing = tmp_path / f"no{ESC}]0;PWNED-PATH\x07.md"
    refused = run_cli("run", str(missing), cwd=repo)
    assert refused.returncode == 2
    assert_inert(refused.stderr)
    assert "no\\x1b]0;PWNED-PATH\\x07.md" in refused.stderr

    checked = tmp_path / "spec.md"
    checked.write_text(f"# Spec: 001 -- t{ESC}]0;PWNED-SPEC\x07\n\nbroken {ESC}[2J\n")
    result = run_cli("check", str(checked), cwd=repo)
    assert_inert(result.stdout)
    assert_inert(result.stderr)
