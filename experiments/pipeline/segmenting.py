"""Which segmenter a corpus document gets: one per file extension for the segmenters that read the
grammar from a file name (tree-sitter ``code``), each built once per process (parsers and models
load slowly).
"""

from __future__ import annotations

import os
from typing import Any

from experiments.specs import parse_spec

# Segmenters that pick their grammar from a file name, and the options that already fix it.
FILENAME_SEGMENTERS = {"code": ("language", "filename", "extension")}


def file_options(name: str, filename: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """``{"filename": filename}`` for a segmenter that reads the grammar from a file name (code),
    unless ``given`` options already fix it; ``{}`` otherwise."""
    fixed = FILENAME_SEGMENTERS.get(name)
    if fixed is None or filename is None or set(fixed) & set(given):
        return {}
    return {"filename": filename}


class DocumentSegmenters:
    """One segmenter per file extension, built on demand, so each corpus document (its id is its
    file name) is segmented with the grammar its name implies."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name, self.options = name, options
        self._by_ext: dict[str, Any] = {}

    def for_document(self, doc_id: str) -> Any:
        """The segmenter for a document with id (file name) ``doc_id``."""
        from segmenters import get_segmenter

        extra = file_options(self.name, doc_id, self.options)
        key = os.path.splitext(doc_id)[1] if extra else ""
        if key not in self._by_ext:
            self._by_ext[key] = get_segmenter(self.name, **self.options, **extra)
        return self._by_ext[key]


_BY_SPEC: dict[str, DocumentSegmenters] = {}


def document_segmenters(spec: str) -> DocumentSegmenters:
    """The `DocumentSegmenters` of a segmenter spec, built once per process."""
    if spec not in _BY_SPEC:
        _BY_SPEC[spec] = DocumentSegmenters(*parse_spec(spec))
    return _BY_SPEC[spec]
