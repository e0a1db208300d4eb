"""One learned model in one ``.npz`` file: named arrays plus JSON metadata, with a SHA-256 digest.

The digest covers the metadata and every array's name, dtype, shape and bytes, so a file that
was cut short, had a bit flipped, or was edited is refused naming the file, instead of giving
numbers that look right. Files are written through a temporary file and a rename, so a reader
never meets half a model. No pickle is ever read.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from segmenters.errors import SegmenterInputError

MAX_MODEL_BYTES = 1 << 31  # a model file above 2 GiB is refused before it is read


def digest(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the metadata (without its digest) and every array, in name order."""
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        arr = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def save_model(path: str | os.PathLike[str], meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    """Write ``meta`` (JSON-ready, with its digest added) and ``arrays`` to ``path`` atomically."""
    arrays = {k: np.asarray(v) for k, v in arrays.items()}
    full = {**meta, "sha256": digest(meta, arrays)}
    target = Path(os.fspath(path))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(full)), **arrays)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _check_file(name: str, what: str) -> None:
    """Refuse what is not a regular zip file of bounded size, before numpy reads any of it."""
    try:
        info = os.stat(name)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block, a device never end
            raise SegmenterInputError(f"{name}: not a regular file, so not an {what} file")
        with open(name, "rb") as fh:
            magic = fh.read(4)
    except (OSError, ValueError) as exc:
        raise SegmenterInputError(
            f"{name}: cannot read the {what}: {getattr(exc, 'strerror', 0) or exc}"
        ) from None
    if info.st_size > MAX_MODEL_BYTES:
        raise SegmenterInputError(
            f"{name}: {info.st_size:,} bytes is over the {MAX_MODEL_BYTES:,}-byte limit of an "
            f"{what} file"
        )
    if magic != b"PK\x03\x04":  # every .npz is a zip archive
        raise SegmenterInputError(f"{name}: not a readable {what} (not an .npz archive)")


def load_model(
    path: str | os.PathLike[str], formats: tuple[str, ...], what: str = "entropy model"
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The metadata and arrays of a model file whose ``format`` is in ``formats``, checked.

    A file with a digest must match it; one from before digests (no ``sha256``) is read as it
    is, since every zip member still carries a CRC-32. Raises `SegmenterInputError` naming the
    file for anything else: missing, too big, truncated, damaged, or another kind of file.
    """
    name = os.fspath(path)
    _check_file(name, what)
    try:
        with np.load(name, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except Exception as exc:  # zipfile, zlib, numpy and json each raise their own kind
        # a cut file, a flipped bit (every member has a CRC-32), or not a model at all
        raise SegmenterInputError(
            f"{name}: not a readable {what} (damaged or truncated: {type(exc).__name__}: "
            f"{exc}); train it again and save it"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") not in formats:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise SegmenterInputError(
            f"{name}: format {found!r} is not {' or '.join(map(repr, formats))}: not an {what} file"
        )
    stored = meta.pop("sha256", None)
    if stored is not None and stored != digest(meta, arrays):
        raise SegmenterInputError(
            f"{name}: checksum mismatch (the file was changed or damaged after it was saved); "
            "train it again and save it"
        )
    return meta, arrays
