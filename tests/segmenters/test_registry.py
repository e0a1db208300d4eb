"""The registry: names, descriptions, option errors, and a real entry-point plug-in."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from pathlib import Path

import catalogue
import pytest

from segmenters import (
    SegmenterOptionError,
    UnknownSegmenterError,
    describe_segmenters,
    get_segmenter,
    list_segmenters,
    register_segmenter,
)
from segmenters.base import BaseSegmenter, make_segmentation
from segmenters.registry import ENTRY_POINT_GROUP, SEGMENTERS


def test_builtins_listed_with_descriptions() -> None:
    names = list_segmenters()
    assert {"punct", "fixed"} <= set(names) and names == sorted(names)
    desc = describe_segmenters()
    assert desc["punct"].startswith("punctuation") and desc["fixed"].startswith("fixed-length")


def test_get_segmenter_records_name_and_options() -> None:
    seg = get_segmenter("punct", preset="paper")
    assert seg.name == "punct" and seg.options == {"preset": "paper"}
    assert "preset='paper'" in repr(seg)


@pytest.mark.parametrize("name", ["puncts", "", "PUNCT"])
def test_unknown_names_list_the_choices(name: str) -> None:
    with pytest.raises(UnknownSegmenterError, match=r"available: .*fixed.*punct"):
        get_segmenter(name)


def test_non_str_name() -> None:
    with pytest.raises(UnknownSegmenterError, match="must be a str, got int"):
        get_segmenter(3)  # type: ignore[arg-type]


def test_option_errors_are_typed() -> None:
    with pytest.raises(SegmenterOptionError):
        get_segmenter("fixed", size=0)
    with pytest.raises(SegmenterOptionError):
        get_segmenter("punct", nonsense=True)


def test_decorator_registration() -> None:
    @register_segmenter("test-whole", "the whole text as one segment")
    class Whole(BaseSegmenter):
        def segment(self, text: str):
            return make_segmentation(text, [(0, len(text))] if text else [], segmenter=self.name)

    try:
        assert "test-whole" in list_segmenters()
        assert describe_segmenters()["test-whole"] == "the whole text as one segment"
        assert [s.text for s in get_segmenter("test-whole").segment("ab")] == ["ab"]
    finally:
        catalogue.REGISTRY.pop((*SEGMENTERS.namespace, "test-whole"), None)
    assert "test-whole" not in list_segmenters()


PLUGIN = '''
from segmenters.base import BaseSegmenter, make_segmentation


class CharSegmenter(BaseSegmenter):
    """One segment per character."""

    def segment(self, text):
        return make_segmentation(text, [(i, i + 1) for i in range(len(text))], segmenter=self.name)
'''


@pytest.fixture
def plugin_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real installed distribution (dist-info + module) on sys.path that exposes a plug-in."""
    (tmp_path / "bipe_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "bipe_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bipe-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nchars = bipe_test_plugin:CharSegmenter\n"
    )
    sys.path.insert(0, str(tmp_path))
    # catalogue reads the entry points once, at import: this "install" comes later, so look again
    # (monkeypatch puts the old list back, as if the distribution were uninstalled)
    monkeypatch.setattr(catalogue, "AVAILABLE_ENTRY_POINTS", importlib.metadata.entry_points())
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("bipe_test_plugin", None)


def test_entry_point_plugin(plugin_dist: None) -> None:
    assert "chars" in list_segmenters()
    assert describe_segmenters()["chars"] == "plug-in bipe_test_plugin:CharSegmenter"
    seg = get_segmenter("chars")
    assert seg.name == "chars"
    assert [s.text for s in seg.segment("abc")] == ["a", "b", "c"]
    # segment_many with workers rebuilds the plug-in by name inside each worker process
    assert [len(s) for s in seg.segment_many(["ab", "cde"], workers=1)] == [2, 3]


def test_plugin_gone_after_uninstall() -> None:
    assert "chars" not in list_segmenters()
