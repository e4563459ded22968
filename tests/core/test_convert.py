"""Plan -> spec conversion: the classic plan shape exactly, the rules one by one, the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybrid_tui.core.spec.convert import (
    commands_in,
    convert_plan,
    looks_like_command,
    path_candidates,
    scan,
    shell_commands,
)
from hybrid_tui.core.spec.convert.commands import looks_like_shell
from hybrid_tui.core.spec.format import parse_spec, render_spec, validate_spec
from tests.support.repos import CORPUS_PLANS, git, make_repo

PLAN_01 = CORPUS_PLANS / "01-fix-delete-types.md"
CORPUS = sorted(CORPUS_PLANS.glob("*.md"))

SRC_FILES = [
    "src/features/object-types/hooks/useObjectTypes.ts",
    "src/features/object-types/components/ObjectTypeManager.tsx",
    "src/features/sidebar/components/TypeSection.tsx",
    "src/shared/lib/data/local.ts",
]


def _tree(repo: Path) -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines())


def _files(task) -> list[tuple[str, str]]:
    return [(change.action, change.path) for change in task.files]


def _convert(text: str, **kwargs) -> object:
    return convert_plan(text, source=kwargs.pop("source", "plan.md"), **kwargs)


# --------------------------------------------------------------------------------------------
# The classic plan-mode shape


@pytest.fixture
def plan01_tree(tmp_path: Path) -> set[str]:
    files = {path: "// existing\n" for path in SRC_FILES}
    files[".claude/docs/bugs/log.md"] = "# Bugs\n"
    files["supabase/migrations/019_previous.sql"] = "-- previous\n"
    return _tree(make_repo(tmp_path / "swashbuckler", files))


def test_plan01_tasks_files_and_actions(plan01_tree: set[str]) -> None:
    spec = convert_plan(
        PLAN_01.read_text(),
        source=PLAN_01.name,
        number=3,
        base="main@8e44196",
        tree=plan01_tree,
    )
    assert (spec.number, spec.source, spec.base) == (3, PLAN_01.name, "main@8e44196")
    assert spec.title == "Fix Delete Types Not Working"
    # one task per numbered `### N.` section under Changes
    assert [task.title for task in spec.tasks] == [
        "Migration",  # the heading minus its path
        SRC_FILES[0],  # a heading that is just a path: the path
        SRC_FILES[1],
        SRC_FILES[2],
        SRC_FILES[3],
        "Bug log",
    ]
    assert [task.number for task in spec.tasks] == [1, 2, 3, 4, 5, 6]
    assert [_files(task) for task in spec.tasks] == [
        [
            ("CREATE", "supabase/migrations/020_cascade_delete_types.sql")
        ],  # not in the tree
        [("MODIFY", SRC_FILES[0])],
        [("MODIFY", SRC_FILES[1])],
        [("MODIFY", SRC_FILES[2])],
        [("MODIFY", SRC_FILES[3])],
        [("MODIFY", ".claude/docs/bugs/log.md")],
    ]
    assert all(task.independent for task in spec.tasks)
    assert spec.verification == ["npx tsc --noEmit", "npx vitest run", "npm run lint"]


def test_plan01_context_and_requirements() -> None:
    text = PLAN_01.read_text()
    spec = convert_plan(text, source=PLAN_01.name)
    expected = text.split("## Context\n", 1)[1].split("\n## Changes", 1)[0].strip()
    assert spec.context == expected
    assert spec.context.startswith(
        "Deleting a type from the settings page silently fails."
    )
    assert spec.tasks[1].requirements == [
        "Change `remove()` to return error string or null so callers can react:",
        "Return type: `Promise<string | null>` (error message or null on success)",
        "On error, return `result.error.message`",
        "Update `UseObjectTypesReturn` interface",
    ]
    assert spec.tasks[0].requirements[-1] == (
        "(`share_exclusions.excluded_type_id` already has CASCADE.)"
    )


def test_plan01_without_a_tree_defaults_to_modify_but_its_numbered_migration_is_new() -> None:
    spec = convert_plan(PLAN_01.read_text(), source=PLAN_01.name)
    actions = {change.path: change.action for change in spec.all_files()}
    assert actions.pop("supabase/migrations/020_cascade_delete_types.sql") == "CREATE"  # as annotated
    assert set(actions.values()) == {"MODIFY"}
    assert len(spec.all_files()) == 6


def test_plan01_renders_a_valid_spec_without_warnings(plan01_tree: set[str]) -> None:
    spec = convert_plan(PLAN_01.read_text(), source=PLAN_01.name, tree=plan01_tree)
    text = render_spec(spec)
    parsed, problems = validate_spec(text, tree=plan01_tree)
    assert problems == []
    assert parsed == spec
    assert "### Task 1: Migration [INDEPENDENT]\n\nFiles:\n- CREATE supabase/" in text


# --------------------------------------------------------------------------------------------
# Structure


def test_fenced_hash_lines_are_not_headings() -> None:
    plan = """\
```text
# Not The Title
```

# Real Title

## Context
Why.

## Changes

### 1. Edit `src/a.py`
Add this:
```python
# Spec: 999 -- not a header
## Verification
### 2. `src/fake.py`
- `npm test`
```

## Verification
- `pytest -q`
"""
    spec = _convert(plan)
    assert spec.title == "Real Title"
    assert [task.title for task in spec.tasks] == ["Edit"]
    assert _files(spec.tasks[0]) == [("MODIFY", "src/a.py")]
    assert spec.verification == ["pytest -q"]
    assert spec.tasks[0].requirements == [
        (
            "Add this:\n```python\n# Spec: 999 -- not a header\n## Verification\n"
            "### 2. `src/fake.py`\n- `npm test`\n```"
        )
    ]
    assert [h.text for h in scan(plan).headings] == [
        "Real Title",
        "Context",
        "Changes",
        "1. Edit `src/a.py`",
        "Verification",
    ]


def test_step_headings_become_tasks_with_their_own_verification() -> None:
    plan = """\
# Two steps

## Step 1: Parser
Create `pkg/parser.py`.

### Verification
```bash
pytest tests/test_parser.py
```

## Step 2 — Wire it
- Call the parser from `pkg/cli.py`

**Verify:**
- `python -m pkg --help`
- Check the output by eye
"""
    spec = _convert(plan)
    assert [task.title for task in spec.tasks] == ["Parser", "Wire it"]
    assert _files(spec.tasks[0]) == [("CREATE", "pkg/parser.py")]
    assert spec.tasks[0].verification == ["pytest tests/test_parser.py"]
    assert spec.tasks[1].verification == ["python -m pkg --help"]
    assert spec.tasks[1].requirements == [
        "Call the parser from `pkg/cli.py`",
        "Check the output by eye",
    ]
    assert spec.verification == []


def test_numbered_list_under_a_steps_section() -> None:
    plan = """\
# List plan

## Tasks
1. **Shared util** — create `src/lib/util.ts` with `f()`.
   - keep it pure
2. Use it in `src/app.ts`: replace the inline copy.
3. **Tests** — extend `src/app.test.ts`.
"""
    spec = _convert(plan)
    assert [task.title for task in spec.tasks] == [
        "Shared util",
        "Use it in `src/app.ts`",
        "Tests",
    ]
    assert spec.tasks[0].requirements == [
        "**Shared util** — create `src/lib/util.ts` with `f()`.",
        "keep it pure",
    ]
    assert _files(spec.tasks[0]) == [("CREATE", "src/lib/util.ts")]


def test_numbered_table_under_a_steps_section() -> None:
    plan = """\
# Table plan

## Steps

| # | Change | Files |
|---|--------|-------|
| 1 | Skeleton: package and config | `pkg/package.json`, `pkg/tsconfig.json` |
| 2 | Client | `pkg/src/client.ts` |
"""
    spec = _convert(plan)
    assert [task.title for task in spec.tasks] == ["Skeleton", "Client"]
    assert _files(spec.tasks[0]) == [  # a skeleton step scaffolds pkg/: its files are new
        ("CREATE", "pkg/package.json"),
        ("CREATE", "pkg/tsconfig.json"),
    ]


def test_a_plan_without_steps_becomes_one_task_with_every_path() -> None:
    plan = """\
# Tidy the config

## Context
The loader in `app/config.py` reads `settings.toml` twice.

## Notes
- Read it once and cache it in `app/cache.py`.
- Also touch `docs/config.md`.

## Verification
- `pytest tests/test_config.py`
"""
    spec = _convert(plan)
    assert len(spec.tasks) == 1
    task = spec.tasks[0]
    assert task.title == "Tidy the config"
    assert sorted(c.path for c in task.files) == [
        "app/cache.py",
        "app/config.py",
        "docs/config.md",
    ]  # settings.toml is only read ("reads `settings.toml` twice")
    assert "Read it once and cache it in `app/cache.py`." in task.requirements
    assert spec.verification == ["pytest tests/test_config.py"]
    assert spec.context == "The loader in `app/config.py` reads `settings.toml` twice."


def test_title_falls_back_to_the_file_stem() -> None:
    spec = convert_plan("## Fix\n- edit `a.py`\n", source="plans/quiet-river.md")
    assert spec.title == "quiet-river"
    spec = convert_plan("", source="")
    assert spec.title == "Untitled plan"
    assert validate_spec(render_spec(spec))[0] is not None


def test_independent_only_for_tasks_sharing_no_file() -> None:
    plan = """\
# Shared

## Changes

### 1. First
Edit `a.py` and `b.py`.

### 2. Second
Edit `b.py`.

### 3. Third
Edit `c.py`.

### 4. Fourth
Think hard.
"""
    spec = _convert(plan)
    assert [task.independent for task in spec.tasks] == [False, False, True, False]


# --------------------------------------------------------------------------------------------
# Paths and actions


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("src/app.ts", (("src/app.ts", False),)),
        ("server/src/app.ts:96", (("server/src/app.ts", False),)),
        ("./scripts/run.sh:10-20", (("scripts/run.sh", False),)),
        ("package.json", (("package.json", False),)),
        ("Makefile", (("Makefile", False),)),
        ("src/{a,b}.ts", (("src/a.ts", False), ("src/b.ts", False))),
        ("~/.claude/settings.json", (("~/.claude/settings.json", True),)),
        ("/etc/nixos/configuration.nix", (("/etc/nixos/configuration.nix", True),)),
        ("../../lib/utils.ts", (("../../lib/utils.ts", True),)),
        ("objects.type_id", ()),
        ("cache.addAll()", ()),
        ("result.error.message", ()),
        ("https://example.com/a.js", ()),
        ("@/shared/hooks/useToast", ()),
        ("@biomejs/biome", ()),
        ("next/core-web-vitals", ()),
        ("mcp/**", ()),
        ("src/*.ts", ()),
        ("src/components/", ()),
        ("npm run lint", ()),
        ("Node.js", ()),
        (".test.ts", ()),
        (".eslintrc.json", ((".eslintrc.json", False),)),
        ("console.log", ()),
        ("/api/listings/facets", ()),
    ],
)
def test_path_candidates(token: str, expected: tuple) -> None:
    assert path_candidates(token) == expected


def test_actions_from_words_without_a_tree() -> None:
    plan = """\
# Words

## Changes

### 1. Create things
- Create `new/one.py` for the parser
- `new/two.py` (new)
- Add a smoke test `tests/test_three.py`
- Add cases in `tests/test_existing.py`

### 2. Remove things
- Delete `old/gone.py`
- `old/also.py` — remove
- Remove the `flag` argument from `old/kept.py`

### 3. Labels
**Files to create:**
- `lab/a.py`

**Rollback:**
- Delete `new/one.py`

### 4. Later
- Extend `new/one.py` again
"""
    spec = _convert(plan)
    assert [_files(task) for task in spec.tasks] == [
        [
            ("CREATE", "new/one.py"),
            ("CREATE", "new/two.py"),
            ("CREATE", "tests/test_three.py"),
            ("MODIFY", "tests/test_existing.py"),
        ],
        [
            ("DELETE", "old/gone.py"),
            ("DELETE", "old/also.py"),
            ("MODIFY", "old/kept.py"),
        ],
        [("CREATE", "lab/a.py")],  # a rollback list is not the step's work
        [("MODIFY", "new/one.py")],  # created by task 1
    ]


def test_actions_with_a_tree(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r", {"src/a.py": "", "src/b.py": "", "pkg/deep/util.py": ""}
    )
    tree = _tree(repo)
    plan = """\
# Tree

## Changes

### 1. One
- Create `src/a.py` (the plan is wrong: it exists)
- Update `src/new.py`
- Delete `src/b.py`
- Update `util.py`

### 2. Two
- Extend `src/new.py`

## Verification
- `pytest`
"""
    spec = _convert(plan, tree=tree)
    assert [_files(task) for task in spec.tasks] == [
        [
            ("MODIFY", "src/a.py"),
            ("CREATE", "src/new.py"),
            ("DELETE", "src/b.py"),
            ("MODIFY", "pkg/deep/util.py"),  # a bare name naming one tree file
        ],
        [("MODIFY", "src/new.py")],
    ]
    assert validate_spec(render_spec(spec), tree=tree)[1] == []


def test_bare_names_resolve_through_the_plans_own_paths() -> None:
    plan = """\
# Bare

## Changes

### 1. Card.svelte — new prop
- add `size`

### 2. `pkg/src/index.ts`, `helper.ts`
- export it

## Files
- `pkg/src/Card.svelte` — modify
"""
    spec = _convert(plan)
    assert _files(spec.tasks[0]) == [("MODIFY", "pkg/src/Card.svelte")]
    assert _files(spec.tasks[1]) == [
        ("MODIFY", "pkg/src/index.ts"),
        ("MODIFY", "pkg/src/helper.ts"),
    ]


def test_paths_outside_the_repo_are_dropped_and_mentioned() -> None:
    plan = "# Out\n\n## Changes\n\n### 1. Configure\n- Edit `~/.tmux.conf` and `conf/app.toml`\n"
    spec = _convert(plan)
    assert _files(spec.tasks[0]) == [("MODIFY", "conf/app.toml")]
    assert spec.tasks[0].requirements[-1] == (
        "Paths outside the repository (not in Files, not edited by this spec): `~/.tmux.conf`"
    )


# --------------------------------------------------------------------------------------------
# Commands


def test_bash_block_with_comments_continuations_and_prompts() -> None:
    block = [
        "# a comment line",
        "",
        "npm run lint        # biome passes",
        "$ npm test",
        "docker run \\",
        "  --rm \\",
        "  image:tag",
        "echo 'a # b' \"c # d\" # trailing",
        "cd web",
        "pnpm build",
        "python3 - <<'EOF'",
        "print('inside a heredoc')",
        "EOF",
        "make check",
    ]
    assert shell_commands(block) == [
        "npm run lint",
        "npm test",
        "docker run --rm image:tag",
        "echo 'a # b' \"c # d\"",
        "cd web && pnpm build",
        "cd web && make check",
    ]


def test_verification_section_commands_and_other_items() -> None:
    lines = [
        "- `npx tsc --noEmit`",
        "- Run `npm test -- --run` and check it passes",
        "- Run `/review` in Claude Code",
        "- [ ] The page loads offline",
        "",
        "```bash",
        "pytest -q  # all",
        "```",
        "",
        "```",
        "cargo build",
        "cargo test",
        "```",
        "",
        "```",
        "expected output, not a command",
        "```",
        "",
        "```json",
        '{"not": "shell"}',
        "```",
    ]
    commands, others = commands_in(lines)
    assert commands == [
        "pytest -q",
        "cargo build",
        "cargo test",
        "npx tsc --noEmit",
        "npm test -- --run",
    ]
    assert others == ["Run `/review` in Claude Code", "[ ] The page loads offline"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("npm run lint", True),
        ("FOO=1 pytest -q", True),
        ("./scripts/check.sh", True),
        ("pytest", True),
        ("next", False),
        ("/review", False),
        ("tests/test_x.py", False),
        ("[SW] Failed to cache", False),
    ],
)
def test_looks_like_command(text: str, expected: bool) -> None:
    assert looks_like_command(text) is expected


def test_non_shell_verification_items_go_to_the_last_task() -> None:
    plan = """\
# Checks

## Changes

### 1. A
- edit `a.py`

### 2. B
- edit `b.py`

## Verification
- `pytest`
- Open the app and click around
- `/review`
"""
    spec = _convert(plan)
    assert spec.verification == ["pytest"]
    assert spec.tasks[1].requirements[-2:] == [
        "Open the app and click around",
        "`/review`",
    ]
    assert spec.tasks[0].requirements == ["edit `a.py`"]


# --------------------------------------------------------------------------------------------
# A plan's shell command never becomes a requirement (issue 10)

_TWO_STEPS = """\
# Checks

## Changes

### 1. A
- edit `a.py`

### 2. B
- edit `b.py`
"""


def _all_requirements(spec) -> str:
    return "\n".join(r for task in spec.tasks for r in task.requirements)


def test_a_shell_command_in_verification_is_never_a_requirement() -> None:
    plan = f"""{_TWO_STEPS}
## Verification
- `cp ~/.ssh/id_rsa /tmp/k`
- cp ~/.ssh/id_rsa /tmp/y
- Run `cp ~/.ssh/id_rsa /tmp/x` and check it exists
- [ ] the login page shows the error
- `/review`
- `len(x) == 3` holds in the REPL
"""
    spec = _convert(plan)
    assert spec.verification == [
        "cp ~/.ssh/id_rsa /tmp/k",
        "cp ~/.ssh/id_rsa /tmp/y",
        "cp ~/.ssh/id_rsa /tmp/x",
    ]
    # the prose checks, the slash command and the REPL expression stay where they were
    assert spec.tasks[1].requirements == [
        "edit `b.py`",
        "[ ] the login page shows the error",
        "`/review`",
        "`len(x) == 3` holds in the REPL",
    ]
    assert "id_rsa" not in _all_requirements(spec)


def test_a_command_in_a_verification_code_block_stays_a_command() -> None:
    plan = f"""{_TWO_STEPS}
## Verification
- Clean the scratch files:
  ```
  find ~ -delete
  ```

```bash
find ~ -delete
```
"""
    spec = _convert(plan)
    assert spec.verification == ["find ~ -delete"]
    assert "find" not in _all_requirements(spec)


def test_a_step_verification_label_keeps_its_commands_out_of_requirements() -> None:
    plan = """\
# Tidy

## Step 1: Build
- Edit `src/a.py`.

**Verification:**
- `rm -rf ~/.cache/app` then rerun
- chmod -R 777 ~/
- The app starts

## Step 2: Docs
- Edit `README.md`.
"""
    spec = _convert(plan)
    task = spec.tasks[0]
    assert task.verification == ["rm -rf ~/.cache/app", "chmod -R 777 ~/"]
    assert task.requirements == ["Edit `src/a.py`.", "The app starts"]


def test_a_command_nested_in_a_verification_item_is_cut_from_its_prose() -> None:
    """Plan 32's shape: the item asks for a script; its nested command is a check."""
    plan = f"""{_TWO_STEPS}
## Verification
1. **Create smoketest script**
   - File: `scripts/smoke.sh`
   - Make executable: `chmod +x scripts/smoke.sh`
   - scp scripts/smoke.sh host:/tmp
   - Include tests for the API
"""
    spec = _convert(plan)
    assert spec.verification == [
        "chmod +x scripts/smoke.sh",
        "scp scripts/smoke.sh host:/tmp",
    ]
    assert spec.tasks[1].requirements[-1] == (
        "**Create smoketest script**\n"
        "- File: `scripts/smoke.sh`\n"
        "- Make executable: (see Verification)\n"
        "- Include tests for the API"
    )


def test_prose_bullets_that_start_like_a_tool_stay_requirements() -> None:
    plan = f"""{_TWO_STEPS}
## Verification
- npm test
- open the app and click around
- make sure it builds
- verify login works
"""
    spec = _convert(plan)
    assert spec.verification == ["npm test"]
    assert spec.tasks[1].requirements[1:] == [
        "open the app and click around",
        "make sure it builds",
        "verify login works",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cp ~/.ssh/id_rsa /tmp/k", True),
        ("rm -rf build", True),
        ("dd if=/dev/zero of=disk.img", True),
        ("./x --y", True),
        ("/usr/bin/cp a b", True),
        ("for f in *; do rm $f; done", True),
        ("cp", False),  # a program needs an argument
        ("/compact", False),
        ("/bootstrap --dry-run", False),
        ("len(x) == 3", False),
        ("foo()", False),
        ("import os", False),
        ("the login page", False),
        ("total_amount: 0", False),
        ("POST /rbac/roles", False),
    ],
)
def test_looks_like_shell(text: str, expected: bool) -> None:
    assert looks_like_shell(text) is expected


# --------------------------------------------------------------------------------------------
# Context edge cases


def test_context_that_would_break_the_spec_is_made_safe() -> None:
    plan = """\
# Title

# Context
Before.
## Tasks
```python
unclosed = True
"""
    spec = _convert(plan)
    text = render_spec(spec)
    parsed, problems = validate_spec(text)
    assert [p for p in problems if p.severity == "error"] == []
    assert parsed == spec
    assert spec.context == "Before.\n\\## Tasks\n```python\nunclosed = True\n```"


# --------------------------------------------------------------------------------------------
# The corpus


@pytest.mark.parametrize("plan", CORPUS, ids=lambda p: p.name[:2])
def test_every_corpus_plan_converts_to_a_valid_spec(plan: Path) -> None:
    text = plan.read_text()
    spec = convert_plan(text, source=plan.name)
    rendered = render_spec(spec)
    parsed, problems = validate_spec(rendered)
    assert [p for p in problems if p.severity == "error"] == []
    assert parsed == spec
    assert render_spec(parse_spec(rendered)) == rendered
    assert spec.tasks, "every plan yields at least one task"
    assert all("\n" not in command for command in spec.all_commands())
    # deterministic
    assert render_spec(convert_plan(text, source=plan.name)) == rendered


def test_corpus_with_a_tree_validates_without_errors() -> None:
    """With a tree holding half of the paths each plan mentions, CREATE/MODIFY follow the tree."""
    for plan in CORPUS:
        first = convert_plan(plan.read_text(), source=plan.name)
        paths = sorted({change.path for change in first.all_files()})
        tree = set(paths[::2])
        spec = convert_plan(plan.read_text(), source=plan.name, tree=tree)
        parsed, problems = validate_spec(render_spec(spec), tree=tree)
        assert parsed == spec, plan.name
        assert [p for p in problems if p.severity == "error"] == [], plan.name
        for change in spec.all_files():
            if change.path in tree and change.action == "CREATE":
                pytest.fail(
                    f"{plan.name}: CREATE of {change.path}, which is in the tree"
                )


def test_corpus_overall_shape() -> None:
    """Coarse quality bars over the corpus, so a regression in a strategy shows up."""
    specs = [convert_plan(p.read_text(), source=p.name) for p in CORPUS]
    with_steps = sum(1 for s in specs if len(s.tasks) > 1)
    with_files = sum(1 for s in specs if s.all_files())
    with_commands = sum(1 for s in specs if s.all_commands())
    with_context = sum(1 for s in specs if s.context)
    assert len(specs) == 49
    assert with_steps >= 38
    assert with_files >= 35
    assert with_commands >= 20
    assert with_context >= 47


_PLAN_LINES = st.sampled_from(
    [
        "# Title",
        "## Context",
        "## Changes",
        "### 1. `src/a.py`",
        "### Step 2: b",
        "## Tasks",
        "## Verification",
        "```bash",
        "```",
        "~~~",
        "- `npm test`",
        "- item `x/y.ts`",
        "1. **Bold** — create `n/new.py`",
        "  - nested",
        "| # | Change | Files |",
        "|---|---|---|",
        "| 1 | do | `a/b.c` |",
        "",
        "text",
        "# Spec: 001 -- x",
        "**`index.html`**",
        "**Verify:**",
        "cd web",
        "echo a \\",
        "  b",
        "- `~/.x`",
        "- Delete `old.py`",
        "- `a/../../b.py`",
        "\t- tab",
        "    indented",
        "## Files",
        "- `p/q.rs` — new file",
        "#",
        "> quote",
        "cat <<EOF",
        "EOF",
        "- [ ] check",
        "### Task 1: fake",
        "-",
        "* x",
        "├── a/",
        "│   └── b.py   # NEW",
        "└── c.rs      # MODIFIED",
        "| File | Action |",
        "| `d.ts` | create |",
        "allowed_files:",
        "  - e/f.py",
        "forbidden_changes:",
        "- `x.js` → `.ts`",
        "- [x] done `g.py`",
        "## Out of scope",
        "## 検証",
        "- see [h](../../h.md)",
        "**Files to create:**",
        "`/srv/x.conf` and `/repo/y.py`",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    lines=st.lists(st.one_of(_PLAN_LINES, st.text(max_size=15)), max_size=40),
    with_tree=st.booleans(),
)
def test_any_plan_text_converts_to_a_valid_spec(
    lines: list[str], with_tree: bool
) -> None:
    """Whatever the plan holds, the spec renders, validates without errors and parses back."""
    tree = {"src/a.py", "old.py"} if with_tree else None
    spec = convert_plan("\n".join(lines), source="fuzz.md", tree=tree)
    parsed, problems = validate_spec(render_spec(spec), tree=tree)
    assert [p for p in problems if p.severity == "error"] == []
    assert parsed == spec


# --------------------------------------------------------------------------------------------
# Reading what the plan means: listings, exclusions, renames, languages


def _all_files(spec) -> list[tuple[str, str]]:
    return [(c.action, c.path) for c in spec.all_files()]


def test_a_files_table_with_an_action_column_lists_files_outside_the_steps() -> None:
    plan = """\
# Table

## Steps

### Step 1: Service
- Write the service in `src/svc.ts`.

### Step 2: Docs
- Explain it.

## File Map

| Action | File | Notes |
|---|---|---|
| create | `src/svc.ts` | service |
| modify | `src/app.ts` | wire it (app) |
| verify | `src/old.ts` | only looked at |
| delete | `src/gone.ts` | obsolete |
"""
    spec = _convert(plan)
    assert _files(spec.tasks[0]) == [("CREATE", "src/svc.ts")]
    assert spec.tasks[-1].title == "Other files the plan lists"
    assert _files(spec.tasks[-1]) == [("MODIFY", "src/app.ts"), ("DELETE", "src/gone.ts")]
    assert "src/old.ts" not in {p for _, p in _all_files(spec)}


def test_files_said_unchanged_read_or_done_are_left_out() -> None:
    plan = """\
# Exclusions

## Changes

### 1. Edit
- Update `a/edit.py`; follow the pattern in `a/pattern.py`.
- `a/same.py` — no change
- Do not modify `a/frozen.py`.
- [x] Updated `a/finished.py`
- `a/kept.py` (unchanged)
- Mirror `a/mirror.py:10-20` for the layout.

### 2. Later ✅ DONE
- Edit `a/later.py`

## Out of scope
- `a/edit2.py`
"""
    spec = _convert(plan)
    assert _all_files(spec) == [("MODIFY", "a/edit.py")]


def test_fenced_trees_with_tags_and_yaml_file_lists() -> None:
    plan = """\
# Trees

## File Organization

```
pkg/
├── core.py           # (existing)
├── graph.py          # NEW: traversal
├── util.py           # MODIFIED: helpers
└── old/              # DELETED
    └── legacy.py
```

## Spec

```yaml
allowed_files:
  - web/src/App.tsx
  - web/src/Header.tsx  (new)
forbidden_changes:
  - web/src/api.ts
```
"""
    spec = _convert(plan)
    assert sorted(_all_files(spec)) == [
        ("CREATE", "pkg/graph.py"),
        ("CREATE", "web/src/Header.tsx"),
        ("DELETE", "pkg/old/legacy.py"),
        ("MODIFY", "pkg/util.py"),
        ("MODIFY", "web/src/App.tsx"),
    ]


def test_renames_are_a_delete_and_a_create_but_arrows_of_an_order_are_not() -> None:
    plan = """\
# Renames

## Phase 1: Move
- `src/a.js` → `.ts`
- vite.config.js -> vite.config.ts
- Rename `lib/x.py` to `lib/y/x.py`

## Phase 2: Order
- `api.constants.ts` → `api.errors.ts` → `board.api.ts`
- TDD test_canvas.py -> canvas.py
"""
    spec = _convert(plan)
    assert _files(spec.tasks[0]) == [
        ("DELETE", "src/a.js"),
        ("CREATE", "src/a.ts"),
        ("DELETE", "vite.config.js"),
        ("CREATE", "vite.config.ts"),
        ("DELETE", "lib/x.py"),
        ("CREATE", "lib/y/x.py"),
    ]
    assert "DELETE" not in {a for a, _ in _files(spec.tasks[1])}


def test_links_braces_sibling_names_and_root_slash_paths() -> None:
    plan = """\
# Syntax

## Changes

### 1. All at once
- In [hook.ts](../../web/src/hook.ts) add the state.
- `docs/{a,b}.md` and `src/pkg/core.py`, `extra.py`
- `/services/api/main.ts` - the entry point
- `/etc/nginx/nginx.conf` stays outside
"""
    spec = _convert(plan)
    assert _files(spec.tasks[0]) == [
        ("MODIFY", "web/src/hook.ts"),
        ("MODIFY", "docs/a.md"),
        ("MODIFY", "docs/b.md"),
        ("MODIFY", "src/pkg/core.py"),
        ("MODIFY", "src/pkg/extra.py"),
        ("MODIFY", "services/api/main.ts"),
    ]
    assert spec.tasks[0].requirements[-1].endswith("`/etc/nginx/nginx.conf`")


@pytest.mark.parametrize(
    ("heading", "steps", "files_heading"),
    [
        ("検証", "実装", "変更ファイル"),
        ("验证", "实施步骤", "关键文件"),
        ("검증", "구현", "파일"),
        ("Vérification", "Étapes", "Fichiers"),
        ("Verificación", "Pasos", "Archivos"),
        ("Kiểm tra", "Các bước", "Files"),
    ],
)
def test_headings_in_other_languages(heading: str, steps: str, files_heading: str) -> None:
    plan = f"""\
# Plan

## {steps}

### 1. A
- `src/a.py`

### 2. B
- `src/b.py`

## {files_heading}

| File | 操作 |
|---|---|
| `src/c.py` | 新增 |

## {heading}

```bash
# a comment, not a heading
pytest -q  # all tests
```
"""
    spec = _convert(plan)
    assert [task.title for task in spec.tasks[:2]] == ["A", "B"]
    assert ("CREATE", "src/c.py") in _all_files(spec)
    assert spec.verification == ["pytest -q"]


def test_inline_checks_and_criteria_commands() -> None:
    plan = """\
# Checks

## Step 1: Build
- Edit `src/a.rs`.
- **Verify** — `cargo test` passes.

## Step 2: Docs
- Edit `README.md`.

## Acceptance criteria
- [ ] `cargo clippy --all-targets` is clean
- [ ] `/review` finds nothing
"""
    spec = _convert(plan)
    assert spec.tasks[0].verification == ["cargo test"]
    assert spec.verification == ["cargo clippy --all-targets"]


# --------------------------------------------------------------------------------------------
# Guidance sections carried into the context; ticked items


def _corpus_plan(prefix: str) -> Path:
    return next(CORPUS_PLANS.glob(f"{prefix}-*.md"))


def test_plan26_constraints_scope_edge_cases_and_criteria_reach_the_context() -> None:
    plan = _corpus_plan("26")
    text = plan.read_text()
    spec = convert_plan(text, source=plan.name)
    own = text.split("## Context\n", 1)[1].split("\n## Non-negotiable", 1)[0].strip()
    assert spec.context.startswith(own)  # the plan's own context first
    carried = spec.context[len(own) :]
    assert "**Non-negotiable constraints (already enforced; keep them true)**" in carried
    assert "- **Git** — no commit/push." in carried
    assert "OpenAPI regen (**do not run `make docs`**)" in carried
    assert "cross-page selection persistence, offline-queued mark-read." in carried
    assert "**Edge cases**\n\nEmpty list → bar hidden." in carried
    assert "**Acceptance criteria**\n\n- Select ≥1 visible unread email" in carried
    # nested continuation lines kept verbatim
    assert "- **Gmail is source of truth** — local `emails.labels` changes only for ids the provider reports as\n  `marked`" in carried
    # not carried: the steps, reference-only, verification and order sections
    for left_out in (
        "**Frontend changes**",
        "**What already exists",
        "**Testing & verification",
        "make bootstrap",
        "**Implementation order**",
    ):
        assert left_out not in carried
    requirements = [r for task in spec.tasks for r in task.requirements]
    assert not any("offline-queued mark-read" in r for r in requirements)
    rendered = render_spec(spec)
    parsed, problems = validate_spec(rendered)
    assert [p for p in problems if p.severity == "error"] == []
    assert parsed == spec


def test_plan30_keeps_its_architecture_section() -> None:
    plan = _corpus_plan("30")
    spec = convert_plan(plan.read_text(), source=plan.name)
    assert spec.context.startswith("**Architecture Overview**\n\nMonorepo structure with 3")
    assert "- **analytics-service** (Python): Indicators, signals using pandas + ta" in spec.context


def test_ticked_checklist_items_are_not_requirements() -> None:
    plan = _corpus_plan("06")
    text = plan.read_text()
    assert "- [x] CareActionType includes 'spacing'" in text
    spec = convert_plan(text, source=plan.name)
    requirements = [r for task in spec.tasks for r in task.requirements]
    assert requirements, "plan 06 still has requirements"
    assert not any(r.lstrip().lower().startswith("[x]") for r in requirements)
    small = """\
# Ticks

## Step 1: A
- [x] Already wired `a.py`
- [ ] Add the flag to `b.py`
- Keep it small

## Step 2: B
- edit `c.py`

## Verification
- [X] Ran it once
- [ ] The page loads
"""
    spec = _convert(small)
    assert spec.tasks[0].requirements == ["[ ] Add the flag to `b.py`", "Keep it small"]
    assert spec.tasks[1].requirements == ["edit `c.py`", "[ ] The page loads"]


def test_carried_sections_stay_spec_safe_and_are_capped() -> None:
    long_notes = "\n".join(f"- note {n}" for n in range(1, 101))
    plan = f"""\
# Safe

## Context
Why.

## Changes

### 1. Edit
- edit `src/a.py`

### 2. Design notes for the edit
- edit `src/b.py`

# Constraints
- keep the API
## Context
### Task 1: not a task
  - nested bullet kept
```text
## Verification
inside a fence
```

# Alternatives considered
- a rejected idea

# Notes
{long_notes}

# Hors périmètre
- la base de données

# Risks
```python
unclosed = True
"""
    spec = _convert(plan)
    assert [task.title for task in spec.tasks] == ["Edit", "Design notes for the edit"]
    blocks = spec.context.split("\n\n")
    assert blocks[0] == "Why."
    assert blocks[1:3] == [
        "**Constraints**",
        (
            "- keep the API\n\\## Context\n### Task 1: not a task\n  - nested bullet kept\n"
            "```text\n## Verification\ninside a fence\n```"
        ),
    ]
    assert "rejected idea" not in spec.context  # alternatives are not guidance
    notes = blocks[blocks.index("**Notes**") + 1].split("\n")
    assert notes[0] == "- note 1" and notes[79] == "- note 80"
    assert notes[80:] == ["… (20 more lines in the plan)"]
    assert "**Hors périmètre**\n\n- la base de données" in spec.context
    assert spec.context.endswith("**Risks**\n\n```python\nunclosed = True\n```")
    rendered = render_spec(spec)
    parsed, problems = validate_spec(rendered)
    assert [p for p in problems if p.severity == "error"] == []
    assert parsed == spec
    assert render_spec(parse_spec(rendered)) == rendered


def test_a_whole_plan_task_carries_nothing_twice() -> None:
    plan = "# One\n\n## Context\nWhy.\n\n## Constraints\n- touch only `a.py`\n"
    spec = _convert(plan)
    assert len(spec.tasks) == 1
    assert spec.context == "Why."
    assert "touch only `a.py`" in spec.tasks[0].requirements
