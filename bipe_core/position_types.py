"""Data types of token positions: `Positions` (per-token indices) and `SegmentState` (per-row
state that continues positions across chunks). Built by `bipe_core.positions`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch
from torch import Tensor

from bipe_core.errors import InputError, ShapeError

__all__ = ["Positions", "SegmentState"]


@dataclass
class Positions:
    """Per-token indices that drive every positional scheme (all (B, T) long unless noted)."""

    token: Tensor
    intra: Tensor
    segment: Tensor
    levels: Tensor | None = None  # (B, T, K) coarse -> fine hierarchical indices
    document: Tensor | None = None
    attention_mask: Tensor | None = None  # bool, True = real token

    def __post_init__(self) -> None:
        shape = tuple(self.token.shape)
        if len(shape) != 2:
            raise ShapeError(f"Positions.token must be (batch, length), got {shape}")
        for name in ("intra", "segment", "document", "attention_mask"):
            value = getattr(self, name)
            if value is not None and tuple(value.shape) != shape:
                raise ShapeError(
                    f"Positions.{name} has shape {tuple(value.shape)}, expected {shape} like token"
                )
        if self.levels is not None and (
            self.levels.dim() != 3 or tuple(self.levels.shape[:2]) != shape
        ):
            raise ShapeError(
                f"Positions.levels must be (batch, length, K) with (batch, length) = {shape}, "
                f"got {tuple(self.levels.shape)}"
            )
        if self.attention_mask is not None and self.attention_mask.dtype != torch.bool:
            self.attention_mask = self.attention_mask.bool()

    @property
    def shape(self) -> tuple[int, int]:
        """(batch, length)."""
        return (int(self.token.shape[0]), int(self.token.shape[1]))

    @property
    def n_levels(self) -> int:
        """Number of extra hierarchical levels (0 when `levels` is None)."""
        return 0 if self.levels is None else int(self.levels.shape[2])

    def to(self, device: torch.device | str) -> Positions:
        """Copy of these positions on `device`."""
        return Positions(
            **{
                f.name: (
                    None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
                )
                for f in fields(self)
            }
        )

    def slice(self, start: int, end: int | None = None) -> Positions:
        """Positions of columns [start, end) along the sequence."""
        return Positions(
            **{
                f.name: (
                    None if getattr(self, f.name) is None else getattr(self, f.name)[:, start:end]
                )
                for f in fields(self)
            }
        )

    @staticmethod
    def cat(parts: Sequence[Positions]) -> Positions:
        """Concatenate positions along the sequence (all parts must carry the same optional fields)."""
        if not parts:
            raise InputError("Positions.cat needs at least one part")
        out: dict[str, Tensor | None] = {}
        for f in fields(Positions):
            values = [getattr(p, f.name) for p in parts]
            if all(v is None for v in values):
                out[f.name] = None
            elif any(v is None for v in values):
                raise ShapeError(f"Positions.cat: field {f.name} is set in some parts only")
            else:
                out[f.name] = torch.cat(values, dim=1)  # type: ignore[arg-type]
        return Positions(**out)  # type: ignore[arg-type]

    @staticmethod
    def arange(batch: int, length: int, device: torch.device | str | None = None) -> Positions:
        """Plain positions: token = intra = 0..T-1, one segment, no documents or padding."""
        t = torch.arange(length, device=device).expand(batch, length).clone()
        return Positions(token=t, intra=t.clone(), segment=torch.zeros_like(t))


@dataclass
class SegmentState:
    """Per-row state after the last real token of a chunk, to continue positions in the next chunk.

    `intra` is the raw (unclamped) intra index; `levels` (B, K) and `level_sep` (B, K) carry the
    hierarchical levels. `seen` is False for rows that have not had a real token yet.
    """

    token: Tensor
    intra: Tensor
    segment: Tensor
    last_sep: Tensor
    document: Tensor
    seen: Tensor
    levels: Tensor | None = None
    level_sep: Tensor | None = None

    @staticmethod
    def initial(
        batch: int, n_levels: int = 0, device: torch.device | str | None = None
    ) -> SegmentState:
        """State before any token: the next real token starts a document."""
        z = torch.zeros(batch, dtype=torch.long, device=device)
        zb = torch.zeros(batch, dtype=torch.bool, device=device)
        lv = torch.zeros(batch, n_levels, dtype=torch.long, device=device) if n_levels else None
        lb = torch.zeros(batch, n_levels, dtype=torch.bool, device=device) if n_levels else None
        return SegmentState(z, z.clone(), z.clone(), zb, z.clone(), zb.clone(), lv, lb)

    def to(self, device: torch.device | str) -> SegmentState:
        """Copy of this state on `device`."""
        return SegmentState(
            **{
                f.name: (
                    None if getattr(self, f.name) is None else getattr(self, f.name).to(device)
                )
                for f in fields(self)
            }
        )

    def select(self, index: Tensor) -> SegmentState:
        """Rows `index` of this state (for beam reordering or dropping finished rows)."""
        return SegmentState(
            **{
                f.name: (None if getattr(self, f.name) is None else getattr(self, f.name)[index])
                for f in fields(self)
            }
        )
