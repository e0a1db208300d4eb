"""Corpus sources: your own text as a corpus, streamed from disk (never held in memory whole).

Registered in the corpus registry (`experiments.corpora.registry`) and named by spec like any
corpus:

* ``folder:path=DIR,glob=**/*.md`` -- one document per file (id: the path under DIR);
* ``jsonl:path=FILE,text=body,id=uid`` -- one JSON object per line (``path`` may be a glob);
* ``parquet:path=FILE,text=text,id=id`` -- one row per document (``path`` may be a glob);
* ``hf:dataset=NAME,...`` -- a Hugging Face dataset (`experiments.corpora.sources_hf`).

A bare path is shorthand: a folder, a ``.jsonl`` or a ``.parquet`` file with default options.
Undecodable text (not UTF-8) is skipped and counted (``errors=skip``, the default) or is a
`CorpusSourceError` naming the file and line (``errors=fail``). Every bad input is a
`CorpusSourceError`, raised before anything is cached.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from experiments.corpora.documents import Corpus, CorpusInfo, Document
from experiments.corpora.options import Bounds, Choices, CorpusSourceError
from experiments.corpora.registry import register_corpus

INSTALL_HINT = 'pip install "bipe[corpora]" (datasets, pyarrow)'
ERROR_MODES = ("skip", "fail")
MAX_BATCH_ROWS = 1_000_000
ErrorMode = Annotated[str, Choices(ERROR_MODES)]


@dataclass
class StreamedDocuments:
    """A `DocumentReader`: re-reads its source on every pass through ``documents()``."""

    read: Callable[[str | None], Iterator[Document]]
    change_key: str
    own_splits: bool = False
    max_docs: int | None = None
    skipped: int = 0
    skip_counts: dict[str | None, int] = field(default_factory=dict)

    def documents(self, split: str | None = None) -> Iterator[Document]:
        """Every document (or one own split's), the first ``max_docs`` only when set."""
        self.skip_counts[split] = 0
        n = 0
        for doc in self.read(split):
            if isinstance(doc, int):  # a skipped document, counted
                self.skip_counts[split] += doc
                continue
            if self.max_docs is not None and n >= self.max_docs:
                break
            n += 1
            yield doc
        self.skipped = sum(self.skip_counts.values())


def source_info(name: str, description: str, source: str, requires: str = "nothing") -> CorpusInfo:
    """Registry facts of a source: the data and its licence are the user's."""
    return CorpusInfo(name, description, source, "the data's own", requires)


def stat_key(kind: str, files: list[Path], options: dict[str, object]) -> str:
    """Paths, sizes and change times of every file, with the options: the change key.

    Every write to a file moves its ctime (which, unlike the mtime, cannot be set back), so a
    changed file always gets a new key and is indexed (and fingerprinted) again.
    """
    h = hashlib.sha1(json.dumps([kind, options], sort_keys=True, default=str).encode())
    for f in files:
        st = f.stat()
        line = f"{f.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"
        h.update(line.encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:16]


def str_option(value: object, name: str, kind: str) -> str:
    if value is None or isinstance(value, bool | list | dict):
        raise CorpusSourceError(f"{kind}: option {name} must be text, got {value!r}")
    return str(value)


def _errors_option(errors: object, kind: str) -> str:
    if errors not in ERROR_MODES:
        raise CorpusSourceError(f"{kind}: errors={errors!r}; valid: {', '.join(ERROR_MODES)}")
    return str(errors)


def _files(path: object, kind: str, suffix: str) -> list[Path]:
    """The files a ``path`` option names: one file, or every file a glob pattern matches."""
    if path is None:
        raise CorpusSourceError(f"{kind} needs path=FILE (e.g. {kind}:path=data{suffix})")
    text = str_option(path, "path", kind)
    if globlib.has_magic(text):
        files = sorted(Path(p) for p in globlib.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise CorpusSourceError(f"{kind}: no file matches {text!r}")
        return files
    p = Path(text)
    if not p.exists():
        raise CorpusSourceError(f"{kind}: {p} does not exist")
    if not p.is_file():
        raise CorpusSourceError(f"{kind}: {p} is not a file")
    return [p]


def labelled(info: CorpusInfo, label: str, source: str) -> CorpusInfo:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:40]
    return replace(info, name=f"{info.name}-{safe}", source=source)


def _decode(raw: bytes, where: str, errors: str) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if errors == "fail":
            raise CorpusSourceError(
                f"{where} is not UTF-8 (byte {exc.start}); pass errors=skip to skip such input"
            ) from None
        return None


# ------------------------------------------------------------------------------------- folder

FOLDER = source_info(
    "folder",
    "a folder of text files, one document per file (id: the path under the folder)",
    "folder:path=DIR,glob=**/*.txt (default glob **/*, hidden files skipped)",
)


# Files bipe writes into the directories it owns: a folder holding one is bipe's cache or output,
# whose tokenizer.json and manifests would otherwise be read back as documents.
BIPE_MARKERS = (".bipe-cache", ".bipe-output")


def _glob_option(glob: object) -> str:
    """A folder's glob: relative, inside the folder, and not empty."""
    pattern = str_option(glob, "glob", "folder")
    if not pattern.strip():
        raise CorpusSourceError("folder: glob= is empty; give a pattern such as **/*.txt")
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise CorpusSourceError(
            f"folder: glob={pattern!r} must stay inside the folder (relative, without '..'); "
            "point path= at the folder instead"
        )
    return pattern


def _refuse_bipe_files(root: Path, files: list[Path]) -> None:
    """Refuse a corpus whose files lie in a bipe cache or output directory: under ``root``, or
    one that holds ``root`` itself."""
    for above in root.resolve().parents:
        marker = next((m for m in BIPE_MARKERS if (above / m).is_file()), None)
        if marker is not None:
            raise CorpusSourceError(
                f"folder: {root} lies inside {above}, which holds bipe's own files ({marker}); "
                "its files would be read as documents. Point path= at a folder of your own text"
            )
    for marker in BIPE_MARKERS:
        for found in root.rglob(marker):
            inside = next((f for f in files if found.parent in f.parents), None)
            if inside is not None:
                raise CorpusSourceError(
                    f"folder: {found.parent} inside the corpus folder {root} holds bipe's own "
                    f"files ({marker}), such as {inside.name}, which would be read as documents. "
                    "Move it out of the folder (--cache-dir / --out elsewhere) or narrow the "
                    "corpus with glob="
                )


def load_folder(
    max_docs: int | None = None,
    path: str | None = None,
    glob: str = "**/*",
    errors: ErrorMode = "skip",
) -> Corpus:
    """A folder of text files, streamed: one document per non-empty file, in path order."""
    if path is None:
        raise CorpusSourceError("folder needs path=DIR (e.g. folder:path=docs,glob=**/*.md)")
    root = Path(str_option(path, "path", "folder"))
    pattern = _glob_option(glob)
    errors = _errors_option(errors, "folder")
    if not root.exists():
        raise CorpusSourceError(f"folder: {root} does not exist")
    if not root.is_dir():
        raise CorpusSourceError(f"folder: {root} is not a directory (use jsonl: or parquet:?)")
    files = sorted(
        p
        for p in root.glob(pattern)
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise CorpusSourceError(f"folder: no file under {root} matches {pattern!r}")
    _refuse_bipe_files(root, files)

    def read(split: str | None) -> Iterator[Document | int]:
        for f in files:
            text = _decode(f.read_bytes(), str(f), errors)
            if text is None:
                yield 1
            elif text.strip():
                yield Document(f.relative_to(root).as_posix(), text)

    key = stat_key("folder", files, {"glob": pattern, "errors": errors})
    reader = StreamedDocuments(read, key, max_docs=max_docs)
    info = labelled(FOLDER, root.resolve().name, f"{root} ({pattern}, {len(files)} files)")
    return Corpus(info, None, {"path": str(root), "glob": pattern, "errors": errors}, reader)


# -------------------------------------------------------------------------------------- jsonl

JSONL = source_info(
    "jsonl",
    "JSON Lines, one object per line with a text field (and an optional id field)",
    "jsonl:path=FILE_OR_GLOB,text=text,id=ID_FIELD (default id: file name and line)",
)


def load_jsonl(
    max_docs: int | None = None,
    path: str | None = None,
    text: str = "text",
    id: str | None = None,
    errors: ErrorMode = "skip",
) -> Corpus:
    """A JSON Lines file (or glob of them), streamed: one document per line."""
    files = _files(path, "jsonl", ".jsonl")
    field_, id_field = str_option(text, "text", "jsonl"), id
    id_field = None if id is None else str_option(id, "id", "jsonl")
    errors = _errors_option(errors, "jsonl")

    def read(split: str | None) -> Iterator[Document | int]:
        for f in files:
            with f.open("rb") as fh:
                for lineno, raw in enumerate(fh, 1):
                    where = f"{f}:{lineno}"
                    line = _decode(raw, where, errors)
                    if line is None:
                        yield 1
                        continue
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise CorpusSourceError(f"{where}: not JSON ({exc.msg})") from None
                    yield record_document(obj, field_, id_field, where, f"{f.name}:{lineno}")

    key = stat_key("jsonl", files, {"text": field_, "id": id_field, "errors": errors})
    reader = StreamedDocuments(read, key, max_docs=max_docs)
    label = files[0].stem if len(files) == 1 else files[0].parent.name
    info = labelled(
        JSONL, label, ", ".join(map(str, files[:3])) + (" ..." if len(files) > 3 else "")
    )
    return Corpus(info, None, {"path": str(path), "text": field_, "id": id_field}, reader)


def record_document(
    obj: object, text_field: str, id_field: str | None, where: str, default_id: str
):
    """One record (JSON object, Parquet or dataset row) as a Document, or 0 when its text is empty."""
    if not isinstance(obj, dict):
        raise CorpusSourceError(f"{where}: expected an object with a {text_field!r} field")
    if text_field not in obj:
        raise CorpusSourceError(
            f"{where}: no text field {text_field!r} (fields: {', '.join(map(str, obj)) or 'none'}); "
            "name it with text=FIELD"
        )
    value = obj[text_field]
    if value is None:
        return 0
    if not isinstance(value, str):
        raise CorpusSourceError(
            f"{where}: field {text_field!r} is {type(value).__name__}, not text"
        )
    if id_field is not None:
        if obj.get(id_field) is None:
            raise CorpusSourceError(f"{where}: no id field {id_field!r}")
        doc_id = str(obj[id_field])
    else:
        doc_id = default_id
    return Document(doc_id, value) if value.strip() else 0


# ------------------------------------------------------------------------------------ parquet

PARQUET = source_info(
    "parquet",
    "Parquet file(s), one row per document with a text column (and an optional id)",
    "parquet:path=FILE_OR_GLOB,text=text,id=ID_COLUMN (default id: file name and row)",
    INSTALL_HINT,
)


def import_optional(module: str, kind: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise CorpusSourceError(f"corpus source {kind} needs {module}: {INSTALL_HINT}") from exc


def load_parquet(
    max_docs: int | None = None,
    path: str | None = None,
    text: str = "text",
    id: str | None = None,
    batch_rows: Annotated[int, Bounds(1, MAX_BATCH_ROWS)] = 1024,
) -> Corpus:
    """Parquet file(s), streamed in record batches: one document per row."""
    files = _files(path, "parquet", ".parquet")
    pq = import_optional("pyarrow.parquet", "parquet")
    text_col = str_option(text, "text", "parquet")
    id_col = None if id is None else str_option(id, "id", "parquet")
    if not isinstance(batch_rows, int) or not 1 <= batch_rows <= MAX_BATCH_ROWS:
        raise CorpusSourceError(
            f"parquet: batch_rows must be an integer between 1 and {MAX_BATCH_ROWS:,}, "
            f"got {batch_rows!r}"
        )
    for f in files:
        try:
            names = pq.ParquetFile(f).schema_arrow.names
        except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
            raise CorpusSourceError(f"parquet: cannot read {f}: {exc}") from None
        for col, opt in ((text_col, "text"), (id_col, "id")):
            if col is not None and col not in names:
                raise CorpusSourceError(
                    f"parquet: {f} has no column {col!r} (columns: {', '.join(names)}); "
                    f"name it with {opt}=COLUMN"
                )

    def read(split: str | None) -> Iterator[Document | int]:
        cols = [text_col] + ([id_col] if id_col else [])
        for f in files:
            row = 0
            for batch in _batches(pq, f, batch_rows, cols):
                for rec in batch.to_pylist():
                    yield record_document(
                        rec, text_col, id_col, f"{f} row {row}", f"{f.name}:{row}"
                    )
                    row += 1

    key = stat_key("parquet", files, {"text": text_col, "id": id_col})
    reader = StreamedDocuments(read, key, max_docs=max_docs)
    label = files[0].stem if len(files) == 1 else files[0].parent.name
    info = labelled(PARQUET, label, ", ".join(map(str, files[:3])))
    return Corpus(info, None, {"path": str(path), "text": text_col, "id": id_col}, reader)


def _batches(pq: Any, path: Path, rows: int, cols: list[str]) -> Iterator[Any]:
    """The record batches of one Parquet file; a damaged page is an error naming the file."""
    batches = pq.ParquetFile(path).iter_batches(batch_size=rows, columns=cols)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... on corrupt pages
            raise CorpusSourceError(f"parquet: {path} is damaged ({exc})") from None
        yield batch


# ----------------------------------------------------------------------------------- registry

for _source, _load in ((FOLDER, load_folder), (JSONL, load_jsonl), (PARQUET, load_parquet)):
    register_corpus(_source, _load)

_SUFFIX_SOURCES = {".jsonl": "jsonl", ".parquet": "parquet"}


def source_for_path(spec: str) -> tuple[str, dict[str, object]] | None:
    """``(source, options)`` for a bare path (folder, .jsonl, .parquet file), else None."""
    p = Path(spec)
    if p.is_dir():
        return "folder", {"path": spec}
    kind = _SUFFIX_SOURCES.get(p.suffix.lower())
    if kind and p.is_file():
        return kind, {"path": spec}
    return None
