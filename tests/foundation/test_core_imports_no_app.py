"""`core` is the shared kernel at the bottom of the layers (docs/architecture.md): it imports no
app of ours, not even inside a function, where import-linter's module graph is easy to forget."""

import ast
from pathlib import Path

import grimp
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _our_apps() -> set[str]:
    """Every app of ours: the installed apps whose top-level package sits at this repository's root.

    "Lives under the root" is not enough: CI's virtualenv is `.venv/` inside the clone, so Django's
    own apps live under the root too."""
    root = ROOT.resolve()
    ours = set()
    for config in apps.get_app_configs():
        package = config.name.split(".")[0]
        path = Path(config.path).resolve()
        if path.is_relative_to(root) and path.relative_to(root).parts[0] == package:
            ours.add(package)
    return ours | {"config"}


def _imported_modules(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            # import_module("reports.views") is an import too, only spelled as a call.
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _core_imports_of_apps() -> list[str]:
    ours = _our_apps() - {"core"}
    bad = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for line, module in _imported_modules(path.read_text()):
            if module.split(".")[0] in ours:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_core_imports_no_app_at_any_level():
    assert _core_imports_of_apps() == []


def test_the_walk_sees_imports_inside_functions_and_spelled_as_calls():
    source = (
        "from core import events\n"
        "def f():\n"
        "    from reports.views import dashboard_context\n"
        "    import audit.services\n"
        "    return import_module('brands.selectors')\n"
    )
    modules = [module for _, module in _imported_modules(source)]
    assert sorted(modules) == ["audit.services", "brands.selectors", "core", "reports.views"]
    assert {"reports", "audit", "brands", "backoffice", "portal", "config"} <= _our_apps()


def test_import_linter_graph_agrees_core_imports_no_app():
    packages = sorted(_our_apps())
    graph = grimp.build_graph(*packages)
    core_modules = graph.find_descendants("core") | {"core"}
    upward = sorted(
        f"{module} -> {imported}"
        for module in core_modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] != "core"
    )
    assert upward == []
