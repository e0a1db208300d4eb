"""BiPE core (PyTorch): positions, positional encodings, attention, a small decoder LM, cached decoding.

Example::

    from bipe_core import ModelConfig, DecoderLM
    cfg = ModelConfig(vocab_size=100, d_model=64, n_layers=2, n_heads=4,
                      scheme="bipe_alibi", separator_ids=[13])
    model = DecoderLM(cfg)
    logits = model(input_ids)           # (batch, length, vocab)
    out = model.generate(input_ids, 8)  # greedy, KV-cached, segment state carried
"""

from importlib import metadata

__bipe__ = True  # marker: this package is BiPE Lab's (experiments.check_packages looks for it)
__version__ = next((d.version for d in metadata.distributions(name="bipe")), "0+unknown")

from bipe_core.alibi import alibi_slopes
from bipe_core.attention import attention, reference_attention
from bipe_core.cache import KVCache
from bipe_core.checkpoint import load_checkpoint, read_state_dict, save_checkpoint
from bipe_core.config import ModelConfig
from bipe_core.debug import set_debug
from bipe_core.errors import (
    BipeCoreError,
    CheckpointError,
    ConfigError,
    InputError,
    ShapeError,
    UnknownSchemeError,
)
from bipe_core.generate import generate
from bipe_core.hf import export_hf_llama, load_hf_llama
from bipe_core.model import DecoderLM
from bipe_core.positions import (
    Positions,
    SegmentState,
    bilevel_ids,
    build_positions,
    positions_from_arrays,
)
from bipe_core.schemes import (
    PositionalScheme,
    get_scheme,
    list_schemes,
    register_scheme,
    scheme_class,
)

__all__ = [
    "BipeCoreError",
    "CheckpointError",
    "ConfigError",
    "DecoderLM",
    "InputError",
    "KVCache",
    "ModelConfig",
    "PositionalScheme",
    "Positions",
    "SegmentState",
    "ShapeError",
    "UnknownSchemeError",
    "alibi_slopes",
    "attention",
    "bilevel_ids",
    "build_positions",
    "export_hf_llama",
    "generate",
    "get_scheme",
    "list_schemes",
    "load_checkpoint",
    "load_hf_llama",
    "positions_from_arrays",
    "read_state_dict",
    "reference_attention",
    "register_scheme",
    "save_checkpoint",
    "scheme_class",
    "set_debug",
]
