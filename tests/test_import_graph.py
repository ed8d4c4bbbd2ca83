"""The dependency rules of ARCHITECTURE.md, checked on the source with ``ast``.

Every ``import`` counts, at module level or inside a function (a lazy import is still a
dependency), also under ``if TYPE_CHECKING``. Names reached through ``importlib`` (the
CLI's subcommand table, the lazy ``__init__`` exports) are not seen.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intents", "routing", "settlement", "solver", "devnet", "bench")
PRODUCTION = ("intents", "routing", "settlement", "solver")

ALLOWED = {
    "intents": {"intents"},
    "routing": {"routing"},
    "settlement": {"settlement", "intents"},
    "solver": {"solver", "intents", "routing", "settlement"},
    "devnet": {"devnet", "intents", "routing", "settlement"},
    "bench": set(PACKAGES),
}
"""Package -> the packages of ours its modules may import."""

COMPOSITION_ROOT = {"solver.node"}
"""The production modules that may import the devnet: the node starts one for
``tributary serve`` without ``--rpc-url``."""

DOMAIN = ("solver.model", "solver.scoring", "solver.checks", "solver.competition", "solver.engines")
"""The solver's domain modules (and packages): they must know no wire format."""
DTO_MODULES = {"solver.dto", "intents.wire"}
KNOWN_DTO_IMPORTS: set[tuple[str, str]] = set()
"""Domain modules that still import a DTO module (none since issue 10's "one boundary";
the test fails on a stale entry)."""


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.target} (line {self.line})"


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, known: Mapping[str, Path]) -> str | None:
    """The module of ours ``name`` refers to: itself, else its nearest known parent."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str, path: Path, known: Mapping[str, Path]) -> list[Import]:
    """Every import of one of our modules in ``path``, wherever it stands in the file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the submodule; ``from mod import name`` the module
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            target = _resolve(name, known)
            if target is not None and target != module:
                found.append(Import(module, target, node.lineno))
    return found


def import_graph(root: Path, packages: Iterable[str]) -> list[Import]:
    known = modules(root, packages)
    return [edge for module, path in known.items() for edge in imports(module, path, known)]


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _top(module: str) -> str:
    return module.partition(".")[0]


def layering_violations(edges: Iterable[Import]) -> list[Import]:
    return [
        e
        for e in edges
        if _top(e.target) not in ALLOWED[_top(e.importer)]
        and not (e.importer in COMPOSITION_ROOT and _top(e.target) == "devnet")
    ]


@pytest.fixture(scope="module")
def graph() -> list[Import]:
    return import_graph(ROOT, PACKAGES)


def test_every_package_is_seen(graph: list[Import]) -> None:
    importers = {_top(e.importer) for e in graph}
    assert importers == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_the_layering_allows(
    graph: list[Import], package: str
) -> None:
    wrong = [e for e in layering_violations(graph) if _top(e.importer) == package]
    assert not wrong, "\n".join(map(str, wrong))


def test_only_the_composition_root_imports_the_devnet(graph: list[Import]) -> None:
    importers = {e.importer for e in graph if _top(e.target) == "devnet"}
    production = {m for m in importers if _top(m) in PRODUCTION}
    assert production == COMPOSITION_ROOT


def test_no_import_cycles(graph: list[Import]) -> None:
    assert cycles(graph) == []


def test_the_solver_domain_imports_no_dto_module(graph: list[Import]) -> None:
    found = {
        (e.importer, e.target)
        for e in graph
        if e.target in DTO_MODULES
        and any(e.importer == d or e.importer.startswith(d + ".") for d in DOMAIN)
    }
    assert found == KNOWN_DTO_IMPORTS, (
        f"new: {sorted(found - KNOWN_DTO_IMPORTS)}; gone (remove from the list): "
        f"{sorted(KNOWN_DTO_IMPORTS - found)}"
    )


def test_a_node_on_another_chain_does_not_load_the_devnet() -> None:
    code = "import sys, solver.node; print(sorted(m for m in sys.modules if 'devnet' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


# -- the checker itself, on a made-up tree -------------------------------------------------


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_sees_lazy_relative_and_submodule_imports(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "routing/__init__.py": "from routing.pool import Pool\n",
            "routing/pool.py": "def f():\n    from settlement import encoding\n",
            "settlement/__init__.py": "",
            "settlement/encoding.py": "from . import fills\nimport eth_abi\n",
            "settlement/fills.py": "import settlement.encoding.deep\n",
            "solver/node.py": "import devnet.anvil\n",
            "solver/api.py": "from devnet import anvil\n",
            "devnet/__init__.py": "",
            "devnet/anvil.py": "",
        },
    )
    edges = import_graph(tmp_path, ("routing", "settlement", "solver", "devnet"))
    assert {(e.importer, e.target) for e in edges} == {
        ("routing", "routing.pool"),
        ("routing.pool", "settlement.encoding"),
        ("settlement.encoding", "settlement.fills"),
        ("settlement.fills", "settlement.encoding"),
        ("solver.node", "devnet.anvil"),
        ("solver.api", "devnet.anvil"),
    }
    assert cycles(edges) == [["settlement.encoding", "settlement.fills"]]
    wrong = {(e.importer, e.target) for e in layering_violations(edges)}
    assert wrong == {("routing.pool", "settlement.encoding"), ("solver.api", "devnet.anvil")}
