"""The layers point one way: `app/core` is what every domain builds on, so it imports no domain
package. `app.models` is allowed: it is the shared model package every layer reads rows from
(core's helpers are typed by its mixins), and it imports nothing above core itself."""

import ast
from pathlib import Path

import app

APP = Path(app.__file__).parent
SHARED = {"core", "models"}
"""The packages below the domains: core may import these, and nothing else of `app`."""


def app_imports(source: Path) -> list[tuple[int, str]]:
    """Each `app.…` module the file imports (at any depth, even inside a function), by line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):  # relative: resolved against app/core
            names = ["app.core" + ("." + node.module if node.module else "")]
        else:
            continue
        found.extend((node.lineno, name) for name in names if name.split(".")[0] == "app")
    return found


def outside(package: str, allowed: set[str]) -> list[str]:
    """`file:line module` for each import in app/<package>/*.py of an `app` package not in
    `allowed`."""
    wrong = []
    for source in sorted((APP / package).glob("*.py")):
        for line, name in app_imports(source):
            parts = name.split(".")
            if len(parts) < 2 or parts[1] not in allowed:
                wrong.append(f"{source.relative_to(APP.parent)}:{line} {name}")
    return wrong


def test_core_imports_no_domain() -> None:
    assert len(list((APP / "core").glob("*.py"))) > 10  # the walk really reads core
    assert outside("core", SHARED) == []


def test_models_import_nothing_above_core() -> None:
    assert outside("models", SHARED) == []


def test_the_check_sees_a_domain_import(tmp_path: Path) -> None:
    """The walk finds the imports it must refuse, wherever they stand in a file."""
    source = tmp_path / "sample.py"
    source.write_text(
        "import app.events.service\n"
        "from app.core.clock import Clock\n"
        "def late() -> None:\n"
        "    from app.decisions import service\n"
    )
    names = [name for _, name in app_imports(source)]
    assert names == ["app.events.service", "app.core.clock", "app.decisions"]
