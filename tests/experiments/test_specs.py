"""One spec syntax: parse_spec, split_specs and parse_value, as every command uses them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments.errors import ExperimentError
from experiments.specs import parse_options, parse_spec, parse_value, split_specs


def test_parse_spec_reads_name_and_typed_options():
    assert parse_spec("punct") == ("punct", {})
    assert parse_spec("fixed:size=64,unit=tokens") == ("fixed", {"size": 64, "unit": "tokens"})
    assert parse_spec(" fixed : size = 1.5 , strict=true ") == (
        "fixed",
        {"size": 1.5, "strict": True},
    )


@pytest.mark.parametrize("bad", ["", "  ", ":size=3", "fixed:size", "size=3"])
def test_malformed_specs_raise(bad):
    with pytest.raises(ExperimentError):
        parse_spec(bad)


def test_split_specs_keeps_each_specs_options_together():
    assert split_specs("punct,fixed:size=120,unit=tokens,sep") == [
        "punct",
        "fixed:size=120,unit=tokens",
        "sep",
    ]
    assert split_specs("fixed,size=3") == ["fixed:size=3"]
    with pytest.raises(ExperimentError, match="before any spec"):
        split_specs("size=3,punct")


_names = st.sampled_from(["punct", "fixed", "sentence", "code", "sep"])
_values = st.one_of(st.integers(-5, 500), st.booleans(), st.sampled_from(["tokens", "chars"]))
_options = st.dictionaries(st.sampled_from(["size", "unit", "lines", "level"]), _values, max_size=3)


@given(st.lists(st.tuples(_names, _options), min_size=1, max_size=4))
def test_specs_round_trip_through_a_comma_list(items):
    text = ",".join(
        name + (":" + ",".join(f"{k}={str(v).lower()}" for k, v in opts.items()) if opts else "")
        for name, opts in items
    )
    assert [parse_spec(s) for s in split_specs(text)] == [(n, o) for n, o in items]


def test_parse_value_and_options():
    assert parse_value("null") is None and parse_value("[1, 2]") == [1, 2]
    assert parse_options(["a=1", "b=x"]) == {"a": 1, "b": "x"}
    with pytest.raises(ExperimentError, match="key=value"):
        parse_options(["novalue"])


def test_nested_specs_split_into_levels_and_stay_whole_in_lists():
    from experiments.specs import is_nested, split_levels

    nested = "code:language=python@file > @definition > @line"
    assert split_levels(nested) == [
        ("code:language=python", "file"),
        ("code:language=python", "definition"),
        ("code:language=python", "line"),
    ]
    assert split_levels("punct:lines=true@line > punct") == [
        ("punct:lines=true", "line"),
        ("punct", None),
    ]
    assert split_specs(f"punct,{nested},fixed:size=9 > punct,unit=chars") == [
        "punct",
        nested,
        "fixed:size=9 > punct:unit=chars",
    ]
    assert is_nested(nested) and is_nested("code@line") and not is_nested("fixed:size=3")


@pytest.mark.parametrize("bad", ["a >  > b", "> punct", "code@", "@line", "punct > fixed:size"])
def test_malformed_nested_specs_raise(bad):
    from experiments.specs import split_levels

    with pytest.raises(ExperimentError):
        split_levels(bad)


def test_parse_spec_refuses_a_nested_spec():
    with pytest.raises(ExperimentError, match="nested"):
        parse_spec("punct > fixed")
