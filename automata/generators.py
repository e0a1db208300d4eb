"""Seeded Bi-NFA generators: random instances with controlled sizes and named families.

Every family has a marked form (the first token of a segment names its type) or is naturally
marked/ambiguous. The catalogue registry `FAMILIES` holds the named families, each a builder
`f(n_types, n_states, seed) -> BiNFA`: `register_family` adds one, `list_families` names them all,
`family_builder` looks one up, `make_family` builds an instance.
The modular counters are the control of docs/theory.md: minimal flat DFA 1 + sum of the moduli when
marked, 1 + the product of the moduli when unmarked (sink not counted).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Hashable
from typing import Any

import catalogue
import numpy as np

from automata.binfa import BiNFA
from automata.exceptions import AutomataInputError
from automata.limits import (
    MAX_ALPHABET,
    MAX_SEED,
    MAX_STATES,
    MAX_TYPES,
    check_flat_size,
    check_int,
    check_real,
)
from automata.nfa import EPSILON, NFA

SEPARATOR = "#"


def symbol_names(n: int) -> list[str]:
    """n token names: 'a'..'z' while they last, else 'x0', 'x1', ..."""
    if n <= 26:
        return list(string.ascii_lowercase[:n])
    return [f"x{i}" for i in range(n)]


def type_names(n: int) -> list[str]:
    """n segment type names 'T0', 'T1', ..."""
    return [f"T{i}" for i in range(n)]


def _random_nfa(
    rng: np.random.Generator,
    n: int,
    symbols: list[Hashable],
    density: float,
    final_prob: float,
    epsilon_prob: float,
) -> tuple[list[tuple[int, Hashable, int]], set[int]]:
    """Arcs and finals of a random NFA on states 0..n-1 (start 0) where every state is useful."""
    arcs: set[tuple[int, Hashable, int]] = set()

    def pick() -> Hashable:
        if epsilon_prob and rng.random() < epsilon_prob:
            return EPSILON
        return symbols[int(rng.integers(len(symbols)))]

    for i in range(1, n):  # reachable: an arc from an earlier state
        arcs.add((int(rng.integers(i)), symbols[int(rng.integers(len(symbols)))], i))
    finals = {n - 1} | {i for i in range(n) if rng.random() < final_prob}
    for i in range(n - 1):  # co-reachable: an arc towards a later state (ends at the final n-1)
        arcs.add((i, symbols[int(rng.integers(len(symbols)))], int(rng.integers(i + 1, n))))
    target = max(len(arcs), round(density * n))
    tries = 0
    while len(arcs) < target and tries < 20 * target:
        arcs.add((int(rng.integers(n)), pick(), int(rng.integers(n))))
        tries += 1
    return sorted(arcs, key=repr), finals


def random_binfa(
    n_types: int = 2,
    n_states: int = 3,
    alphabet_size: int = 2,
    seed: int = 0,
    *,
    top_states: int = 1,
    density: float = 1.5,
    final_prob: float = 0.3,
    epsilon_prob: float = 0.0,
    marked: bool = False,
) -> BiNFA:
    """A random Bi-NFA with exactly `n_states` states per bottom NFA and `top_states` top states.

    Every state is accessible and co-accessible and every type labels a top transition, so the sizes
    are the controlled ones. `density` is the mean number of arcs per state and `epsilon_prob` the
    share of extra arcs (top and bottom) that are epsilon moves. With ``marked=True``
    each type t gets a marker token '<Tt>' read by the only arc leaving its bottom start state.
    """
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    n_states = check_int("n_states", n_states, 2 if marked else 1, MAX_STATES)
    alphabet_size = check_int("alphabet_size", alphabet_size, 1, MAX_ALPHABET)
    top_states = check_int("top_states", top_states, 1, MAX_STATES)
    seed = check_int("seed", seed, 0, MAX_SEED)
    # more arcs per state than there are distinct arcs would spin the drawing loop for nothing
    density = check_real("density", density, 0.0, float(MAX_ALPHABET))
    final_prob = check_real("final_prob", final_prob, 0.0, 1.0)
    epsilon_prob = check_real("epsilon_prob", epsilon_prob, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    types = type_names(n_types)
    sigma = symbol_names(alphabet_size)
    markers = [f"<{t}>" for t in types] if marked else []
    bottoms: dict[Hashable, NFA] = {}
    for k, g in enumerate(types):
        if marked:
            arcs, finals = _random_nfa(rng, n_states - 1, sigma, density, final_prob, epsilon_prob)
            arcs = [(p + 1, a, q + 1) for p, a, q in arcs] + [(0, markers[k], 1)]
            finals = {f + 1 for f in finals}
        else:
            arcs, finals = _random_nfa(rng, n_states, sigma, density, final_prob, epsilon_prob)
        bottoms[g] = NFA(range(n_states), sigma + markers, arcs, 0, finals)
    top_arcs, top_finals = _random_nfa(rng, top_states, types, density, final_prob, epsilon_prob)
    present = {a for _, a, _ in top_arcs}
    for g in types:  # every type must label some top transition
        if g not in present:
            top_arcs.append((int(rng.integers(top_states)), g, int(rng.integers(top_states))))
    top = NFA(range(top_states), types, top_arcs, 0, top_finals)
    return BiNFA(top, bottoms, separator=SEPARATOR, alphabet=sigma + markers)


def free_top(types: list[Hashable]) -> NFA:
    """A one-state top NFA accepting every sequence of types."""
    return NFA([0], types, [(0, g, 0) for g in types], 0, [0])


def primes_from(low: int, count: int) -> list[int]:
    """The `count` consecutive primes >= max(low, 2)."""
    out: list[int] = []
    p = max(low, 2)
    while len(out) < count:
        if all(p % d for d in range(2, int(p**0.5) + 1)):
            out.append(p)
        p += 1
    return out


def modular_counters(
    n_types: int, marked: bool, moduli: list[int] | None = None, min_modulus: int = 2
) -> BiNFA:
    """Segments of type t are a^j with j = 0 mod p_t; marked segments open with a marker '<Tt>'.

    Default moduli: consecutive primes from `min_modulus`. Minimal flat DFA (no sink): marked
    1 + sum(p_t), unmarked 1 + prod(p_t) (add one state each for the sink).
    """
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    low = check_int("min_modulus", min_modulus, 1, MAX_STATES)
    mods = moduli if moduli is not None else primes_from(low, n_types)
    if not isinstance(mods, (list, tuple)):
        raise AutomataInputError(f"moduli must be a list of integers, got {mods!r}")
    # a modulus is a bottom's state count: bounded like the states knob of every family
    if len(mods) != n_types or any(check_int("modulus", p, 1, 4 * MAX_STATES) < 1 for p in mods):
        raise AutomataInputError(f"need {n_types} moduli >= 1, got {mods!r}")
    types = type_names(n_types)
    bottoms: dict[Hashable, NFA] = {}
    for g, p in zip(types, mods):
        arcs: list[tuple[Any, Hashable, Any]] = [(i, "a", (i + 1) % p) for i in range(p)]
        if marked:
            bottoms[g] = NFA(
                ["start", *range(p)], ["a", f"<{g}>"], [("start", f"<{g}>", 0), *arcs], "start", [0]
            )
        else:
            bottoms[g] = NFA(range(p), ["a"], arcs, 0, [0])
    sigma = ["a"] + ([f"<{g}>" for g in types] if marked else [])
    return BiNFA(free_top(types), bottoms, separator=SEPARATOR, alphabet=sigma)


def star_free(n_types: int, n_states: int, seed: int = 0, alphabet_size: int = 2) -> BiNFA:
    """Type t accepts the words containing a random factor u_t of length n_states - 1 (star-free)."""
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    n_states = check_int("n_states", n_states, 2, MAX_STATES)
    rng = np.random.default_rng(check_int("seed", seed, 0, MAX_SEED))
    alphabet_size = check_int("alphabet_size", alphabet_size, 1, MAX_ALPHABET)
    sigma = symbol_names(alphabet_size)
    types = type_names(n_types)
    bottoms: dict[Hashable, NFA] = {}
    for g in types:
        u = [sigma[int(rng.integers(len(sigma)))] for _ in range(n_states - 1)]
        last = n_states - 1
        arcs = [(0, a, 0) for a in sigma] + [(last, a, last) for a in sigma]
        arcs += [(i, u[i], i + 1) for i in range(last)]
        bottoms[g] = NFA(range(n_states), sigma, arcs, 0, [last])
    return BiNFA(free_top(types), bottoms, separator=SEPARATOR, alphabet=sigma)


def dyck(n_types: int, n_states: int) -> BiNFA:
    """Type t: non-empty balanced words over its own bracket pair, depth <= n_states - 2."""
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    depth = check_int("n_states", n_states, 3, MAX_STATES) - 2
    types = type_names(n_types)
    bottoms: dict[Hashable, NFA] = {}
    sigma: list[str] = []
    for k, g in enumerate(types):
        o, c = f"({k}", f"){k}"
        sigma += [o, c]
        acc = depth + 1  # states: 0 start, 1..depth open brackets, depth+1 closed again
        arcs = [(0, o, 1), (acc, o, 1), (1, c, acc)]
        arcs += [(i, o, i + 1) for i in range(1, depth)] + [
            (i, c, i - 1) for i in range(2, depth + 1)
        ]
        bottoms[g] = NFA(range(depth + 2), [o, c], arcs, 0, [acc])
    return BiNFA(free_top(types), bottoms, separator=SEPARATOR, alphabet=sigma)


_OPS: list[tuple[str, Callable[[int, int, int], int]]] = [
    ("+", lambda x, y, b: (x + y) % b),
    ("-", lambda x, y, b: (x - y) % b),
    ("*", lambda x, y, b: (x * y) % b),
    ("max", lambda x, y, b: max(x, y)),
    ("min", lambda x, y, b: min(x, y)),
    ("avg", lambda x, y, b: (x + y) // 2),
]


def arithmetic(n_types: int, n_states: int) -> BiNFA:
    """Steps 'x op y = z' over digits mod B (B = max(2, (n_states - 2) // 4)); one type per op.

    Each bottom has 4B + 2 states; types are told apart by the second token (unambiguous, not marked).
    """
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    if n_types > len(_OPS):
        raise AutomataInputError(f"arithmetic has at most {len(_OPS)} step types, got {n_types}")
    base = max(2, (check_int("n_states", n_states, 1, MAX_STATES) - 2) // 4)
    digits = [str(d) for d in range(base)]
    types = [f"step{op}" for op, _ in _OPS[:n_types]]
    bottoms: dict[Hashable, NFA] = {}
    for g, (op, fn) in zip(types, _OPS):
        states = ["s", *[(k, d) for k in ("x", "op", "y", "eq") for d in range(base)], "f"]
        arcs: list[tuple[Any, Hashable, Any]] = []
        for x in range(base):
            arcs += [("s", digits[x], ("x", x)), (("x", x), op, ("op", x))]
            arcs += [(("op", x), digits[y], ("y", fn(x, y, base))) for y in range(base)]
            arcs += [(("y", x), "=", ("eq", x)), (("eq", x), digits[x], "f")]
        bottoms[g] = NFA(states, [*digits, op, "="], arcs, "s", ["f"])
    sigma = digits + [op for op, _ in _OPS[:n_types]] + ["="]
    return BiNFA(free_top(types), bottoms, separator=SEPARATOR, alphabet=sigma)


FamilyBuilder = Callable[[int, int, int], BiNFA]

# Third-party packages add families through the entry-point group "bipe.families" (catalogue reads it).
FAMILIES = catalogue.Registry(("bipe.families",), entry_points=True)
"""The named families (supports `in`, not iteration: `list_families()` names them)."""


def register_family(
    name: str, builder: FamilyBuilder | None = None
) -> FamilyBuilder | Callable[[FamilyBuilder], FamilyBuilder]:
    """Register `builder(n_types, n_states, seed) -> BiNFA` as family `name`: a decorator or a call.

    Registering the same builder again is a no-op; another builder under a taken name (in-process
    or by an entry point) raises AutomataInputError.
    """
    if not isinstance(name, str) or not name:
        raise AutomataInputError(f"a family name must be a non-empty str, got {name!r}")

    def add(fn: FamilyBuilder) -> FamilyBuilder:
        if not callable(fn):
            raise AutomataInputError(f"the builder of family {name!r} is not callable: {fn!r}")
        taken = catalogue.REGISTRY.get((*FAMILIES.namespace, name))
        if taken is None:
            taken = FAMILIES.get_entry_point(name)
        if taken is not None and taken is not fn:
            raise AutomataInputError(f"family {name!r} is already registered to {taken!r}")
        return FAMILIES.register(name, func=fn)

    return add if builder is None else add(builder)


def list_families() -> list[str]:
    """The sorted names of every family, registered here or by an entry point (none is loaded)."""
    prefix = tuple(FAMILIES.namespace)
    here = {key[-1] for key in catalogue.REGISTRY if key[:-1] == prefix}
    group = catalogue.AVAILABLE_ENTRY_POINTS.select(group=FAMILIES.entry_point_namespace)
    return sorted(here | {ep.name for ep in group})


def family_builder(name: str) -> FamilyBuilder:
    """The builder of family `name` (AutomataInputError naming the valid families otherwise)."""
    if isinstance(name, str):
        try:
            return FAMILIES.get(name)
        except catalogue.RegistryError:
            pass
    raise AutomataInputError(f"unknown family {name!r}; choose one of {list_families()}")


# For the counters n_states is the smallest modulus.
register_family("random", lambda k, n, seed: random_binfa(k, n, 2, seed))
register_family("random-marked", lambda k, n, seed: random_binfa(k, n, 2, seed, marked=True))
register_family("mod-marked", lambda k, n, seed: modular_counters(k, True, min_modulus=n))
register_family("mod-unmarked", lambda k, n, seed: modular_counters(k, False, min_modulus=n))
register_family("star-free", lambda k, n, seed: star_free(k, n, seed))
register_family("dyck", lambda k, n, seed: dyck(k, max(n, 3)))
register_family("arithmetic", lambda k, n, seed: arithmetic(k, n))


def make_family(name: str, n_types: int, n_states: int, seed: int = 0) -> BiNFA:
    """Build a named family instance (AutomataInputError naming the valid families otherwise).

    Every family, an entry point's too, gets the same limits: knobs checked before its builder
    runs, the flattened size (AutomatonTooLargeError) before anything flattens or samples it.
    """
    builder = family_builder(name)
    # checked here because some builders read n_states as a lower bound and would build a default
    n_types = check_int("n_types", n_types, 1, MAX_TYPES)
    n_states = check_int("n_states", n_states, 1, MAX_STATES)
    seed = check_int("seed", seed, 0, MAX_SEED)
    binfa = builder(n_types, n_states, seed)
    if not isinstance(binfa, BiNFA):
        raise AutomataInputError(f"family {name!r} built {type(binfa).__name__}, not a BiNFA")
    return check_flat_size(binfa, f"family {name!r} with {n_types} types and {n_states} states")
