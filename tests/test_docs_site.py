"""The documentation site: every nav entry exists, every page is in the nav, the API pages name
real modules, and the README points at pages that exist (`mkdocs build --strict` runs in CI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _nav_pages() -> list[str]:
    yaml = pytest.importorskip("yaml")
    # mkdocs.yml has no custom tags, so the safe loader reads it
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            pages.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(config["nav"])
    return pages


def test_every_nav_entry_exists_and_every_page_is_in_the_nav():
    pages = _nav_pages()
    missing = [p for p in pages if not (DOCS / p).is_file()]
    assert not missing, f"mkdocs.yml nav names pages that do not exist: {missing}"
    on_disk = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if not p.relative_to(DOCS).as_posix().startswith("results/")  # run reports, linked
    }
    left_out = sorted(on_disk - set(pages))
    assert not left_out, f"pages missing from the nav of mkdocs.yml (add one line each): {left_out}"


def test_api_pages_name_modules_that_exist():
    for page in (DOCS / "api").glob("*.md"):
        for module in re.findall(r"^::: ([\w.]+)$", page.read_text(encoding="utf-8"), re.M):
            path = ROOT / (module.replace(".", "/") + ".py")
            assert path.is_file() or (ROOT / module.replace(".", "/")).is_dir(), (page, module)


def test_readme_names_pages_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for ref in re.findall(r"`(docs/[\w/.-]+\.md)`", readme):
        assert (ROOT / ref).is_file(), ref


def test_the_docs_extra_brings_the_site_tools():
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {re.split(r"[\[<>=]", r)[0] for r in extras["docs"]}
    assert names == {"mkdocs", "mkdocs-material", "mkdocstrings"}
    assert "docs" in extras["dev"][0]


PACKAGES = ("segmenters", "bipe_core", "automata", "experiments")


def _code_imports() -> list[tuple[str, str, list[str]]]:
    """(page, module, names) of every ``from PACKAGE... import`` in the pages' Python blocks."""
    pages = [p for p in DOCS.rglob("*.md") if "results" not in p.relative_to(DOCS).parts]
    found = []
    for page in [*pages, ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            packages = "|".join(PACKAGES)
            pattern = rf"^\s*from ((?:{packages})[\w.]*) import (\([^)]*\)|[^\n]*)"
            for m in re.finditer(pattern, block, re.M):
                listed = m.group(2).strip("()").replace("\n", " ").split(",")
                names = [n.split(" as ")[0].strip() for n in listed if n.strip()]
                found.append((page.relative_to(ROOT).as_posix(), m.group(1), names))
    return found


def test_docs_import_only_what_the_packages_export():
    """Code on a page imports from a package itself (its __init__ is the public API), and every
    name it imports is exported there."""
    import importlib

    wrong = []
    for page, module, names in _code_imports():
        if module not in PACKAGES:
            wrong.append(f"{page}: from {module} import ... (import from {module.split('.')[0]})")
            continue
        pkg = importlib.import_module(module)
        wrong += [f"{page}: {module} has no {n}" for n in names if not hasattr(pkg, n)]
    assert _code_imports() and wrong == []
