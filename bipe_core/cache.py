"""`KVCache`: keys (already rotated), values and per-key position data for incremental decoding.

Besides keys and values the cache keeps, for every cached key, what the attention of later queries
needs about it: the bias index (token or segment index of ALiBi-style schemes), the document id and
whether it is padding. It also keeps the `SegmentState` after the last cached token, so the next
chunk's positions continue where the cache stopped: a separator generated in step t opens a new
segment for the token of step t + 1, exactly as in one pass over the whole sequence.

Buffers grow by doubling (amortised O(1) per appended token); the views returned cover only the
filled part. A forward pass appends in three steps: `begin` (position data of the new chunk, shared
by all layers), `append` once per layer (keys and values), `commit` (advance the length and store
the new segment state). The length only advances at `commit`, so a pass that fails half way leaves
the cache as it was before the pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from bipe_core.errors import ShapeError
from bipe_core.positions import SegmentState


def _grow(buf: Tensor | None, needed: int, dim: int, fill: float | bool | int = 0) -> Tensor | None:
    """Return ``buf`` with capacity >= needed along ``dim`` (doubling), keeping its contents."""
    if buf is None or buf.shape[dim] >= needed:
        return buf
    new_cap = max(needed, 2 * buf.shape[dim])
    shape = list(buf.shape)
    shape[dim] = new_cap
    out = torch.full(shape, fill, dtype=buf.dtype, device=buf.device)
    out.narrow(dim, 0, buf.shape[dim]).copy_(buf)
    return out


@dataclass
class KVCache:
    """Per-layer key/value buffers of shape (B, H_kv, capacity, Dh) plus per-key position data."""

    n_layers: int
    batch: int
    n_kv_heads: int
    head_dim: int
    dtype: torch.dtype = torch.float32
    device: torch.device | str = "cpu"
    capacity: int = 64
    length: int = 0  # number of committed keys
    state: SegmentState | None = None  # segment state after the last committed token
    explicit_positions: bool = False  # filled with caller-given positions: no state to continue
    keys: list[Tensor] = field(default_factory=list, repr=False)
    values: list[Tensor] = field(default_factory=list, repr=False)
    index: Tensor | None = field(default=None, repr=False)  # (B, cap) or (B, cap, K) bias index
    document: Tensor | None = field(default=None, repr=False)  # (B, cap) long
    mask: Tensor | None = field(default=None, repr=False)  # (B, cap) bool, True = real token
    _pending: int = 0

    def __post_init__(self) -> None:
        shape = (self.batch, self.n_kv_heads, max(1, self.capacity), self.head_dim)
        if not self.keys:
            self.keys = [
                torch.zeros(shape, dtype=self.dtype, device=self.device)
                for _ in range(self.n_layers)
            ]
            self.values = [
                torch.zeros(shape, dtype=self.dtype, device=self.device)
                for _ in range(self.n_layers)
            ]

    def begin(
        self, n_new: int, *, index: Tensor | None, document: Tensor | None, mask: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        """Stage position data of ``n_new`` tokens; returns (index, document, mask) of all keys."""
        total = self.length + n_new
        self._pending = n_new
        self.index = self._stage(self.index, index, total, "index", 0)
        self.document = self._stage(self.document, document, total, "document", 0)
        self.mask = self._stage(self.mask, mask, total, "mask", True)
        view = lambda t: None if t is None else t[:, :total]  # noqa: E731
        return view(self.index), view(self.document), view(self.mask)

    def append(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Write new keys/values of ``layer`` (B, H_kv, n_new, Dh); returns all keys and values."""
        n_new = k.shape[2]
        if n_new != self._pending:
            raise ShapeError(
                f"KVCache.append got {n_new} new keys but begin() staged {self._pending}"
            )
        if k.shape[0] != self.batch or k.shape[1] != self.n_kv_heads or k.shape[3] != self.head_dim:
            raise ShapeError(
                f"KVCache holds (batch={self.batch}, kv_heads={self.n_kv_heads}, "
                f"head_dim={self.head_dim}),"
                f" got keys of shape {tuple(k.shape)}"
            )
        total = self.length + n_new
        self.keys[layer] = _grow(self.keys[layer], total, 2)  # type: ignore[assignment]
        self.values[layer] = _grow(self.values[layer], total, 2)  # type: ignore[assignment]
        self.keys[layer][:, :, self.length : total] = k
        self.values[layer][:, :, self.length : total] = v
        return self.keys[layer][:, :, :total], self.values[layer][:, :, :total]

    def commit(self, state: SegmentState | None) -> None:
        """Advance the length past the staged tokens and remember the segment state after them."""
        self.length += self._pending
        self._pending = 0
        self.state = state

    def select(self, rows: Tensor) -> KVCache:
        """A cache of batch rows ``rows`` only (to drop finished rows or reorder beams)."""
        pick = lambda t: None if t is None else t[rows].clone()  # noqa: E731
        out = KVCache(
            self.n_layers,
            int(rows.numel()),
            self.n_kv_heads,
            self.head_dim,
            self.dtype,
            self.device,
            capacity=self.keys[0].shape[2],
            length=self.length,
            state=None if self.state is None else self.state.select(rows),
            explicit_positions=self.explicit_positions,
            keys=[k[rows].clone() for k in self.keys],
            values=[v[rows].clone() for v in self.values],
        )
        out.index, out.document, out.mask = pick(self.index), pick(self.document), pick(self.mask)
        return out

    def nbytes(self) -> int:
        """Bytes held by the buffers (allocated capacity, not only the filled part)."""
        tensors = [*self.keys, *self.values, self.index, self.document, self.mask]
        return sum(t.numel() * t.element_size() for t in tensors if t is not None)

    def _stage(
        self,
        buf: Tensor | None,
        new: Tensor | None,
        total: int,
        name: str,
        fill: float | bool | int,
    ) -> Tensor | None:
        if new is None and buf is None:
            return None
        n_new = total - self.length
        if new is not None and tuple(new.shape[:2]) != (self.batch, n_new):
            raise ShapeError(
                f"KVCache {name} of the new chunk must start with {(self.batch, n_new)},"
                f" got {tuple(new.shape)}"
            )
        if buf is None:  # first chunk that carries this field: earlier keys get the neutral value
            assert new is not None
            shape = (self.batch, max(total, self.capacity), *new.shape[2:])
            buf = torch.full(shape, fill, dtype=new.dtype, device=new.device)
        else:
            buf = _grow(buf, total, 1, fill)
            assert buf is not None
        if new is not None:
            buf[:, self.length : total] = new.to(buf.dtype)
        elif name == "document" and self.state is not None:
            # a chunk without document ids continues the document of the last cached token
            buf[:, self.length : total] = self.state.document[:, None]
        else:
            buf[:, self.length : total] = fill
        return buf
