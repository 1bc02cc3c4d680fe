"""The test tree itself: it mirrors the code tree, and helpers live in support modules,
never in a conftest.py or a test module, because pytest loads conftest.py on its own terms
(importing it again depends on its import mode) and a test imported into another module is
collected there as well."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _forbidden(name: str) -> bool:
    return any(part == "conftest" or part.startswith("test_") for part in name.split("."))


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) for every module an import statement names, submodules included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append((node.lineno, module))
            if node.level or module == "tests" or module.startswith("tests."):
                # `from tests.web import conftest` names the module as an imported name.
                found += [(node.lineno, alias.name) for alias in node.names]
    return found


def test_nothing_under_tests_imports_a_conftest_or_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in _imports(ast.parse(path.read_text(), filename=str(path)))
        if _forbidden(module)
    ]
    assert not offenders, "import helpers from a support module instead:\n" + "\n".join(offenders)


# Folders under tests/ that are tiers or helpers, not a part of the code.
TIERS_AND_HELPERS = {"e2e", "integration", "fakes"}


def test_the_test_tree_mirrors_the_code_tree() -> None:
    """tests/bot/dialogue/ tests bot/dialogue/, and so on: a newcomer finds a module's tests
    at the same path under tests/."""
    strays = [
        str(folder.relative_to(TESTS.parent))
        for folder in sorted(TESTS.rglob("*"))
        if folder.is_dir()
        and folder.name not in {"__pycache__", "conversations"}
        and folder.relative_to(TESTS).parts[0] not in TIERS_AND_HELPERS
        and not (TESTS.parent / folder.relative_to(TESTS)).is_dir()
    ]
    assert not strays, "test folders without a code folder of that name:\n" + "\n".join(strays)
