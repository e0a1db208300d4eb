"""Hugging Face LLaMA interop: load LLaMA-layout checkpoints (plain or the paper's), export back.

No `transformers` import is needed: the layout is read from ``config.json`` and the weight files.

Layout of the paper's released checkpoints (zhenyuhe00/BiPE, ``my_modeling_llama_bipe_*.py``): a
LLaMA model whose config carries ``rpe_type`` in {rope, bipe_rope, alibi, bipe_alibi},
``train_scale`` (rows of the intra table, 1024) and ``log_scale`` (always false). The BiPE variants
add ``model.embeds.0.weight``, an ``nn.Embedding(train_scale, hidden_size)`` of intra-segment
positions added to the token embeddings (intra positions are clipped at ``train_scale - 1``), and
split segments at LLaMA token ids 869 ("▁.") and 13 (newline). ``rope``/``alibi`` use the token
index and no table; BiPE-ALiBi multiplies every ALiBi slope by 96.

Keys this module adds on export so that a round trip keeps what LLaMA's config cannot say:
``bipe_separator_ids`` and ``bipe_alibi_factor``. Both are read back on load.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from bipe_core.checkpoint import atomic_write, load_weights, read_json_file, read_state_dict
from bipe_core.config import ModelConfig
from bipe_core.errors import BipeCoreError, CheckpointError, ConfigError
from bipe_core.model import DecoderLM
from bipe_core.schemes import scheme_class

PAPER_RPE_TYPES = ("rope", "bipe_rope", "alibi", "bipe_alibi")
PAPER_SEPARATOR_IDS = (869, 13)  # "▁." and "<0x0A>" in the LLaMA SentencePiece vocabulary
INTRA_TABLE_KEY = "model.embeds.0.weight"  # the paper's nn.ModuleList `embeds` with hier = 1
INTRA_TABLE_ALIASES = (
    "model.embeds.0.weight",
    "model.embed_positions.weight",
    "model.ape.weight",
    "model.intra_embed.weight",
    "model.embed_intra.weight",
)
_IGNORED_SUFFIXES = ("rotary_emb.inv_freq", "self_attn.alibi", ".alibi")


def hf_key_map(n_layers: int) -> dict[str, str]:
    """Hugging Face LLaMA weight name -> `DecoderLM` state-dict name (without the intra table)."""
    out = {
        "model.embed_tokens.weight": "tok_emb.weight",
        "model.norm.weight": "norm.weight",
        "lm_head.weight": "lm_head.weight",
    }
    for i in range(n_layers):
        hf, ours = f"model.layers.{i}.", f"blocks.{i}."
        for proj, name in (("q_proj", "wq"), ("k_proj", "wk"), ("v_proj", "wv"), ("o_proj", "wo")):
            out[f"{hf}self_attn.{proj}.weight"] = f"{ours}attn.{name}.weight"
        for proj, name in (("gate_proj", "w_gate"), ("up_proj", "w_up"), ("down_proj", "w_down")):
            out[f"{hf}mlp.{proj}.weight"] = f"{ours}mlp.{name}.weight"
        out[f"{hf}input_layernorm.weight"] = f"{ours}attn_norm.weight"
        out[f"{hf}post_attention_layernorm.weight"] = f"{ours}mlp_norm.weight"
    return out


def config_from_hf(hf: dict[str, Any], *, separator_ids: list[int] | None = None) -> ModelConfig:
    """ModelConfig of a LLaMA ``config.json`` dict (optionally with the paper's ``rpe_type``)."""
    model_type = hf.get("model_type", "llama")
    if model_type != "llama":
        raise ConfigError(f"model_type {model_type!r} is not supported; only 'llama' layouts load")
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"):
        if not isinstance(hf.get(key), int):
            raise ConfigError(f"config.json lacks an integer {key!r}")
    if hf.get("hidden_act", "silu") != "silu":
        raise ConfigError(f"hidden_act {hf['hidden_act']!r} is not supported (only silu)")
    if hf.get("attention_bias") or hf.get("mlp_bias"):
        raise ConfigError(
            "attention_bias/mlp_bias = true is not supported (DecoderLM has no biases)"
        )
    if hf.get("pretraining_tp", 1) not in (1, None):
        pass  # tensor-parallel slicing does not change the weights, only how they were multiplied
    d, heads = hf["hidden_size"], hf["num_attention_heads"]
    head_dim = hf.get("head_dim") or d // heads
    if head_dim * heads != d:
        raise ConfigError(
            f"head_dim={head_dim} with {heads} heads != hidden_size={d}; not supported"
        )
    if hf.get("log_scale"):
        raise ConfigError("log_scale = true (the paper's optional query scaling) is not supported")
    rpe = hf.get("rpe_type", "rope")
    if rpe not in PAPER_RPE_TYPES:
        raise ConfigError(f"rpe_type {rpe!r} is not one of {', '.join(PAPER_RPE_TYPES)}")
    max_positions = int(hf.get("max_position_embeddings") or 2048)
    seps = separator_ids if separator_ids is not None else hf.get("bipe_separator_ids")
    if seps is None:
        seps = list(PAPER_SEPARATOR_IDS) if "rpe_type" in hf and rpe.startswith("bipe") else []
    rope_theta, rope_scaling = _rope_from_hf(hf)
    fields: dict[str, Any] = dict(
        vocab_size=hf["vocab_size"],
        d_model=d,
        n_layers=hf["num_hidden_layers"],
        n_heads=heads,
        n_kv_heads=hf.get("num_key_value_heads") or heads,
        ffn_hidden=hf.get("intermediate_size"),
        scheme=rpe,
        separator_ids=list(seps),
        max_positions=max_positions,
        rope_theta=rope_theta,
        rope_scaling=rope_scaling,
        tie_embeddings=bool(hf.get("tie_word_embeddings", False)),
        norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        init_std=float(hf.get("initializer_range", 0.02)),
    )
    if rpe.startswith("bipe"):
        # the paper clips intra positions at train_scale - 1 and its table has train_scale rows
        fields.update(max_intra=int(hf.get("train_scale", 1024)), intra="learned", overflow="clamp")
    if "alibi" in rpe and hf.get("bipe_alibi_factor") is not None:
        fields["alibi_factor"] = float(hf["bipe_alibi_factor"])
    return ModelConfig(**fields)


def load_hf_llama(
    directory: str | os.PathLike[str],
    *,
    separator_ids: list[int] | None = None,
    dtype: torch.dtype = torch.float32,
) -> DecoderLM:
    """A `DecoderLM` from a Hugging Face LLaMA-layout directory (config.json + weights)."""
    root = Path(directory)
    config_file = root / "config.json"
    hf = read_json_file(
        config_file, f"{root} has no config.json; not a Hugging Face model directory"
    )
    if not isinstance(hf, dict):
        raise CheckpointError(f"{config_file} does not hold a JSON object")
    try:
        config = config_from_hf(hf, separator_ids=separator_ids)
    except BipeCoreError as exc:
        raise CheckpointError(f"{config_file}: {exc}") from exc
    raw = _read_hf_weights(root)
    model = DecoderLM(config)
    load_weights(model, _rename(raw, model, source=str(root)), source=str(root))
    return model.to(dtype).eval()


def export_hf_llama(
    model: DecoderLM, directory: str | os.PathLike[str], *, dtype: torch.dtype | None = None
) -> Path:
    """Write ``model`` as a LLaMA-layout directory (config.json + model.safetensors)."""
    from safetensors.torch import save_file

    cfg = model.config
    if cfg.scheme not in PAPER_RPE_TYPES:
        raise ConfigError(
            f"scheme {cfg.scheme!r} has no LLaMA layout; exportable: {', '.join(PAPER_RPE_TYPES)}"
        )
    if scheme_class(cfg.scheme).intra_table and cfg.intra != "learned":
        raise ConfigError("only a learned intra table has a LLaMA layout (intra='learned')")
    hf = _hf_config(cfg, str(dtype or next(model.parameters()).dtype))
    inverse = {ours: theirs for theirs, ours in hf_key_map(cfg.n_layers).items()}
    intra_key = model.intra_table_key()
    if intra_key is not None:
        inverse[intra_key] = INTRA_TABLE_KEY
    state = model.state_dict()
    if cfg.tie_embeddings:
        state.pop("lm_head.weight", None)
    unmapped = sorted(set(state) - set(inverse))
    if unmapped:
        raise ConfigError(f"these weights have no LLaMA name: {', '.join(unmapped)}")
    tensors = {
        inverse[k]: v.detach().to("cpu", dtype or v.dtype).contiguous() for k, v in state.items()
    }
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    atomic_write(
        root / "model.safetensors", lambda tmp: save_file(tensors, tmp, metadata={"format": "pt"})
    )
    text = json.dumps(hf, indent=2, sort_keys=True) + "\n"
    atomic_write(root / "config.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return root


def _hf_config(cfg: ModelConfig, dtype_name: str) -> dict[str, Any]:
    """The LLaMA ``config.json`` of a config, with the keys that keep what LLaMA cannot say."""
    hf: dict[str, Any] = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.d_model,
        "intermediate_size": cfg.ffn_hidden,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.max_positions,
        "rms_norm_eps": cfg.norm_eps,
        "initializer_range": cfg.init_std,
        "tie_word_embeddings": cfg.tie_embeddings,
        "attention_bias": False,
        "mlp_bias": False,
        "rope_theta": cfg.rope_theta,
        "rope_parameters": _rope_to_hf(cfg),
        "torch_dtype": dtype_name.removeprefix("torch."),
    }
    if cfg.rope_scaling is not None:  # transformers 4.x reads this key, 5.x rope_parameters
        hf["rope_scaling"] = {k: v for k, v in hf["rope_parameters"].items() if k != "rope_theta"}
    if cfg.scheme != "rope" or cfg.separator_ids:
        hf.update(
            rpe_type=cfg.scheme,
            log_scale=False,
            train_scale=cfg.max_intra,
            bipe_separator_ids=list(cfg.separator_ids),
        )
        if scheme_class(cfg.scheme).has_bias:
            hf["bipe_alibi_factor"] = cfg.alibi_factor
    return hf


def _rope_to_hf(cfg: ModelConfig) -> dict[str, Any]:
    """transformers 5.x ``rope_parameters`` of a config (static NTK has no LLaMA equivalent)."""
    out: dict[str, Any] = {"rope_type": "default", "rope_theta": cfg.rope_theta}
    scaling = cfg.rope_scaling
    if scaling is None:
        return out
    kind = scaling.get("type", scaling.get("rope_type"))
    if kind not in ("linear", "yarn"):
        raise ConfigError(
            f"rope_scaling type {kind!r} has no LLaMA config form (linear and yarn do)"
        )
    out.update(rope_type=kind, factor=float(scaling["factor"]))
    if kind == "yarn":
        original = scaling.get(
            "original_max_position", scaling.get("original_max_position_embeddings")
        )
        out["original_max_position_embeddings"] = original or cfg.max_positions
        for key in ("beta_fast", "beta_slow", "attention_factor"):
            if scaling.get(key) is not None:
                out[key] = float(scaling[key])
    return out


def _rope_from_hf(hf: dict[str, Any]) -> tuple[float, dict[str, Any] | None]:
    """(rope_theta, rope_scaling) from transformers 4.x (rope_theta/rope_scaling) or 5.x
    (rope_parameters) fields. Dynamic NTK depends on the running length and is refused."""
    params = dict(hf.get("rope_parameters") or {})
    params.update(hf.get("rope_scaling") or {})
    theta = float(params.get("rope_theta", hf.get("rope_theta", 10000.0)))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind == "default":
        return theta, None
    factor = params.get("factor")
    if kind == "linear":
        return theta, {"type": "linear", "factor": factor}
    if kind == "yarn":
        if params.get("mscale") or params.get("mscale_all_dim") or params.get("truncate") is False:
            raise ConfigError("YaRN with mscale/mscale_all_dim/truncate=false is not supported")
        original = params.get("original_max_position_embeddings") or hf.get(
            "max_position_embeddings"
        )
        keys = ("beta_fast", "beta_slow", "attention_factor")
        extra = {k: params[k] for k in keys if params.get(k) is not None}
        return theta, {"type": "yarn", "factor": factor, "original_max_position": original, **extra}
    raise ConfigError(
        f"rope scaling type {kind!r} is not supported on load (supported: default, linear, yarn)"
    )


def _read_hf_weights(root: Path) -> dict[str, torch.Tensor]:
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index_file = root / index_name
        if index_file.is_file():
            try:
                weight_map = json.loads(index_file.read_text(encoding="utf-8"))["weight_map"]
                shards = sorted(set(weight_map.values()))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                raise CheckpointError(f"{index_file} is not a valid shard index: {exc}") from exc
            state: dict[str, torch.Tensor] = {}
            for shard in shards:
                if Path(shard).name != shard:
                    raise CheckpointError(
                        f"{index_file} names a shard outside the directory: {shard!r}"
                    )
                state.update(read_state_dict(root / shard))
            return state
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (root / name).is_file():
            return read_state_dict(root / name)
    raise CheckpointError(f"{root} holds no model.safetensors, pytorch_model.bin or shard index")


def _rename(
    raw: dict[str, torch.Tensor], model: DecoderLM, *, source: str
) -> dict[str, torch.Tensor]:
    mapping = hf_key_map(model.config.n_layers)
    intra_key = model.intra_table_key()
    out: dict[str, torch.Tensor] = {}
    unknown = []
    for name, tensor in raw.items():
        if name in mapping:
            out[mapping[name]] = tensor
        elif name in INTRA_TABLE_ALIASES and intra_key is not None:
            out[intra_key] = tensor
        elif not name.endswith(_IGNORED_SUFFIXES):
            unknown.append(name)
    if unknown:
        raise CheckpointError(
            f"{source}: weights with no DecoderLM counterpart: {', '.join(sorted(unknown)[:8])}"
        )
    if model.config.tie_embeddings:
        out.pop("lm_head.weight", None)
    elif "lm_head.weight" not in out and "tok_emb.weight" in out:
        # an untied config whose file has no head: the head is the embedding (HF does the same)
        out["lm_head.weight"] = out["tok_emb.weight"]
    return out
