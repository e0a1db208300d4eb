"""Concepts that cross the room boundaries: each is defined once per room and the rooms agree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_overflow_choices_agree_between_segmenters_and_core():
    from bipe_core.positions import OVERFLOW_MODES as core
    from segmenters.align import OVERFLOW_MODES as seg

    assert seg == core == ("split", "clamp")


def test_alignment_boundaries_agree_between_segmenters_and_experiments():
    from experiments.pipeline import ALIGN_BOUNDARIES
    from segmenters.align import BOUNDARIES

    assert ALIGN_BOUNDARIES == BOUNDARIES == ("start", "word")


def _module_constants(package: str) -> dict[tuple[str, str], list[str]]:
    """(name, value source) of top-level UPPER_CASE constants -> the modules of ``package`` with it."""
    seen: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, int | float):
                continue  # a bare number (a format version) is no shared concept
            if (
                isinstance(target, ast.Name)
                and target.id.isupper()
                and not target.id.startswith("_")
            ):
                key = (target.id, ast.dump(value))
                seen.setdefault(key, []).append(path.relative_to(ROOT).as_posix())
    return seen


@pytest.mark.parametrize("package", ["bipe_core", "experiments", "segmenters", "automata"])
def test_no_constant_is_defined_twice_in_a_room(package):
    twice = {k[0]: v for k, v in _module_constants(package).items() if len(v) > 1}
    assert twice == {}


@pytest.mark.parametrize(
    "name", ["BASELINE_SCHEMES", "DEFAULT_ALIBI_FACTOR", "ModelSpec", 'TOKEN_SEPARATORS = "sep"']
)
def test_scheme_facts_are_not_listed_beside_the_registry(name):
    hits = [
        p.relative_to(ROOT).as_posix()
        for room in ("bipe_core", "experiments")
        for p in (ROOT / room).rglob("*.py")
        if name in p.read_text(encoding="utf-8")
    ]
    assert hits == []


# -- the import graph inside each room: no cycle, and experiments' sub-packages point one way --------

ROOMS = ("segmenters", "bipe_core", "automata", "experiments")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The modules of ``modules`` that the file at ``path`` imports anywhere: at the top, inside
    functions, under TYPE_CHECKING (a cycle of type hints is still two modules that need each other)."""
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            # `from a.b import c`: the module a.b.c if it is one, else a.b (which defines c)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in modules:  # `import a.b.c` of a function's module
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def import_graph(room: str) -> dict[str, set[str]]:
    """Module -> the modules of the same room it imports (anywhere in the file); package data such
    as experiments/data/sample_code.py (no __init__.py beside it) is no module."""
    files = (p for p in (ROOT / room).rglob("*.py") if (p.parent / "__init__.py").is_file())
    paths = {_module_name(p): p for p in files}
    return {m: _imports(p, set(paths)) for m, p in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (each is at least one cycle)."""
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, bs in graph.items() for b in bs])
    return sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1)


@pytest.mark.parametrize("room", ROOMS)
def test_no_import_cycle_inside_a_room(room):
    assert _cycles(import_graph(room)) == []


@pytest.mark.parametrize("room", ROOMS)
def test_modules_and_functions_stay_readable(room):
    big, long = [], []
    for path in sorted((ROOT / room).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            big.append(f"{name} ({len(text.splitlines())} lines)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                    long.append(f"{name}:{node.name} ({node.end_lineno - start + 1} lines)")
    assert big == [], f"modules over {MAX_MODULE_LINES} lines"
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines"


# The direction inside experiments, low to high: a module imports only modules of its own room or
# of rooms listed before it; rooms in one tuple are siblings that never import each other.
EXPERIMENTS_LAYERS = (
    ("experiments", "experiments.errors"),
    ("experiments.specs", "experiments.registry", "experiments.progress", "experiments.atomic"),
    ("experiments.corpora",),
    ("experiments.pipeline",),
    ("experiments.engine",),
    ("experiments.analysis",),
    ("experiments.lm", "experiments.synthetic"),
    ("experiments.commands",),
    ("experiments.cli",),
)


def _room(module: str) -> tuple[int, str]:
    """(layer, room) of an experiments module: the room is the longest listed prefix."""
    best = None
    for layer, rooms in enumerate(EXPERIMENTS_LAYERS):
        for room in rooms:
            inside = module == room or (room != "experiments" and module.startswith(room + "."))
            if inside and (best is None or len(room) > len(best[1])):
                best = (layer, room)
    assert best is not None, f"{module} belongs to no room of EXPERIMENTS_LAYERS"
    return best


def test_experiments_rooms_point_one_way():
    wrong = []
    for module, imported in import_graph("experiments").items():
        here = _room(module)
        for other in imported:
            there = _room(other)
            if there[0] > here[0] or (there[0] == here[0] and there[1] != here[1]):
                wrong.append(f"{module} ({here[1]}) imports {other} ({there[1]})")
    assert wrong == []
