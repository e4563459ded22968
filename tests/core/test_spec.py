"""The spec format: parse/render round trip, syntax errors with line numbers, validation rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hybrid_tui.core.errors import InputError
from hybrid_tui.core.spec.format import (
    FileChange,
    Problem,
    Spec,
    SpecError,
    Task,
    check_spec,
    is_spec_text,
    parse_spec,
    render_command,
    render_spec,
    validate_spec,
)

DESIGN_EXAMPLE = """\
# Spec: 001 -- Add the widget

Source: widget-plan.md
Base: main@1a2b3c4

## Context
The widget is missing.

## Tasks

### Task 1: Create the widget [INDEPENDENT]

Files:
- CREATE path/new_file.py
- MODIFY path/existing.py
- DELETE path/old.py

Requirements:
- concrete requirement

Verification:
- `pytest tests/test_new_file.py`

## Verification
- `pytest --cov=src`
"""

MINIMAL = """\
# Spec: 002 -- Bare

## Tasks

### Task 1: Nothing listed
"""

EMPTY_SECTIONS = """\
# Spec: 003 -- Only some parts

Base: feature/x@deadbee

## Tasks

### Task 1: Files only

Files:
- MODIFY a.py

### Task 2: Requirements only

Requirements:
- say hello

### Task 3: Verification only

Verification:
- `make check`
"""

NO_TASKS = """\
# Spec: 004 -- Nothing to do

Source: plan.md

## Context
Why there is nothing.

## Tasks

## Verification
- `true`
"""

RICH = """\
# Spec: 042 -- Ünïcödé 計画 -- with dashes

Source: 計画.md
Base: main@0123abc

## Context
First paragraph, with `code`.

Second paragraph after a blank line.
```markdown
## Tasks
### Task 9: not a task, it is inside a fence
```
- a bullet in the context
### a sub-heading in the context

## Tasks

### Task 1: Multi-line requirements

Files:
- CREATE docs/説明.md
- MODIFY src/app.py

Requirements:
- first line
  second line of the same requirement

  after a blank line, still the same requirement
  ```python
  def f():
      return 1
  ```
- a nested list:
  - one
  - two
-
  a requirement whose first line is empty
- emoji 🚀 and tabs	inside

Verification:
- ``grep -n `x` file``
- `` `starts` with a backtick ``
- `python -c "print('a # not a comment')"`

### Task 2: Second [INDEPENDENT]

Files:
- DELETE old/thing.txt

### Task 3: Third

Depends on: Task 1, Task 2

Files:
- MODIFY src/app.py

## Verification
- `pytest -q`
- `npm test`
"""

BIG_NUMBER = """\
# Spec: 1234 -- Many specs later

## Tasks
"""


@pytest.mark.parametrize(
    "text", [DESIGN_EXAMPLE, MINIMAL, EMPTY_SECTIONS, NO_TASKS, RICH, BIG_NUMBER]
)
def test_canonical_text_round_trips_exactly(text: str) -> None:
    assert render_spec(parse_spec(text)) == text


def test_design_example_parses_into_the_models() -> None:
    spec = parse_spec(DESIGN_EXAMPLE)
    assert spec.number == 1
    assert spec.title == "Add the widget"
    assert spec.source == "widget-plan.md"
    assert spec.base == "main@1a2b3c4"
    assert spec.context == "The widget is missing."
    assert len(spec.tasks) == 1
    task = spec.tasks[0]
    assert (task.number, task.title, task.independent) == (1, "Create the widget", True)
    assert [(c.action, c.path) for c in task.files] == [
        ("CREATE", "path/new_file.py"),
        ("MODIFY", "path/existing.py"),
        ("DELETE", "path/old.py"),
    ]
    assert task.requirements == ["concrete requirement"]
    assert task.verification == ["pytest tests/test_new_file.py"]
    assert spec.verification == ["pytest --cov=src"]


def test_rich_spec_keeps_multiline_text_fences_and_backticks() -> None:
    spec = parse_spec(RICH)
    assert spec.title == "Ünïcödé 計画 -- with dashes"
    assert "## Tasks\n### Task 9: not a task" in spec.context
    assert spec.context.endswith("### a sub-heading in the context")
    first = spec.tasks[0]
    assert first.requirements[0] == (
        "first line\nsecond line of the same requirement\n\n"
        "after a blank line, still the same requirement\n"
        "```python\ndef f():\n    return 1\n```"
    )
    assert first.requirements[1] == "a nested list:\n- one\n- two"
    assert first.requirements[2] == "\na requirement whose first line is empty"
    assert first.verification == [
        "grep -n `x` file",
        "`starts` with a backtick",
        "python -c \"print('a # not a comment')\"",
    ]
    assert [t.independent for t in spec.tasks] == [False, True, False]
    assert [t.depends_on for t in spec.tasks] == [[], [], [1, 2]]


def test_number_renders_with_three_digits() -> None:
    text = render_spec(Spec(number=7, title="seven"))
    assert text.startswith("# Spec: 007 -- seven\n")


def test_empty_parts_are_omitted_deterministically() -> None:
    spec = Spec(title="t", tasks=[Task(number=1, title="a")])
    assert render_spec(spec) == "# Spec: 001 -- t\n\n## Tasks\n\n### Task 1: a\n"


@pytest.mark.parametrize(
    "command",
    ["pytest -q", "echo `date`", "a ``double`` b", "`leading", "trailing`", "``", " padded "],
)
def test_commands_with_backticks_survive_rendering(command: str) -> None:
    spec = Spec(title="t", verification=[command])
    assert parse_spec(render_spec(spec)).verification == [command]


def test_render_command_uses_a_longer_fence_than_the_command() -> None:
    assert render_command("ls") == "- `ls`"
    assert render_command("echo `date` now") == "- ``echo `date` now``"
    assert render_command("echo `date`") == "- `` echo `date` ``"
    assert render_command("`x`") == "- `` `x` ``"


# --------------------------------------------------------------------------------------------
# Input variants


def test_seed_file_headers_and_lenient_input() -> None:
    text = (
        "\n# Spec: 5 — seed style\r\n"
        "## Tasks\r\n"
        "### Task 1: old headers\r\n"
        "Files to create:\r\n"
        "- `src/new.py` — the new module\r\n"
        "* src/other new.py\r\n"
        "Files to modify:\r\n"
        "- src/old.py\r\n"
        "Files to delete:\r\n"
        "- `src/gone.py`\r\n"
        "Files:\r\n"
        "- modify src/lower.py\r\n"
        "Requirements:\r\n"
        "* starred bullet\r\n"
        "Verification:\r\n"
        "- pytest bare\r\n"
    )
    spec = parse_spec(text)
    assert spec.number == 5
    assert spec.title == "seed style"
    assert [(c.action, c.path) for c in spec.tasks[0].files] == [
        ("CREATE", "src/new.py"),
        ("CREATE", "src/other new.py"),
        ("MODIFY", "src/old.py"),
        ("DELETE", "src/gone.py"),
        ("MODIFY", "src/lower.py"),
    ]
    assert spec.tasks[0].requirements == ["starred bullet"]
    assert spec.tasks[0].verification == ["pytest bare"]
    rendered = render_spec(spec)
    assert "- CREATE src/new.py\n" in rendered
    assert "Files to create" not in rendered
    assert render_spec(parse_spec(rendered)) == rendered


def test_is_spec_text() -> None:
    assert is_spec_text("\n\n# Spec: 001 -- x\n")
    assert is_spec_text("  # Spec: whatever")
    assert not is_spec_text("# Plan: x\n# Spec: 001 -- y\n")
    assert not is_spec_text("")
    assert not is_spec_text("\n   \n")


# --------------------------------------------------------------------------------------------
# Syntax errors, each with its line


def _errors(text: str) -> list[tuple[int, str]]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert all(p.severity == "error" for p in caught.value.problems)
    return [(p.line, p.message) for p in caught.value.problems]


def test_missing_header() -> None:
    errors = _errors("\n\nSpec 001 -- nope\n\n## Tasks\n")
    assert errors[0][0] == 3
    assert "header" in errors[0][1]


def test_empty_text_is_an_error() -> None:
    assert _errors("")[0][0] == 1


def test_header_without_title() -> None:
    errors = _errors("# Spec: 001 -- \n\n## Tasks\n")
    assert errors == [(1, "the header has no title after '--'")]


def test_unknown_action_word() -> None:
    text = "# Spec: 001 -- t\n\n## Tasks\n\n### Task 1: a\n\nFiles:\n- MODIFY a.py\n- RENAME a.py\n"
    errors = _errors(text)
    assert len(errors) == 1
    assert errors[0][0] == 9
    assert "RENAME" in errors[0][1]


def test_file_bullet_that_is_not_action_path() -> None:
    text = (
        "# Spec: 001 -- t\n## Tasks\n### Task 1: a\n"
        "Files:\n- CREATE\nnot a bullet\n- CREATE ``\n"  # lines 5, 6, 7
    )
    errors = _errors(text)
    assert [line for line, _ in errors] == [5, 6, 7]


def test_bad_task_headings() -> None:
    text = (
        "# Spec: 001 -- t\n\n## Tasks\n\n"
        "### Tusk 1: typo\n\n"  # line 5
        "### Task one: not a number\n\n"  # line 7
        "### Task 2:\n\n"  # line 9: no title
        "### Task 3: fine\n"
        "stray text in a task\n"  # line 12
    )
    errors = _errors(text)
    assert [line for line, _ in errors] == [5, 7, 9, 12]


def test_unknown_section_and_text_before_sections() -> None:
    text = "# Spec: 001 -- t\nOwner: me\n## Notes\nhello\n## Tasks\n### Task 1: a\n"
    errors = _errors(text)
    assert [line for line, _ in errors] == [2, 3]


def test_non_bullet_requirement_and_command_lines() -> None:
    text = (
        "# Spec: 001 -- t\n## Tasks\n### Task 1: a\n"
        "Requirements:\nplain sentence\n"  # line 5
        "Verification:\n-  \n"  # line 7: empty command
        "## Verification\nmake test\n"  # line 9
    )
    assert [line for line, _ in _errors(text)] == [5, 7, 9]


def test_unclosed_fence_in_context() -> None:
    text = "# Spec: 001 -- t\n\n## Context\ntext\n```\ncode\n## Tasks\n"
    assert _errors(text) == [(5, "code fence in Context is never closed")]


def test_duplicate_section_and_meta() -> None:
    text = "# Spec: 001 -- t\nSource: a\nSource: b\n## Tasks\n## Tasks\n"
    assert [line for line, _ in _errors(text)] == [3, 5]


def test_task_heading_outside_tasks() -> None:
    text = "# Spec: 001 -- t\n\n## Context\nc\n\n## Verification\n- `x`\n### Task 1: late\n"
    errors = _errors(text)
    assert errors[0][0] == 8


def test_spec_error_is_an_input_error_naming_lines() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec("# Spec: 001 -- t\n## Tasks\n### Task 1: a\nFiles:\n- MOVE a b\n", name="s.md")
    err = caught.value
    assert isinstance(err, InputError)
    assert err.exit_code == 2
    assert "invalid spec s.md" in str(err)
    assert "line 5: error: unknown action 'MOVE'" in str(err)


# --------------------------------------------------------------------------------------------
# Validation


def _spec_text(*tasks: str, verification: str = "## Verification\n- `make test`\n") -> str:
    return "# Spec: 001 -- t\n\n## Tasks\n\n" + "\n".join(tasks) + "\n" + verification


def _found(text: str, tree: set[str] | None = None) -> list[tuple[int, str, str]]:
    _spec, problems = validate_spec(text, tree=tree)
    return [(p.line, p.severity, p.message) for p in problems]


def test_valid_spec_has_no_problems() -> None:
    spec, problems = validate_spec(DESIGN_EXAMPLE)
    assert spec is not None and problems == []


def test_validate_reports_syntax_errors_without_raising() -> None:
    spec, problems = validate_spec("# Spec: 001 -- t\n## Tasks\n### Task x\n")
    assert spec is None
    assert [(p.line, p.severity) for p in problems] == [(3, "error")]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/etc/passwd", "absolute"),
        ("C:/x.py", "absolute"),
        ("../outside.py", "escapes"),
        ("a/../../outside.py", "escapes"),
        ("~/.bashrc", "home"),
        ("src\\win.py", "backslash"),
        ("src/", "directory"),
    ],
)
def test_bad_paths_are_errors_on_their_line(path: str, reason: str) -> None:
    text = _spec_text(f"### Task 1: a\n\nFiles:\n- MODIFY ok.py\n- MODIFY {path}\n")
    problems = _found(text)
    assert [(line, sev) for line, sev, _ in problems] == [(9, "error")]
    assert reason in problems[0][2]


def test_a_path_that_stays_inside_is_fine() -> None:
    assert _found(_spec_text("### Task 1: a\nFiles:\n- MODIFY a/../b.py\n- MODIFY ./c.py\n")) == []


def test_same_path_twice_in_one_task() -> None:
    text = _spec_text("### Task 1: a\nFiles:\n- MODIFY a.py\n- CREATE ./a.py\n")
    assert [(line, sev) for line, sev, _ in _found(text)] == [(8, "error")]


def test_same_path_in_two_independent_tasks_is_an_error() -> None:
    text = _spec_text(
        "### Task 1: a [INDEPENDENT]\nFiles:\n- MODIFY a.py\n",
        "### Task 2: b [INDEPENDENT]\nFiles:\n- MODIFY b.py\n- MODIFY a.py\n",
    )
    problems = _found(text)
    assert [(line, sev) for line, sev, _ in problems] == [(12, "error")]
    assert "task 1" in problems[0][2]


# -- Depends on ------------------------------------------------------------------------------------


def test_depends_on_is_read_leniently_and_rendered_canonically() -> None:
    text = _spec_text(
        "### Task 1: a\nFiles:\n- CREATE a.py\n",
        "### Task 2: b\nFiles:\n- CREATE b.py\n",
        "### Task 3: c\ndepends on: 1 and task 2\nFiles:\n- CREATE c.py\n",
    )
    spec = parse_spec(text)
    assert spec.tasks[2].depends_on == [1, 2] and spec.tasks[0].depends_on == []
    assert "### Task 3: c\n\nDepends on: Task 1, Task 2\n\nFiles:" in render_spec(spec)
    assert _found(text) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Depends on: Task 3", "task 2 depends on itself"),
        ("Depends on: Task 9", "task 2 depends on task 9, which does not exist"),
        ("Depends on: the parser", "'Depends on:' expects task numbers ('Task 1, Task 2'), not 'the parser'"),
        ("Depends on:", "'Depends on:' names no task: write 'Depends on: Task 1, Task 2'"),
    ],
)
def test_bad_depends_on_is_an_error_on_its_line(line: str, message: str) -> None:
    text = _spec_text("### Task 1: a\nFiles:\n- CREATE a.py\n", f"### Task 3: b\n{line}\nFiles:\n- CREATE b.py\n")
    found = [(n, sev, msg) for n, sev, msg in _found(text) if "expected 2" not in msg]
    if "itself" in message:
        message = "task 3 depends on itself"
    assert found == [(10, "error", message.replace("task 2 depends", "task 3 depends"))]


def test_a_dependency_cycle_and_independent_with_depends_on_are_errors() -> None:
    text = _spec_text(
        "### Task 1: a\nDepends on: Task 3\nFiles:\n- CREATE a.py\n",
        "### Task 2: b\nDepends on: Task 1\nFiles:\n- CREATE b.py\n",
        "### Task 3: c [INDEPENDENT]\nDepends on: Task 2\nFiles:\n- CREATE c.py\n",
    )
    found = _found(text)
    assert (6, "error", "tasks depend on each other in a cycle: task 1 -> task 3 -> task 2 -> task 1") in found
    assert (16, "error", "task 3 is [INDEPENDENT] but depends on task 2: drop one of the two") in found
    assert sum("cycle" in message for _, _, message in found) == 3
    with pytest.raises(SpecError):
        parse_spec(text.replace("Depends on: Task 3", "Depends on: Task 3\nDepends on: Task 2"))


def test_same_path_in_two_tasks_is_fine_unless_both_independent() -> None:
    text = _spec_text(
        "### Task 1: a [INDEPENDENT]\nFiles:\n- MODIFY a.py\n",
        "### Task 2: b\nFiles:\n- MODIFY a.py\n",
    )
    assert _found(text) == []


def test_tree_warnings() -> None:
    tree = {"exists.py", "also.py"}
    text = _spec_text(
        "### Task 1: a\nFiles:\n"
        "- MODIFY missing.py\n"  # 7
        "- DELETE gone.py\n"  # 8
        "- CREATE exists.py\n"  # 9
        "- MODIFY also.py\n"
        "- CREATE fresh.py\n",
        "### Task 2: b\nFiles:\n"
        "- MODIFY fresh.py\n"  # 15: created by task 1, fine
        "- DELETE also.py\n",
        "### Task 3: c\nFiles:\n- MODIFY also.py\n",  # 20: deleted by task 2
    )
    problems = _found(text, tree)
    assert [(line, sev) for line, sev, _ in problems] == [
        (7, "warning"),
        (8, "warning"),
        (9, "warning"),
        (20, "warning"),
    ]
    assert "CREATE exists.py: the file exists" in problems[2][2]
    assert _found(text, None) == []  # without a tree these checks are skipped


def test_task_without_files_and_spec_without_commands_warn() -> None:
    text = _spec_text("### Task 1: nothing\n\nRequirements:\n- think\n", verification="")
    assert _found(text) == [
        (0, "warning", "no verification command anywhere in the spec"),
        (5, "warning", "task 1 lists no files"),
    ]


def test_a_task_level_command_is_enough() -> None:
    text = _spec_text(
        "### Task 1: a\nFiles:\n- MODIFY a.py\nVerification:\n- `make`\n", verification=""
    )
    assert _found(text) == []


def test_task_numbers_out_of_sequence_warn() -> None:
    text = _spec_text(
        "### Task 1: a\nFiles:\n- MODIFY a.py\n", "### Task 3: b\nFiles:\n- MODIFY b.py\n"
    )
    assert _found(text) == [(9, "warning", "task number 3: expected 2")]


def test_check_spec_raises_on_errors_only() -> None:
    warn_only = _spec_text("### Task 1: a\n", verification="")
    assert check_spec(warn_only).title == "t"
    with pytest.raises(SpecError) as caught:
        check_spec(_spec_text("### Task 1: a\nFiles:\n- MODIFY /abs.py\n"))
    assert caught.value.problems == [
        Problem(7, "error", "'/abs.py' is absolute: paths are relative to the repository root")
    ]


def test_a_thousand_line_spec_validates_cleanly() -> None:
    """A large generated spec validates with no problems (speed: bench/bench_convert.py)."""
    tasks = [
        Task(
            number=i + 1,
            title=f"task {i}",
            files=[FileChange(action="MODIFY", path=f"src/m{i}_{j}.py") for j in range(3)],
            requirements=[f"do thing {k}\nin detail" for k in range(3)],
            verification=[f"pytest tests/test_{i}.py"],
        )
        for i in range(55)
    ]
    text = render_spec(Spec(title="big", context="line\n" * 100, tasks=tasks))
    assert text.count("\n") >= 1000
    tree = {f"src/m{i}_{j}.py" for i in range(55) for j in range(3)}
    assert validate_spec(text, tree=tree)[1] == []


# --------------------------------------------------------------------------------------------
# Model -> text -> model, for generated specs

_WORD = st.text(
    alphabet=st.characters(
        whitelist_categories=("Lu", "Ll", "Nd", "Lo"),
        whitelist_characters="-_.,:;!?()'\"`#*+=<>@$%&",
    ),
    min_size=1,
    max_size=12,
)
_LINE = st.lists(_WORD, min_size=1, max_size=6).map(" ".join)
_PATH = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=8).filter(
        lambda part: part not in (".", "..")
    ),
    min_size=1,
    max_size=4,
).map("/".join)
_REQUIREMENT = (
    st.lists(st.one_of(_LINE, st.just("")), min_size=1, max_size=4)
    .map("\n".join)
    .filter(lambda r: r.strip() and r.split("\n")[-1].strip())
)
_TASK = st.builds(
    Task,
    number=st.just(0),
    title=_LINE,
    independent=st.booleans(),
    depends_on=st.lists(st.integers(min_value=1, max_value=9), unique=True, max_size=2),
    files=st.lists(
        st.builds(FileChange, action=st.sampled_from(["CREATE", "MODIFY", "DELETE"]), path=_PATH),
        max_size=3,
    ),
    requirements=st.lists(_REQUIREMENT, max_size=3),
    verification=st.lists(_LINE, max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(
    title=_LINE,
    number=st.integers(min_value=0, max_value=5000),
    source=st.one_of(st.just(""), _LINE),
    context=st.one_of(st.just(""), st.lists(_LINE, min_size=1, max_size=4).map("\n".join)),
    tasks=st.lists(_TASK, max_size=3),
    verification=st.lists(_LINE, max_size=3),
)
def test_generated_specs_survive_render_and_parse(
    title: str, number: int, source: str, context: str, tasks: list[Task], verification: list[str]
) -> None:
    for index, task in enumerate(tasks, start=1):
        task.number = index
    spec = Spec(
        number=number,
        title=title,
        source=source,
        context=context,
        tasks=tasks,
        verification=verification,
    )
    text = render_spec(spec)
    assert parse_spec(text) == spec
    assert render_spec(parse_spec(text)) == text


_SPEC_LINES = st.sampled_from(
    [
        "# Spec: 001 -- t",
        "# Spec: x",
        "## Context",
        "## Tasks",
        "## Verification",
        "## Other",
        "### Task 1: a",
        "### Task 2: b [INDEPENDENT]",
        "### Task",
        "Files:",
        "Files to create:",
        "Requirements:",
        "Verification:",
        "- CREATE a.py",
        "- MODIFY ../x",
        "- DELETE",
        "- `x`",
        "- ``",
        "-",
        "  continued",
        "```",
        "~~~",
        "Source: s",
        "Base:",
        "",
        "text",
        "\t",
        "\r",
        "- RENAME a",
        "* b",
        "- `` ` ``",
    ]
)


_EDIT = st.tuples(
    st.sampled_from(["insert", "delete", "replace"]),
    st.integers(min_value=0, max_value=80),
    st.one_of(_SPEC_LINES, st.text(max_size=20)),
)


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from([DESIGN_EXAMPLE, EMPTY_SECTIONS, NO_TASKS, RICH]),
    edits=st.lists(_EDIT, max_size=4),
    tree=st.one_of(st.none(), st.just({"path/existing.py", "a.py"})),
)
def test_validate_never_raises(
    base: str, edits: list[tuple[str, int, str]], tree: set[str] | None
) -> None:
    """The editor validates whatever is typed: an edited spec gives problems, never an
    exception; whatever parses renders to canonical text that parses back to the same spec."""
    lines = base.split("\n")
    for op, index, line in edits:
        index %= len(lines) + (op == "insert")
        if op == "insert":
            lines.insert(index, line)
        elif op == "delete" and len(lines) > 1:
            del lines[index]
        else:
            lines[index % len(lines)] = line
    spec, problems = validate_spec("\n".join(lines), tree=tree)
    assert all(isinstance(p, Problem) and p.line >= 0 for p in problems)
    if spec is not None:
        assert parse_spec(render_spec(spec)) == spec


def test_the_readme_format_section_shows_a_canonical_valid_spec() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The spec format", 1)[1]
    example = section.split("```markdown\n", 1)[1].split("\n```\n", 1)[0] + "\n"
    spec, problems = validate_spec(example)
    assert spec is not None and problems == []
    assert render_spec(spec) == example and spec.tasks[1].depends_on == [1]


def test_a_long_dependency_chain_validates_without_recursion() -> None:
    tasks = [f"### Task {n}: t{n}\nDepends on: Task {n - 1}\nFiles:\n- CREATE f{n}.py\n" for n in range(2, 1502)]
    text = _spec_text("### Task 1: t1\nDepends on: Task 1501\nFiles:\n- CREATE f1.py\n", *tasks)
    found = _found(text)
    assert any("cycle" in message for _, _, message in found)


def test_depends_on_may_follow_the_files_and_say_none() -> None:
    text = _spec_text(
        "### Task 1: a\nFiles:\n- CREATE a.py\n",
        "### Task 2: b\nFiles:\n- CREATE b.py\nDepends on: Tasks 1\n",
        "### Task 3: c\nDepends on: none\nFiles:\n- CREATE c.py\n",
    )
    spec = parse_spec(text)
    assert [t.depends_on for t in spec.tasks] == [[], [1], []] and _found(text) == []
