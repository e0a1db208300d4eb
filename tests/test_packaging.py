"""Packaging: a light install without torch, version attributes, and package names nobody can take over.

The name-conflict tests build fake distributions (a dist-info plus a package) in a temporary directory
and import from it in a fresh interpreter; automata-lib, the real conflict, is imitated by name only.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("segmenters", "bipe_core", "automata", "experiments")
HEAVY = ("torch", "tokenizers", "safetensors", "matplotlib", "tqdm", "bipe_core")


def _python(code: str, *path: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with `path` put first on sys.path."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in path]!r}\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_light(code: str) -> str:
    """Run `code` in a fresh interpreter, check that it loaded none of HEAVY; its stdout."""
    check = (
        f"loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)\nassert not loaded, loaded\n"
    )
    done = _python(code + check, ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_light_packages_never_import_heavy_modules() -> None:
    """segmenters and automata, with every submodule, leave torch and friends unloaded."""
    _run_light(
        "import importlib, pkgutil\n"
        "import segmenters, automata\n"
        "for pkg in (segmenters, automata):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
    )


def test_cli_parser_and_version_are_light() -> None:
    """`bipe --help` and `bipe --version` start without torch (they run on a light install)."""
    out = _run_light(
        "from experiments.cli import build_parser, main\n"
        "build_parser()\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert re.fullmatch(r"bipe \S+\n", out)


def test_install_layout() -> None:
    """Plain `pip install bipe` brings five light dependencies; torch and co. come with "lm"."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(reqs: list[str]) -> set[str]:
        """The lower-cased project names of requirement strings."""
        return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in reqs}

    assert names(project["dependencies"]) == {"numpy", "regex", "networkx", "scipy", "catalogue"}
    extras = project["optional-dependencies"]
    assert names(extras["lm"]) == {"torch", "safetensors", "tokenizers", "matplotlib", "tqdm"}
    for extra in ("all", "dev", "hf"):
        nested = [r for r in extras[extra] if r.startswith("bipe[")]
        assert nested and "lm" in nested[0][5:-1].split(","), extra
    for extra in ("spacy", "code", "test", "series", "bio", "markdown"):
        assert not names(extras[extra]) & {"torch", "bipe"}, extra


def test_versions() -> None:
    """Each package's `__version__` is the installed distribution's (bipe_core's where torch is)."""
    import automata
    import experiments
    import segmenters

    expected = metadata.version("bipe")
    assert segmenters.__version__ == automata.__version__ == experiments.__version__ == expected
    if importlib.util.find_spec("torch") is not None:
        import bipe_core

        assert bipe_core.__version__ == expected


def test_version_cli_output(capsys) -> None:
    """`bipe --version` prints `bipe <version>` and exits 0."""
    from experiments.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == f"bipe {metadata.version('bipe')}\n"


def test_version_fallback_when_not_installed() -> None:
    """Without an installed `bipe` distribution (a bare source tree) the version says so."""
    code = (
        "from importlib import metadata\n"
        "real = metadata.distributions\n"
        "metadata.distributions = lambda **kw: [] if kw.get('name') == 'bipe' else real(**kw)\n"
        "import importlib.util\n"
        "names = ['segmenters', 'automata', 'experiments']\n"
        "if importlib.util.find_spec('torch'):\n"
        "    names.append('bipe_core')\n"
        "import importlib\n"
        "print({importlib.import_module(n).__version__ for n in names})\n"
    )
    done = _python(code, ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "{'0+unknown'}"


# --- name conflicts ----------------------------------------------------------------------------


def _dist_info(site: Path, name: str, version: str, files: list[str]) -> None:
    """Write a minimal dist-info for `name` into `site` whose RECORD lists `files`."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in record))


def _fake_automata_lib(site: Path) -> None:
    """automata-lib's layout (an empty automata/__init__.py, automata/fa/...) and its dist-info."""
    files = ["automata/__init__.py", "automata/fa/__init__.py", "automata/fa/dfa.py"]
    for f in files:
        (site / f).parent.mkdir(parents=True, exist_ok=True)
        (site / f).write_text("class DFA: ...\n" if f.endswith("dfa.py") else "")
    _dist_info(site, "automata-lib", "9.2.0", files)


def _fake_bipe_install(site: Path) -> None:
    """A regular (wheel) install of this checkout's four packages into `site` (over what is there)."""
    files: list[str] = []
    for pkg in PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / pkg, site / pkg, ignore=ignore, dirs_exist_ok=True)
        mine = (p for p in (ROOT / pkg).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        files += sorted(p.relative_to(ROOT).as_posix() for p in mine)
    _dist_info(site, "bipe", metadata.version("bipe"), files)


IMPORT_EXPERIMENTS = (
    "import warnings\n"
    "warnings.simplefilter('always')\n"
    "try:\n"
    "    import experiments\n"
    "except ImportError as exc:\n"
    "    print(type(exc).__name__, exc)\n"
    "else:\n"
    "    import automata\n"
    "    print('ok', experiments.__file__, automata.NFA.__name__)\n"
)


def test_shadowed_by_another_distribution(tmp_path) -> None:
    """automata-lib earlier on sys.path: importing experiments names it, its place and the fix."""
    shadow = tmp_path / "other-site"
    _fake_automata_lib(shadow)
    done = _python(IMPORT_EXPERIMENTS, shadow, ROOT, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert out.startswith(
        "PackageConflictError the `automata` package on sys.path is not BiPE Lab's"
    )
    assert "automata-lib" in out and str(shadow / "automata") in out
    assert "`pip uninstall automata-lib`" in out


def test_shadowed_by_a_stray_directory(tmp_path) -> None:
    """A local `segmenters` directory that no distribution installed: said so, with the fix."""
    (tmp_path / "segmenters").mkdir()
    (tmp_path / "segmenters" / "__init__.py").write_text("")
    done = _python(IMPORT_EXPERIMENTS, tmp_path, ROOT, cwd=tmp_path)
    assert "PackageConflictError the `segmenters` package on sys.path" in done.stdout
    assert "no installed distribution owns it" in done.stdout and "rename or move" in done.stdout


def test_cli_fails_fast_when_shadowed(tmp_path) -> None:
    """The `bipe` console script imports experiments.cli: it stops there with the same message."""
    _fake_automata_lib(tmp_path / "other-site")
    code = "from experiments.cli import main\nmain(['--version'])\n"
    done = _python(code, tmp_path / "other-site", ROOT, cwd=tmp_path)
    assert done.returncode == 1
    assert "PackageConflictError: the `automata` package" in done.stderr
    assert "pip uninstall automata-lib" in done.stderr


def test_clean_regular_install_passes(tmp_path) -> None:
    """A regular install of ours (RECORD lists every file) imports quietly: no false alarm."""
    site = tmp_path / "site"
    _fake_bipe_install(site)
    done = _python(IMPORT_EXPERIMENTS, site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == f"ok {site / 'experiments' / '__init__.py'} NFA\n"
    assert "Warning" not in done.stderr


def test_overwritten_in_the_same_directory(tmp_path) -> None:
    """automata-lib installed after bipe replaced automata/__init__.py: an error with the fix."""
    site = tmp_path / "site"
    _fake_bipe_install(site)
    _fake_automata_lib(site)  # overwrites automata/__init__.py, adds automata/fa
    done = _python(IMPORT_EXPERIMENTS, site, cwd=tmp_path)
    out = done.stdout
    assert out.startswith(f"PackageConflictError the `automata` package at {site / 'automata'}")
    assert "it comes from automata-lib, installed over bipe's" in out
    assert "`pip uninstall automata-lib`, then reinstall bipe" in out and "--force-reinstall" in out


def test_mixed_into_an_intact_package_warns(tmp_path) -> None:
    """bipe installed after automata-lib: ours works, with a warning that names automata-lib."""
    site = tmp_path / "site"
    _fake_automata_lib(site)
    _fake_bipe_install(site)  # our automata/__init__.py replaces automata-lib's; automata/fa stays
    done = _python(IMPORT_EXPERIMENTS, site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok ")
    warning = "PackageConflictWarning: automata-lib installed files into BiPE Lab's `automata`"
    assert warning in done.stderr
    assert "(fa)" in done.stderr and "pip uninstall automata-lib" in done.stderr


def test_damaged_after_uninstalling_the_other(tmp_path) -> None:
    """automata-lib uninstalled after overwriting: automata/__init__.py is gone; reinstall bipe."""
    site = tmp_path / "site"
    _fake_bipe_install(site)
    (site / "automata" / "__init__.py").unlink()  # what `pip uninstall automata-lib` leaves
    done = _python(IMPORT_EXPERIMENTS, site, cwd=tmp_path)
    out = done.stdout
    assert out.startswith(
        "PackageConflictError BiPE Lab's `automata` package is missing or damaged"
    )
    assert str(site / "automata") in out and "--force-reinstall bipe" in out
