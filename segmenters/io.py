"""Reading source files for segmenters: UTF-8 text or a `SegmenterInputError` that names the file."""

from __future__ import annotations

import os
import stat

from segmenters.errors import SegmenterInputError

_SNIFF = 8192  # bytes looked at for NUL bytes, the mark of a binary file
MAX_TEXT_BYTES = 1 << 30  # a text file above 1 GiB is refused before it is read


def read_text_file(path: str | os.PathLike[str]) -> str:
    """Read ``path`` as UTF-8 text (a BOM is dropped); binary or non-UTF-8 content raises
    `SegmenterInputError` naming the file and the first bad byte offset."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            kind = os.fstat(fh.fileno())
            if stat.S_ISDIR(kind.st_mode):
                raise IsADirectoryError(21, "is a directory")
            if not stat.S_ISREG(kind.st_mode):  # /dev/zero, a FIFO: they may never end
                raise SegmenterInputError(
                    f"{name}: not a regular file (a device, pipe or socket); segmenters read "
                    "text files (pipe text into `bipe segment -` instead)"
                )
            if kind.st_size > MAX_TEXT_BYTES:
                raise SegmenterInputError(
                    f"{name}: {kind.st_size:,} bytes is over the {MAX_TEXT_BYTES:,}-byte limit "
                    "of one text; split it into files"
                )
            head = fh.read(_SNIFF)
            # the binary check reads a prefix, not the whole file
            nul = head.find(b"\x00")
            if nul >= 0:
                raise SegmenterInputError(
                    f"{name}: looks binary (NUL byte at offset {nul}); segmenters read UTF-8 "
                    "text files"
                )
            data = head + fh.read()
    except IsADirectoryError as exc:
        raise SegmenterInputError(f"{name}: is a directory, not a text file") from exc
    except OSError as exc:
        raise SegmenterInputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SegmenterInputError(
            f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from exc
    return text.removeprefix("\ufeff")
