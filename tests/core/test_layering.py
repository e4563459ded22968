"""The layering of DESIGN.md: nothing under hybrid_tui/core/ or hybrid_tui/agents/ imports
Textual (checked in a fresh interpreter, importing every module of both packages); only
hybrid_tui/core/git.py imports GitPython. And the tests' own layering: no module under tests/
imports from a test module or from a conftest.py; what test modules share is in tests/support/.

The import checks read the source (the syntax tree), so an import anywhere counts: at the top,
inside a function, under `if TYPE_CHECKING:`."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "hybrid_tui"
TESTS = ROOT / "tests"


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import in `path`: `import a.b` gives "a.b", `from a.b
    import c` gives "a.b" and "a.b.c" (c may be a module); a relative import is made absolute
    from where `path` is (relative to ROOT)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}" if module else alias.name


def test_core_and_agents_import_no_textual():
    modules = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for layer in ("core", "agents")
        for path in (PACKAGE / layer).rglob("*.py")
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    assert len(modules) > 20
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]", f"textual was imported by the core: {out}"


def test_only_core_git_imports_gitpython():
    allowed = PACKAGE / "core" / "git.py"
    found = sorted({
        f"{path.relative_to(ROOT)}:{line}"
        for path in PACKAGE.rglob("*.py")
        if path != allowed
        for line, module in imported_modules(path)
        if module == "git" or module.startswith("git.")
    })
    assert found == [], "GitPython is imported outside hybrid_tui/core/git.py:\n" + "\n".join(found)
    assert any(m == "git" for _, m in imported_modules(allowed)), "core/git.py no longer imports GitPython"


def is_test_module(module: str) -> bool:
    """`tests.core.test_x`, `tests.test_x`, `tests.e2e.test_x` (and names inside them), or any
    conftest: modules that no other module may import from."""
    parts = module.split(".")
    if parts[0] != "tests":
        return False
    return any(part.startswith("test_") or part == "conftest" for part in parts[1:])


def test_no_module_under_tests_imports_from_a_test_module_or_a_conftest():
    modules = [p for p in TESTS.rglob("*.py") if "fixtures" not in p.relative_to(TESTS).parts]
    assert len(modules) > 50
    found = sorted({
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        if path.name != "conftest.py"
        for line, module in imported_modules(path)
        if is_test_module(module)
    })
    assert found == [], "import what test modules share from tests/support, not from a test module:\n" + "\n".join(found)


def test_conftest_files_import_no_test_module():
    found = sorted({
        f"{path.relative_to(ROOT)}:{line}"
        for path in TESTS.rglob("conftest.py")
        for line, module in imported_modules(path)
        if is_test_module(module)
    })
    assert found == [], "a conftest.py imports from a test module:\n" + "\n".join(found)
