"""Reading source files for segmenters: UTF-8 text or a `SegmenterInputError` that names the file.

Every read is bounded before it starts: only regular files are opened (a device such as
/dev/zero or a FIFO may never end, and opening a FIFO blocks until someone writes), the size is
checked against `MAX_TEXT_BYTES`, and the binary check reads a prefix, not the whole file.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from segmenters.errors import SegmenterInputError

SNIFF_BYTES = 8192  # bytes looked at for NUL bytes, the mark of a binary file
MAX_TEXT_BYTES = 1 << 30  # a text file above 1 GiB is refused before it is read


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read ``path`` as UTF-8 text (a BOM is dropped); binary or non-UTF-8 content raises
    `SegmenterInputError` naming the file and the first bad byte offset."""
    if not isinstance(path, (str, os.PathLike)):
        raise SegmenterInputError(f"a text file path must be a str or path, got {path!r}")
    name = os.fspath(path)
    try:
        _check_regular(name, os.stat(name))
        with open(name, "rb") as fh:
            _check_regular(name, os.fstat(fh.fileno()))  # the same file, not a swapped one
            data = read_bounded(fh, name)
    except IsADirectoryError:
        raise SegmenterInputError(f"{name}: is a directory, not a text file") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise SegmenterInputError(
            f"{name}: cannot read: {getattr(exc, 'strerror', 0) or exc}"
        ) from None
    return decode_text(data, name)


def _check_regular(name: str, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "is a directory")
    if not stat.S_ISREG(info.st_mode):  # /dev/zero, a FIFO: they may never end
        raise SegmenterInputError(
            f"{name}: not a regular file (a device, pipe or socket); segmenters read text "
            "files (pipe text into `bipe segment -` instead)"
        )
    if info.st_size > MAX_TEXT_BYTES:
        raise SegmenterInputError(
            f"{name}: {info.st_size:,} bytes is over the {MAX_TEXT_BYTES:,}-byte limit of one "
            "text; split it into files"
        )


def read_bounded(fh: BinaryIO, name: str) -> bytes:
    """At most `MAX_TEXT_BYTES` of ``fh``, refusing binary data after the first `SNIFF_BYTES`."""
    head = fh.read(SNIFF_BYTES)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise SegmenterInputError(
            f"{name}: looks binary (NUL byte at offset {nul}); segmenters read UTF-8 text"
        )
    # bounded even when the input never ends (stdin from a device) or grows while it is read
    data = head + fh.read(MAX_TEXT_BYTES + 1 - len(head))
    if len(data) > MAX_TEXT_BYTES:
        raise SegmenterInputError(f"{name}: over the {MAX_TEXT_BYTES:,}-byte limit of one text")
    return data


def decode_text(data: bytes, name: str) -> str:
    """``data`` as UTF-8 without a BOM, or a `SegmenterInputError` naming the first bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmenterInputError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None
    return text.removeprefix("\ufeff")
