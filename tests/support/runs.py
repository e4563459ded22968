"""Runs made the way a user makes them: `hybrid-tui run` as a real process, the stand-in kimi
replaying a hand-made stream (it carries out the stream's WriteFile/Shell calls inside -w), and
what the run left behind: its summary, its record. Also the 30-line file whose three changes
make three hunks, for the partial-accept tests of the core and of the review screen."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from hybrid_tui.core.runs import Run, RunStore
from tests.support.cli import run_cli, standin_env
from tests.support.repos import make_repo


def agent_stream(directory: Path, name: str, calls: list[tuple[str, dict]], *, rc: int = 0) -> Path:
    """A stream for the stand-in: one assistant tool call per `calls` item, each with its
    result (the stand-in carries the call out inside -w before printing the result)."""
    lines: list[dict] = []
    for number, (tool, args) in enumerate(calls):
        call_id = f"call_{number}"
        lines.append({"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "id": call_id, "function": {"name": tool, "arguments": json.dumps(args)}}]})
        lines.append({"role": "tool", "content": "<system>Done.</system>", "tool_call_id": call_id})
    lines.append({"role": "assistant", "content": "All done."})
    path = directory / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    path.with_suffix(".rc").write_text(f"{rc}\n")
    path.with_suffix(".stderr").write_text("")
    return path


def spec_file(directory: Path, files: list[str], commands: list[str], *, title: str = "Edit the files") -> Path:
    """A spec naming `files` (action word first, e.g. "MODIFY a.txt") and `commands`."""
    text = (
        f"# Spec: 001 -- {title}\n\n## Tasks\n\n### Task 1: Do it\n\nFiles:\n"
        + "".join(f"- {f}\n" for f in files)
        + "\nRequirements:\n- Do what the files say.\n"
        + ("\nVerification:\n" + "".join(f"- `{c}`\n" for c in commands) if commands else "")
    )
    path = directory / "spec.md"
    path.write_text(text)
    return path


def run_spec(repo: Path, spec: Path, stream: Path | None = None, *extra: str, fixture: str = "kimi_success"):
    """`hybrid-tui run SPEC --json --approve-checks`: (process result, events, summary)."""
    knobs = {"KIMI_STANDIN_FIXTURE": str(stream)} if stream else {}
    result = run_cli("run", str(spec), "--json", "--approve-checks", *extra, cwd=repo, env=standin_env(fixture, **knobs))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stderr
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1]


def record(state_dir: Path, run_id: str) -> dict:
    return json.loads((state_dir / "runs" / run_id / "run.json").read_text())


def run_stream(repo: Path, tmp_path: Path, stream: Path, commands: list[str] | None = None, **knobs: str):
    """`hybrid-tui run --json` of a spec creating hello.txt, the stand-in replaying `stream`:
    (process result, events, summary)."""
    spec = spec_file(tmp_path, ["CREATE hello.txt"], commands or [])
    # A copy in HOME: the sandbox shows HOME, but not a checkout that lives under /tmp.
    replayed = Path.home() / f"stream-{stream.name}"
    shutil.copyfile(stream, replayed)
    result = run_cli("run", str(spec), "--json", "--approve-checks", cwd=repo,
                     env=standin_env("kimi_success", KIMI_STANDIN_FIXTURE=str(replayed), **knobs))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and lines[-1]["type"] == "summary", result.stderr
    return result, [e for e in lines[:-1] if e["type"] == "event"], lines[-1]


# -- a file with three hunks of change -------------------------------------------------------

LINES = [f"line {n}" for n in range(1, 31)]
ORIGINAL = "\n".join(LINES) + "\n"


def edited(**changes: str) -> str:
    """ORIGINAL with line N (1-based, `l2="..."`) replaced."""
    lines = list(LINES)
    for key, text in changes.items():
        lines[int(key[1:]) - 1] = text
    return "\n".join(lines) + "\n"


THREE_CHANGES = edited(l2="line 2 (agent)", l15="line 15 (agent)", l28="line 28 (agent)")


def make_run(tmp_path: Path, files: dict[str, str], calls: list[tuple[str, dict]], named: list[str]) -> tuple[Path, Run, RunStore]:
    repo = make_repo(tmp_path / "project", files)
    stream = agent_stream(tmp_path, "work", calls)
    result, _, summary = run_spec(repo, spec_file(tmp_path, named, []), stream)
    assert result.returncode == 0, result.stderr
    store = RunStore(Path(os.environ["HYBRID_TUI_STATE_DIR"]))
    return repo, store.load(summary["run_id"]), store
