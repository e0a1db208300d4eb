"""The token and position pipeline: a corpus as cached token streams with segment positions.

`CorpusTokens` trains a byte-level BPE on the train split and caches every split's token ids
(`experiments.pipeline.tokens`, built shard by shard: `experiments.pipeline.shards`); a position
source (`experiments.pipeline.positions`: a segmenter spec, a nested spec, or a registered rule
such as the paper's token-level ``sep``) gives every token its intra and segment positions; and
`experiments.pipeline.streams` cuts the windows, batches and evaluation blocks of a stream.
Nothing here knows about experiments or models: settings come in as plain arguments.
"""

from experiments.pipeline.positions import (
    ALIGN_BOUNDARIES,
    DEFAULT_ALIGN_BOUNDARY,
    DEFAULT_SEPARATOR_CHARS,
    TOKEN_SEPARATORS,
    PositionSource,
    position_source,
    register_position_source,
    token_separator_positions,
)
from experiments.pipeline.shards import CACHE_MARKER, CacheError
from experiments.pipeline.streams import (
    TokenStream,
    batch_at,
    blocks,
    fixed_windows,
    window_levels,
    window_positions,
    windows,
)
from experiments.pipeline.tokens import CorpusTokens, default_cache_dir, describe

__all__ = [
    "ALIGN_BOUNDARIES",
    "CACHE_MARKER",
    "DEFAULT_ALIGN_BOUNDARY",
    "DEFAULT_SEPARATOR_CHARS",
    "TOKEN_SEPARATORS",
    "CacheError",
    "CorpusTokens",
    "PositionSource",
    "TokenStream",
    "batch_at",
    "blocks",
    "default_cache_dir",
    "describe",
    "fixed_windows",
    "position_source",
    "register_position_source",
    "token_separator_positions",
    "window_levels",
    "window_positions",
    "windows",
]
