"""Lossless NFA export and import: networkx MultiDiGraph, JSON (validated before use), Graphviz DOT."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import networkx as nx

from automata.exceptions import AutomataFormatError, AutomataInputError
from automata.nfa import EPSILON, NFA, sorted_symbols
from automata.table import table_to_networkx

JSON_FORMAT = "bipe-nfa"
JSON_VERSION = 1


# --------------------------------------------------------------------- networkx
def to_networkx(nfa: NFA) -> nx.MultiDiGraph:
    """A fresh MultiDiGraph: nodes are states (attrs start/final), edges carry ``symbol``.

    Graph attributes ``start``, ``finals`` (frozenset) and ``alphabet`` (frozenset) make it lossless;
    state order is the node insertion order.
    """
    parts = (nfa.states, nfa.alphabet, nfa.succ_table(), nfa.start_index, nfa.final_indices)
    return table_to_networkx(*parts)


def from_networkx(graph: nx.MultiDiGraph) -> NFA:
    """Rebuild an NFA from a graph shaped like `to_networkx` output, validating everything."""
    if not isinstance(graph, nx.Graph) or not graph.is_directed():
        raise AutomataFormatError(f"expected a directed networkx graph, got {type(graph).__name__}")
    for key in ("start", "finals"):
        if key not in graph.graph:
            raise AutomataFormatError(
                f"graph attribute {key!r} is missing (need start, finals, alphabet)"
            )
    triples = []
    for u, v, data in graph.edges(data=True):
        if "symbol" not in data:
            raise AutomataFormatError(f"edge {u!r} -> {v!r} has no 'symbol' attribute")
        triples.append((u, data["symbol"], v))
    alphabet = graph.graph.get("alphabet")
    if alphabet is None:
        alphabet = {a for _, a, _ in triples if a is not EPSILON}
    return NFA(list(graph.nodes), alphabet, triples, graph.graph["start"], graph.graph["finals"])


# --------------------------------------------------------------------- JSON
def _json_scalar(x: Any, what: str) -> Any:
    if isinstance(x, bool) or not isinstance(x, (str, int)):
        fix = "call .relabel() first" if what == "state" else "use str or int symbols"
        raise AutomataFormatError(
            f"{what} {x!r} cannot be written to JSON (only str or int); {fix}"
        )
    return x


def to_dict(nfa: NFA) -> dict[str, Any]:
    """The JSON-ready dict: format, version, states, alphabet, start, finals, transitions."""
    states = [_json_scalar(s, "state") for s in nfa.states]
    alphabet = [_json_scalar(a, "symbol") for a in sorted_symbols(nfa.alphabet)]
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "states": states,
        "alphabet": alphabet,
        "start": nfa.start,
        "finals": [s for s in states if s in nfa.finals],
        "transitions": [[p, a, q] for p, a, q in nfa.transitions()],
    }


def to_json(nfa: NFA, *, indent: int | None = None) -> str:
    """Serialise to a JSON string (epsilon moves have symbol null)."""
    return json.dumps(to_dict(nfa), indent=indent)


def _scalar_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise AutomataFormatError(f"{what!r} must be a JSON list, got {type(value).__name__}")
    for x in value:
        if isinstance(x, bool) or not isinstance(x, (str, int)):
            raise AutomataFormatError(
                f"{what!r} holds {x!r}: only strings and integers are allowed"
            )
    return value


def read_document(
    data: str | bytes | Mapping[str, Any],
    *,
    what: str,
    fmt: str,
    version: int,
    required: tuple[str, ...],
    header_optional: bool = False,
) -> Mapping[str, Any]:
    """Parse JSON text (or take a dict) and check its format, version and required keys."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AutomataFormatError(f"not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise AutomataFormatError(f"{what} must be a JSON object, got {type(data).__name__}")
    if data.get("format", fmt if header_optional else None) != fmt:
        raise AutomataFormatError(f"format is {data.get('format')!r}, expected {fmt!r}")
    if data.get("version", version if header_optional else None) != version:
        raise AutomataFormatError(
            f"version {data.get('version')!r} is not supported (only {version})"
        )
    missing = [k for k in required if k not in data]
    if missing:
        raise AutomataFormatError(f"missing keys {missing}; {what} needs {list(required)}")
    return data


def from_json(data: str | bytes | Mapping[str, Any]) -> NFA:
    """Parse a `to_json` document (or its dict) and validate it fully before building the NFA."""
    data = read_document(
        data,
        what="an NFA document",
        fmt=JSON_FORMAT,
        version=JSON_VERSION,
        required=("states", "alphabet", "start", "finals", "transitions"),
        header_optional=True,  # hand-written NFA documents may leave out the header
    )
    states = _scalar_list(data["states"], "states")
    alphabet = _scalar_list(data["alphabet"], "alphabet")
    finals = _scalar_list(data["finals"], "finals")
    start = data["start"]
    if isinstance(start, bool) or not isinstance(start, (str, int)):
        raise AutomataFormatError(f"'start' must be a string or integer, got {start!r}")
    raw = data["transitions"]
    if not isinstance(raw, list):
        raise AutomataFormatError("'transitions' must be a JSON list of [source, symbol, target]")
    triples = []
    for k, t in enumerate(raw):
        if not isinstance(t, list) or len(t) != 3:
            raise AutomataFormatError(
                f"transition #{k} {t!r} is not a [source, symbol, target] list"
            )
        for x in t:
            if x is not None and (isinstance(x, bool) or not isinstance(x, (str, int))):
                raise AutomataFormatError(
                    f"transition #{k} {t!r} holds {x!r}: only str, int or null"
                )
        if t[0] is None or t[2] is None:
            raise AutomataFormatError(f"transition #{k} {t!r} has a null state")
        triples.append(tuple(t))
    try:
        return NFA(states, alphabet, triples, start, finals)
    except AutomataInputError as exc:
        raise AutomataFormatError(str(exc)) from None


# --------------------------------------------------------------------- DOT
def _dot_quote(x: Any) -> str:
    return '"' + str(x).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(nfa: NFA, name: str = "NFA") -> str:
    """A Graphviz DOT digraph; parallel symbols between two states share one edge label."""
    lines = [
        f"digraph {_dot_quote(name)} {{",
        "  rankdir=LR;",
        '  __start [shape=point, label=""];',
    ]
    lab = nfa.states
    for i, s in enumerate(lab):
        shape = "doublecircle" if i in nfa.final_indices else "circle"
        lines.append(f"  {_dot_quote(i)} [shape={shape}, label={_dot_quote(s)}];")
    lines.append(f"  __start -> {_dot_quote(nfa.start_index)};")
    for i, d in enumerate(nfa.succ_table()):
        by_target: dict[int, list[str]] = {}
        for a in sorted_symbols(d):
            for j in d[a]:
                by_target.setdefault(j, []).append("ε" if a is EPSILON else str(a))
        for j, syms in by_target.items():
            lines.append(
                f"  {_dot_quote(i)} -> {_dot_quote(j)} [label={_dot_quote(','.join(syms))}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"
