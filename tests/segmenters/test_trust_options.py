"""Every segmenter declares its options in one way, and bad options or inputs are typed errors that
name them: never a TypeError, a hang, an option silently ignored, or a damaged model used as is."""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments.cli import main
from segmenters import SegmenterError, get_segmenter, list_segmenters
from segmenters.bio import prosite_to_regex
from segmenters.errors import SegmenterInputError, SegmenterOptionError
from segmenters.io import read_text_file
from segmenters.options import Option, check_declared
from segmenters.registry import _declaring, _factory, check_options, declared_options
from segmenters.sentence_eval import load_eval_set

BUILTINS = ["changepoint", "code", "dna", "entropy", "fixed", "markdown", "protein", "punct"]
FAST = ["changepoint", "dna", "entropy", "fixed", "markdown", "protein", "punct"]


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


@pytest.mark.parametrize("name", [*BUILTINS, "sentence"])
def test_every_builtin_declares_each_option_once_with_its_default_and_meaning(name):
    declared = _declaring(_factory(name)).OPTIONS
    assert declared and all(isinstance(o, Option) and o.meaning for o in declared)
    params = inspect.signature(_declaring(_factory(name))).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # the signature and the declaration say the same: one set of names, one default each
        assert {k: p.default for k, p in params.items()} == {o.name: o.default for o in declared}
    with pytest.raises(SegmenterOptionError) as err:
        get_segmenter(name, no_such_option=1)
    assert all(f"{o.name}=" in str(err.value) for o in declared)  # each listed with its default


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("fixed", {"size": 0}, "size must be a positive int"),
        ("fixed", {"keep_crlf": "maybe"}, "keep_crlf must be True or False"),
        ("changepoint", {"penalty": "abc"}, "penalty must be a positive finite number"),
        ("changepoint", {"min_size": True}, "min_size must be a positive int"),
        ("changepoint", {"jump": float("nan")}, "jump"),
        ("dna", {"min_orf": "abc"}, "min_orf must be a positive int"),
        ("dna", {"frame": True}, "frame"),
        ("protein", {"size": 2.5}, "size must be a positive int"),
        ("markdown", {"section_depth": "deep"}, r"section_depth must be an int from 1 to 6"),
        ("entropy", {"order": 10**9}, "order must be an int from 1 to 64"),
        ("entropy", {"bins": 10**12}, "bins"),
        ("entropy", {"alpha": float("inf")}, "alpha"),
        ("entropy", {"train": 3}, "train must be a file path"),
        ("entropy", {"model": ["m.npz"]}, "model must be a file path"),
        ("code", {"levels": 3}, "levels must be a list of level names"),
        ("code", {"filename": 3}, "filename must be a file path"),
        ("code", {"tokenizer": "gpt2"}, "tokenizer must be a callable"),
        ("punct", {"lines": "yes"}, "lines must be True or False"),
    ],
)
def test_a_declared_option_of_the_wrong_type_or_range_is_refused(name, options, words):
    with pytest.raises(SegmenterOptionError, match=words):
        get_segmenter(name, **options)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(FAST), data=st.data())
def test_any_value_of_any_option_builds_a_segmenter_or_is_a_typed_error(name, data):
    option = data.draw(st.sampled_from([o.name for o in declared_options(name)]))
    if option in ("train", "model"):
        return  # a path that exists is up to the file system, not the option check
    value = data.draw(VALUES)
    with contextlib.suppress(SegmenterError):  # any other exception fails the test
        get_segmenter(name, **{option: value})


def test_a_plugin_segmenter_declares_its_options_by_options_or_by_its_signature():
    class Lines:
        OPTIONS = (Option("width", (int,), 80, "characters per line", ge=1, le=1000),)

    check_options("lines", Lines, {"width": 3})
    with pytest.raises(SegmenterOptionError, match=r"valid options: width \(width=80"):
        check_options("lines", Lines, {"wdth": 3})
    with pytest.raises(SegmenterOptionError, match="from 1 to 1000"):
        check_options("lines", Lines, {"width": 5000})

    class Old:
        def __init__(self, keep_empty: bool = False) -> None:
            pass

    with pytest.raises(SegmenterOptionError, match="true or false"):
        check_options("old", Old, {"keep_empty": "maybe"})


def test_check_declared_fills_defaults_and_refuses_a_bool_for_an_int_choice():
    declared = (Option("frame", (int,), 0, "reading frame", choices=(0, 1, 2)),)
    assert check_declared("dna", declared, {}) == {"frame": 0}
    assert check_declared("dna", declared, {"frame": np.int64(2)}) == {"frame": 2}
    with pytest.raises(SegmenterOptionError, match="unknown dna frame True"):
        check_declared("dna", declared, {"frame": True})  # True == 1, but it is not a frame


@pytest.mark.parametrize(
    "motif",
    [
        "x(5000000000)",
        "x(0,1000)-x(0,1000)-x(0,1000)-x(0,1000)",
        "x(9,2)",
        "x(0,10)-A-x(0,10)-A-x(0,10)-[WY]",
        "-".join(["A"] * 600),
    ],
)
def test_a_protein_motif_is_bounded_before_it_runs(motif):
    with pytest.raises(SegmenterOptionError, match="motif"):
        get_segmenter("protein", mode="motif", motif=motif)


def test_the_costliest_motif_allowed_runs_in_bounded_time():
    # adjacent x ranges are one range: x(0,500)-x(0,500) is x(0,1000), one way to stretch per end
    assert prosite_to_regex("x(0,500)-x(0,500)-[WY]") == ".{0,1000}[WY]"
    protein = "A" * 20_000
    for motif in ("x(0,500)-x(0,500)-[WY]", "x(0,9)-A(0,9)-x(0,9)-[WY]"):
        seg = get_segmenter("protein", mode="motif", motif=motif)
        start = time.perf_counter()
        assert len(seg.segment(protein)) == 1
        assert time.perf_counter() - start < 4.0


def test_real_prosite_motifs_still_work():
    seg = get_segmenter("protein", mode="motif", motif="x(2,4)-C")
    assert len(seg.segment("MNGTSAAACAANVTQC")) >= 2
    assert prosite_to_regex("C-x(2)-x(1,3)-H") == "C.{3,5}H"


def _trained(path, **options):
    seg = get_segmenter("entropy", **options)
    seg.fit(["Hello there. How are you? Fine, thanks. " * 40])
    seg.save(path)
    return seg


def _rewrite(path, edit):
    """Rewrite a model file through ``edit(meta, arrays)``: still a valid zip, other content."""
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        arrays = {k: z[k] for k in z.files if k != "meta"}
    edit(meta, arrays)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_damaged_entropy_model_is_a_typed_error(tmp_path, damage):
    path = tmp_path / "model.npz"
    _trained(path)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[200:210] = bytes(b ^ 0x55 for b in raw[200:210])
    path.write_bytes(bytes(raw))
    with pytest.raises(SegmenterInputError, match=r"model\.npz"):
        get_segmenter("entropy", model=str(path))
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left


def test_an_entropy_model_changed_after_saving_fails_its_checksum(tmp_path):
    path = tmp_path / "model.npz"
    _trained(path)

    def edit(meta, arrays):
        arrays["entropy1"] = arrays["entropy1"] * 2  # numbers that look right, and are not

    _rewrite(path, edit)
    with pytest.raises(SegmenterInputError, match=r"model\.npz: checksum mismatch"):
        get_segmenter("entropy", model=path)


def test_an_old_entropy_model_without_checksum_still_loads_and_is_checked(tmp_path):
    path = tmp_path / "old.npz"
    seg = _trained(path)

    def to_old(meta, arrays):
        meta.pop("sha256")
        meta["format"] = "bipe-entropy-1"

    _rewrite(path, to_old)
    text = "Hello there. Fine, thanks."
    assert get_segmenter("entropy", model=path).segment(text).spans == seg.segment(text).spans

    def bogus(meta, arrays):
        meta["measure"] = "bogus"

    _rewrite(path, bogus)
    with pytest.raises(SegmenterInputError, match=r"old\.npz: not a consistent entropy model"):
        get_segmenter("entropy", model=path)


def test_an_option_a_loaded_model_fixes_is_refused_not_ignored(tmp_path):
    path = tmp_path / "m.npz"
    _trained(path, measure="surprise")
    assert get_segmenter("entropy", model=path).measure == "surprise"
    assert get_segmenter("entropy", model=path, measure="surprise").measure == "surprise"
    for options in ({"measure": "entropy"}, {"order": 5}, {"mean_length": 4.0}):
        with pytest.raises(SegmenterOptionError, match="does not apply to the trained model"):
            get_segmenter("entropy", model=path, **options)


def _fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_before_it_is_opened(tmp_path):
    fifo = _fifo(tmp_path)  # opening it would block until someone writes
    with pytest.raises(SegmenterInputError, match="not a regular file"):
        read_text_file(fifo)
    with pytest.raises(SegmenterInputError, match="not a regular file"):
        get_segmenter("entropy", model=fifo)
    with pytest.raises(SegmenterInputError, match="not a regular file"):
        get_segmenter("entropy", train=fifo)


def test_a_device_is_refused_before_it_is_read():
    with pytest.raises(SegmenterInputError, match="not a regular file"):
        read_text_file("/dev/zero")


@pytest.mark.parametrize("path", [3, "bad\x00name"])
def test_a_path_that_is_not_one_is_a_typed_error(path):
    with pytest.raises(SegmenterInputError):
        read_text_file(path)


def test_an_eval_set_that_is_missing_or_malformed_is_a_typed_error(tmp_path):
    with pytest.raises(SegmenterInputError, match=r"missing\.jsonl"):
        load_eval_set(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    case = {"id": 1, "text": "Hi.", "category": "c", "language": "en", "script": "Latn"}
    bad.write_text(json.dumps({**case, "source": "s", "sentences": "Hi."}) + "\n")
    with pytest.raises(SegmenterInputError, match=r"bad\.jsonl:1"):
        load_eval_set(bad)


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


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("dna:foo=1", "dna: unknown option(s) foo; valid options: frame, table, min_orf, level"),
        ("fixed:size=0", "fixed: size must be a positive int, got 0"),
        ("changepoint:penalty=abc", "changepoint: penalty must be a positive finite number"),
        ("fixed:keep_crlf=maybe", "fixed: keep_crlf must be True or False, got 'maybe'"),
    ],
)
def test_bipe_segment_names_a_bad_option_in_one_message(tmp_path, capsys, spec, words):
    text = tmp_path / "t.txt"
    text.write_text("ACGT\n")
    assert main(["segment", "-s", spec, str(text)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_bipe_segmenters_lists_each_option_with_its_default_and_meaning(capsys):
    assert main(["segmenters", "--options"]) == 0
    out = capsys.readouterr().out
    assert re.search(
        r"^  size=64: characters \(or tokens\) per segment \(a positive int\)$", out, re.M
    )
    assert "section_depth=6" in out and "one of 'region', 'codon'" in out
