"""Check the import structure: the layers and independence contracts (import-linter, configured in
pyproject.toml), no import cycle among our modules (imports inside functions counted), and few
imports of our own modules inside functions (they are for heavy third-party libraries).

    python scripts/lint_imports.py        (`make lint` runs it; tests/unit/test_layers.py too)

train/, export/ and serve/ install as tuneforge.train, tuneforge.export and tuneforge.serve
(pyproject.toml's package-dir), which import-linter cannot see in a source tree: it walks the
folder of the root package. So the package is first assembled as it installs, under
build/import-graph/, and both checks read that copy.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where each part of the installed package lives in the source tree (pyproject.toml's package-dir).
SOURCE_FOLDERS = {
    "tuneforge": "tuneforge",
    "tuneforge/train": "train",
    "tuneforge/export": "export",
    "tuneforge/serve": "serve",
}
MAX_DEFERRED_SHARE = 0.10  # imports of our own modules placed inside functions, of all imports of our modules


def assemble(view: Path = ROOT / "build" / "import-graph") -> Path:
    """A copy of the package laid out as it installs; returns the folder to put on sys.path."""
    shutil.rmtree(view, ignore_errors=True)
    for target, source in SOURCE_FOLDERS.items():
        shutil.copytree(ROOT / source, view / target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    return view


def module_files(view: Path) -> dict[str, Path]:
    """Every module of the assembled package by its dotted name."""
    modules = {}
    for path in sorted((view / "tuneforge").rglob("*.py")):
        parts = path.relative_to(view).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> list[str]:
    """Our modules that one import statement names (relative imports resolved)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in known:
            found.append(name)
    return found


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def own_imports(modules: dict[str, Path]):
    """(importer, imported, inside a function) for every import of our modules, outside TYPE_CHECKING blocks."""
    known = set(modules)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield from _walk(tree, module, path.name == "__init__.py", known, inside_function=False)


def _walk(node: ast.AST, module: str, is_package: bool, known: set[str], inside_function: bool):
    for child in ast.iter_child_nodes(node):
        if is_type_checking_block(child):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in imported_modules(child, module, is_package, known):
                if target != module:
                    yield module, target, inside_function
            continue
        nested = inside_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _walk(child, module, is_package, known, nested)


def import_cycles(edges: list[tuple[str, str, bool]]) -> list[list[str]]:
    """The groups of modules that reach each other through imports (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for importer, imported, _ in edges:
        graph.setdefault(importer, set()).add(imported)
        graph.setdefault(imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def structure_report(view: Path) -> tuple[list[str], dict]:
    """(problems, figures) of the cycle and deferred-import checks."""
    edges = list(own_imports(module_files(view)))
    deferred = [edge for edge in edges if edge[2]]
    share = len(deferred) / len(edges) if edges else 0.0
    problems = [f"import cycle: {' <-> '.join(group)}" for group in import_cycles(edges)]
    if share > MAX_DEFERRED_SHARE:
        listing = "\n  ".join(f"{a} imports {b} inside a function" for a, b, _ in deferred)
        problems.append(
            f"{len(deferred)} of {len(edges)} imports of our own modules ({share:.0%}) sit inside functions; "
            f"at most {MAX_DEFERRED_SHARE:.0%}: move them to the module top (or the code to the right layer):\n  {listing}"
        )
    return problems, {"imports": len(edges), "inside_functions": len(deferred), "share": round(share, 3)}


def lint_contracts(view: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts from pyproject.toml, run over the assembled package."""
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(view)}
    command = [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    return subprocess.run(command, cwd=view, env=env, capture_output=True, text=True)


def main() -> int:
    view = assemble()
    contracts = lint_contracts(view)
    print(contracts.stdout.strip() or contracts.stderr.strip())
    problems, figures = structure_report(view)
    print(
        f"imports of our own modules: {figures['imports']}, inside functions: {figures['inside_functions']} "
        f"({figures['share']:.1%}); import cycles: {sum(p.startswith('import cycle') for p in problems)}"
    )
    for problem in problems:
        print(problem)
    return 1 if contracts.returncode or problems else 0


if __name__ == "__main__":
    sys.exit(main())
