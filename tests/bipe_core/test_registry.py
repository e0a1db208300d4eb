"""The scheme registry on catalogue (built-in schemes, third-party ones through the entry-point
group "bipe.schemes"), and `level_factors` reaching `hier_alibi` from a ModelConfig."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bipe_core import ConfigError, DecoderLM, ModelConfig
from bipe_core.alibi import alibi_slopes
from bipe_core.schemes import SCHEMES, list_schemes, scheme_class

BUILT_IN = {
    "alibi", "bipe_alibi", "bipe_alibi_io", "bipe_rope", "bipe_rope_io", "hier_alibi",
    "hier_rope", "learned", "nope", "rope", "sinusoidal",
}  # fmt: skip


def _python(code: str, *path: Path) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with `path` first on sys.path (before catalogue reads
    the entry points)."""
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in path]!r}\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120
    )


def test_the_registry_is_a_catalogue_registry_with_entry_points():
    assert tuple(SCHEMES.namespace) == ("bipe.schemes",)
    assert SCHEMES.entry_point_namespace == "bipe.schemes" and SCHEMES.entry_points
    assert set(list_schemes()) >= BUILT_IN
    assert all(scheme_class(name) is SCHEMES.get(name) for name in BUILT_IN)
    assert all(scheme_class(name).name == name for name in BUILT_IN)


def _fake_plugin(site: Path) -> None:
    """A third party's distribution: one module with a scheme class, named by an entry point."""
    info = site / "toy_bipe_scheme-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-bipe-scheme\nVersion: 0.1\n")
    # "rope" tries to shadow a built-in: in-process names win
    entry_points = "[bipe.schemes]\ntoy = toy_bipe_scheme:Toy\nrope = toy_bipe_scheme:Toy\n"
    (info / "entry_points.txt").write_text(entry_points)
    (site / "toy_bipe_scheme.py").write_text(
        "from bipe_core import PositionalScheme\n\n\n"
        "class Toy(PositionalScheme):\n"
        '    """A positional scheme of a third party: no position at all."""\n\n'
        '    name = "toy"\n'
    )


def test_a_scheme_from_an_entry_point_is_listed_and_found(tmp_path):
    _fake_plugin(tmp_path)
    done = _python(
        "from bipe_core import DecoderLM, ModelConfig, list_schemes, scheme_class\n"
        "assert 'toy' in list_schemes(), list_schemes()\n"
        "assert 'toy_bipe_scheme' not in sys.modules  # listed without being loaded\n"
        "cls = scheme_class('toy')\n"
        "assert scheme_class('rope').__module__ == 'bipe_core.builtin_schemes'\n"
        "model = DecoderLM(ModelConfig(vocab_size=8, d_model=8, n_layers=1, n_heads=2, scheme='toy'))\n"
        "print(cls.__module__, cls.__qualname__, type(model.pos).__name__)\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["toy_bipe_scheme", "Toy", "Toy"]


# ------------------------------------------------------------------ level_factors via ModelConfig
HIER = dict(
    vocab_size=16, d_model=32, n_layers=1, n_heads=4, scheme="hier_alibi",
    separator_ids=[9], level_separator_ids=[[8]],
)  # fmt: skip


def test_level_factors_reach_the_hier_alibi_bias():
    model = DecoderLM(ModelConfig(**HIER, level_factors=[2.0, 0.5]))
    base = alibi_slopes(4, 96.0)
    assert model.pos.level_factors == [2.0, 0.5]
    assert torch.allclose(model.pos.slopes, torch.stack([2.0 * base, 0.5 * base]))
    default = DecoderLM(ModelConfig(**HIER))
    assert default.pos.level_factors is None
    assert torch.allclose(default.pos.slopes, torch.stack([base, base]))


@pytest.mark.parametrize(
    "factors", [[1.0], [1.0, 2.0, 3.0], ["big", 1.0], [True, 1.0], [0.0, 1.0], 2.0, []]
)
def test_bad_level_factors_are_config_errors(factors):
    with pytest.raises(ConfigError, match="level_factors"):
        ModelConfig(**HIER, level_factors=factors)


def test_level_factors_count_follows_n_levels():
    arrays = {**HIER, "level_separator_ids": (), "n_levels": 3}
    assert ModelConfig(**arrays, level_factors=[4, 2, 1]).level_factors == (4, 2, 1)
    with pytest.raises(ConfigError, match="3 segment levels"):
        ModelConfig(**arrays, level_factors=[2, 1])


def test_level_factors_round_trip_and_old_configs_load():
    cfg = ModelConfig(**HIER, level_factors=[2.0, 1.0])
    data = cfg.to_dict()
    assert data["level_factors"] == [2.0, 1.0]
    assert ModelConfig.from_dict(data) == cfg
    old = ModelConfig(**HIER).to_dict()
    del old["level_factors"]  # written before the field existed
    assert ModelConfig.from_dict(old).level_factors is None
