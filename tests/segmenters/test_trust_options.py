"""Every segmenter declares its options in one way, and bad options or inputs are typed errors that
name them: never a TypeError, a hang, or a damaged model file used as it is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from segmenters import SegmenterError, get_segmenter, list_segmenters
from segmenters.errors import SegmenterInputError, SegmenterOptionError
from segmenters.io import read_text_file
from segmenters.registry import check_options


def _constructible(name: str) -> bool:
    try:
        get_segmenter(name)
    except SegmenterError:
        return True  # a missing optional dependency is a typed error too
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(list_segmenters()))
def test_every_segmenter_refuses_an_unknown_option_by_name(name):
    if not _constructible(name):
        pytest.skip(f"{name} needs an extra that is not installed")
    with pytest.raises(SegmenterOptionError, match="no_such_option"):
        get_segmenter(name, no_such_option=1)


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("dna", {"min_orf": "abc"}, "must be an integer"),
        ("protein", {"size": 2.5}, "must be an integer"),
        ("changepoint", {"min_size": True}, "must be an integer"),
        ("markdown", {"section_depth": "deep"}, "must be an integer"),
    ],
)
def test_a_declared_option_of_the_wrong_type_is_refused(name, options, words):
    with pytest.raises(SegmenterOptionError, match=words):
        get_segmenter(name, **options)


def test_a_plugin_segmenter_declares_its_options_by_its_signature():
    class Lines:
        def __init__(self, keep_empty: bool = False, width: int = 80) -> None:
            pass

    check_options("lines", Lines, {"keep_empty": True, "width": 3})
    with pytest.raises(SegmenterOptionError, match="valid options"):
        check_options("lines", Lines, {"wdth": 3})
    with pytest.raises(SegmenterOptionError, match="true or false"):
        check_options("lines", Lines, {"keep_empty": "maybe"})


@pytest.mark.parametrize(
    "motif",
    ["x(5000000000)", "x(0,1000)-x(0,1000)-x(0,1000)-x(0,1000)", "x(9,2)"],
)
def test_a_protein_motif_is_bounded_before_it_runs(motif):
    with pytest.raises(SegmenterOptionError, match="motif"):
        get_segmenter("protein", mode="motif", motif=motif)


def test_real_prosite_motifs_still_work():
    seg = get_segmenter("protein", mode="motif", motif="x(2,4)-C")
    assert len(seg.segment("MNGTSAAACAANVTQC")) >= 2


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_entropy_model_is_a_typed_error(tmp_path, damage):
    seg = get_segmenter("entropy")
    seg.fit(["Hello there. How are you? Fine, thanks. " * 40])
    path = tmp_path / "model.npz"
    seg.save(path)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[200:210] = bytes(b ^ 0x55 for b in raw[200:210])
    path.write_bytes(bytes(raw))
    with pytest.raises(SegmenterInputError, match=r"model\.npz"):
        get_segmenter("entropy", model=str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


def test_a_device_is_refused_before_it_is_read():
    with pytest.raises(SegmenterInputError, match="not a regular file"):
        read_text_file("/dev/zero")


def test_bipe_segment_of_an_endless_stdin_stops_at_the_binary_check():
    with open("/dev/zero", "rb") as zero:
        run = subprocess.run(
            [sys.executable, "-m", "experiments.cli", "segment", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 2 and "looks binary" in run.stderr
