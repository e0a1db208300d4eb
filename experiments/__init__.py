"""Experiments: the `bipe` command line, corpora, training, evaluation, reports and plots.

The package is a few rooms, each importing only the rooms below it (tests/test_layers.py checks
it): `corpora` (documents, the corpus registry, named corpora and sources) -> `pipeline` (token
cache, position sources, streams and batches) -> `engine` (one config system with presets, one
training loop, one sweep engine) -> `analysis` (statistics, results, reports) -> the tasks `lm`
(the language-model grid) and `synthetic` (Bi-NFA languages) -> `commands` (one module per `bipe`
sub-command) -> `cli`. The names a user needs are importable from here, loaded on first use
(``from experiments import train_run`` imports torch; ``import experiments`` does not).

Importing it checks that the other packages of the `bipe` distribution found on sys.path really are
BiPE Lab's: `automata`, for one, is also the import name of PyPI's automata-lib. A package of another
distribution found first on sys.path (shadowed), or installed over ours in the same directory
(overwritten), raises `PackageConflictError` naming that distribution and the fix; another
distribution's files mixed into an intact package of ours give a `PackageConflictWarning`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import warnings
from importlib import metadata
from pathlib import Path

# "0+unknown": a source tree that was never installed
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")
__bipe__ = True  # marker: this package is BiPE Lab's (see check_packages)

DISTRIBUTION = "bipe"
PACKAGES = ("segmenters", "bipe_core", "automata", "experiments")
_MARKER = re.compile(r"^__bipe__ = True\b", re.M)


class PackageConflictError(ImportError):
    """A package name of BiPE Lab resolves to another distribution's package, or ours is damaged."""


class PackageConflictWarning(UserWarning):
    """Another distribution installed files into one of BiPE Lab's package directories."""


def _has_marker(init_file: str | None) -> bool:
    """Whether the package __init__ at `init_file` carries BiPE Lab's `__bipe__` marker (not run)."""
    if init_file is None:
        return False
    try:
        return bool(_MARKER.search(Path(init_file).read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _locate(name: str) -> tuple[Path | None, bool]:
    """Directory of the package `name` that an import would use, and whether it is BiPE Lab's."""
    mod = sys.modules.get(name)
    if mod is not None:
        origin = getattr(mod, "__file__", None)
        # or its source: a package still running its __init__ has not set the marker yet
        ours = getattr(mod, "__bipe__", None) is True or _has_marker(origin)
        places = list(getattr(mod, "__path__", None) or [])
    else:
        spec = importlib.util.find_spec(name)
        if spec is None:
            return None, False
        origin = spec.origin if spec.has_location else None
        ours = _has_marker(origin)
        places = list(spec.submodule_search_locations or [])
    if origin is None:  # a namespace package: no __init__.py
        return (Path(places[0]).resolve() if places else None), False
    return Path(origin).resolve().parent, ours


def _owners(name: str, package_dir: Path | None) -> list[str]:
    """Distributions other than bipe that installed a package `name` at `package_dir`."""
    found: set[str] = set()
    for dist in metadata.distributions():
        dist_name = dist.metadata["Name"] or "?"
        if dist_name.lower() == DISTRIBUTION or not any(
            f.parts[0] == name for f in dist.files or ()
        ):
            continue
        if package_dir is None or Path(dist.locate_file(name)).resolve() == package_dir:
            found.add(dist_name)
    return sorted(found)


def _conflict_message(name: str, problem: str, package_dir: Path | None) -> str:
    """The error text for one package `name`: what is wrong, whose it is, and the fix."""
    owners = _owners(name, package_dir)
    whose = f"it comes from {', '.join(owners)}" if owners else "no installed distribution owns it"
    uninstall = f"`pip uninstall {' '.join(owners)}`, then " if owners else ""
    reinstall = (
        "reinstall bipe (`pip install --force-reinstall bipe`, or `pip install -e .` in a checkout)"
    )
    if problem == "shadowed":
        fix = (
            f"`pip uninstall {' '.join(owners)}`, or install BiPE Lab into its own virtual environment"
            if owners
            else "rename or move that directory (or run from another directory)"
        )
        return (
            f"the `{name}` package on sys.path is not BiPE Lab's ({whose}, at {package_dir}) and "
            f"shadows the one of the bipe distribution. Fix: {fix}."
        )
    if problem == "overwritten":
        return (
            f"the `{name}` package at {package_dir} is not BiPE Lab's any more: {whose}, installed "
            f"over bipe's in the same directory. Fix: {uninstall}{reinstall}; keep the two in separate "
            "virtual environments if you need both."
        )
    where = f" (left at {package_dir} without its __init__.py)" if package_dir else ""
    return (
        f"BiPE Lab's `{name}` package is missing or damaged{where}; uninstalling a distribution that "
        f"shares the name (automata-lib shares `automata`) removes bipe's files too. Fix: {uninstall}"
        f"{reinstall}."
    )


def _foreign_entries() -> dict[str, list[str]]:
    """Entries of our package directories that the installed bipe's RECORD does not list.

    Only for a regular (wheel) install of this very copy: an editable install or a source tree is
    never written into by pip on behalf of another distribution.
    """
    try:
        dist = metadata.distribution(DISTRIBUTION)
        if dist.read_text("RECORD") is None:
            return {}
        here = Path(dist.locate_file("experiments/__init__.py")).resolve()
    except (metadata.PackageNotFoundError, OSError):
        return {}
    if here != Path(__file__).resolve():
        return {}
    listed: dict[str, set[str]] = {}
    for f in dist.files or ():
        if len(f.parts) > 1 and f.parts[0] in PACKAGES:
            listed.setdefault(f.parts[0], set()).add(f.parts[1])
    foreign: dict[str, list[str]] = {}
    for name, entries in listed.items():
        try:
            present = set(os.listdir(here.parent.parent / name)) - {"__pycache__"}
        except OSError:
            continue
        if present - entries:
            foreign[name] = sorted(present - entries)
    return foreign


def check_packages() -> None:
    """Raise `PackageConflictError` if segmenters, bipe_core or automata on sys.path are not ours."""
    home = Path(__file__).resolve().parent.parent
    for name in PACKAGES[:3]:
        package_dir, ours = _locate(name)
        if ours:
            continue
        if package_dir is None or not (package_dir / "__init__.py").is_file():
            problem = "missing"
        elif package_dir.parent != home:
            problem = "shadowed"
        else:
            problem = "overwritten"
        raise PackageConflictError(_conflict_message(name, problem, package_dir))
    for name, entries in _foreign_entries().items():
        owners = _owners(name, home / name) or ["another distribution"]
        warnings.warn(
            f"{', '.join(owners)} installed files into BiPE Lab's `{name}` package at {home / name} "
            f"({', '.join(entries[:4])}{', ...' if len(entries) > 4 else ''}): bipe works, but the "
            "other may not import, and uninstalling either one removes files that the other needs. "
            f"Fix: `pip uninstall {' '.join(owners)}`, then `pip install --force-reinstall bipe`; "
            "keep the two in separate virtual environments if you need both.",
            PackageConflictWarning,
            stacklevel=2,
        )


check_packages()

# The public API: name -> the module that defines it, imported on first access (PEP 562).
_API = {
    **dict.fromkeys(("ExperimentError", "MissingDependencyError"), "experiments.errors"),
    **dict.fromkeys(
        ("ExperimentConfig", "RunSpec", "apply_overrides", "load_config", "preset", "run_specs"),
        "experiments.lm.config",
    ),
    **dict.fromkeys(("SyntheticConfig", "load_synthetic_config"), "experiments.synthetic.config"),
    **dict.fromkeys(
        ("Corpus", "CorpusInfo", "Document", "list_corpora", "load_corpus", "register_corpus"),
        "experiments.corpora",
    ),
    **dict.fromkeys(
        ("CorpusTokens", "TokenStream", "batch_at", "register_position_source"),
        "experiments.pipeline",
    ),
    **dict.fromkeys(("corpus_tokens", "prepare_data"), "experiments.lm.data"),
    "train_run": "experiments.lm.train",
    "evaluate_run": "experiments.lm.evaluate",
    "run_experiment": "experiments.lm.grid",
    "run_budget": "experiments.lm.budget",
    **dict.fromkeys(("TrainConfig", "fingerprint", "register_preset"), "experiments.engine.config"),
    **dict.fromkeys(("TASKS", "Task", "SweepResult"), "experiments.engine.sweep"),
    **dict.fromkeys(("compare_segmenters", "format_table"), "experiments.analysis.compare"),
    **dict.fromkeys(("diff_interval", "t_interval"), "experiments.analysis.stats"),
}
__all__ = sorted(_API)


def __getattr__(name: str) -> object:
    if name not in _API:
        raise AttributeError(f"module 'experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value  # the next access skips this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
