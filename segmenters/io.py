"""Reading source files for segmenters: UTF-8 text or a `SegmenterInputError` that names the file."""

from __future__ import annotations

import os

from segmenters.errors import SegmenterInputError

_SNIFF = 8192  # bytes looked at for NUL bytes, the mark of a binary file


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read ``path`` as UTF-8 text (a BOM is dropped); binary or non-UTF-8 content raises
    `SegmenterInputError` naming the file and the first bad byte offset."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except IsADirectoryError as exc:
        raise SegmenterInputError(f"{name}: is a directory, not a text file") from exc
    except OSError as exc:
        raise SegmenterInputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    nul = data.find(b"\x00", 0, _SNIFF)
    if nul >= 0:
        raise SegmenterInputError(
            f"{name}: looks binary (NUL byte at offset {nul}); segmenters read UTF-8 text files"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmenterInputError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from exc
    return text.removeprefix("\ufeff")
