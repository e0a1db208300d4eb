"""Hugging Face datasets as a corpus source, offline: ``hf:dataset=NAME,config=C,split=train,
text=text`` reads a dataset from local files or the local hub cache (nothing is downloaded),
``hf:disk=DIR`` the output of `save_to_disk`, and ``own_splits=true`` uses the dataset's own
train/validation/test splits instead of id hashes. Registered in the corpus registry like the
file sources of `experiments.corpora.sources`, whose helpers it shares.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path

from experiments.corpora.documents import Corpus, Document
from experiments.corpora.registry import register_corpus
from experiments.corpora.sources import (
    INSTALL_HINT,
    CorpusSourceError,
    StreamedDocuments,
    import_optional,
    labelled,
    record_document,
    source_info,
    stat_key,
    str_option,
)

HF = source_info(
    "hf",
    "a Hugging Face dataset from local files, the local hub cache or save_to_disk",
    "hf:dataset=NAME_OR_BUILDER,config=C,data_files=GLOB,split=train,text=text, "
    "or hf:disk=DIR (offline: nothing is downloaded)",
    INSTALL_HINT,
)

HF_SPLIT_NAMES = {
    "train": ("train",),
    "val": ("validation", "valid", "val", "dev"),
    "test": ("test",),
}


def _datasets():
    """`datasets`, imported offline: a dataset not found locally is never downloaded."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ds = import_optional("datasets", "hf")
    try:  # the flags are read at import; set them too when datasets was imported before
        ds.config.HF_HUB_OFFLINE = True
        ds.config.HF_DATASETS_OFFLINE = True
    except AttributeError:
        pass
    return ds


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (some are empty), at most 200 characters."""
    return (str(exc).splitlines() or ["no message"])[0][:200]


def _open_dataset(
    datasets, dataset: object, config: object, data_files: object, data_dir: object, disk: object
):
    """The loaded Dataset or DatasetDict; anything `datasets` raises becomes a CorpusSourceError."""
    where = f"hf:disk={disk}" if disk is not None else f"hf:dataset={dataset}"
    try:
        if disk is not None:
            if not Path(str(disk)).exists():
                raise CorpusSourceError(
                    f"hf: {disk} does not exist (a datasets.save_to_disk folder)"
                )
            return datasets.load_from_disk(str(disk))
        kwargs = {
            k: str(v)
            for k, v in (("data_files", data_files), ("data_dir", data_dir))
            if v is not None
        }
        pattern = kwargs.get("data_files")
        if pattern and "://" not in pattern and not glob.glob(pattern, recursive=True):
            raise CorpusSourceError(f"hf: data_files={pattern!r} matches no file")
        return datasets.load_dataset(
            str(dataset), None if config is None else str(config), **kwargs
        )
    except CorpusSourceError:
        raise
    except Exception as exc:  # datasets raises many types (FileNotFoundError, ConnectionError, ...)
        raise CorpusSourceError(
            f"{where}: not available locally ({type(exc).__name__}: {_first_line(exc)}). "
            "Nothing is downloaded (HF_DATASETS_OFFLINE). To make it available, run "
            f"datasets.load_dataset({str(dataset)!r}) on a machine with network and copy its "
            "~/.cache/huggingface here, or save it with Dataset.save_to_disk(DIR) and use "
            "hf:disk=DIR, or point dataset=json/parquet/text at local data_files"
        ) from None


def load_hf(
    max_docs: int | None = None,
    dataset: str | None = None,
    config: str | None = None,
    data_files: str | None = None,
    data_dir: str | None = None,
    disk: str | None = None,
    split: str = "train",
    text: str = "text",
    id: str | None = None,
    own_splits: bool = False,
) -> Corpus:
    """A Hugging Face dataset (Arrow, memory-mapped by `datasets`), streamed in batches."""
    if (dataset is None) == (disk is None):
        raise CorpusSourceError(
            "hf needs dataset=NAME (local builder such as json/parquet/text with data_files, a "
            "local folder, or a hub dataset already in the local cache) or disk=DIR, not both"
        )
    if not isinstance(own_splits, bool):  # bool("false") is True
        raise CorpusSourceError(f"hf: own_splits must be true or false, got {own_splits!r}")
    datasets = _datasets()
    text_col = str_option(text, "text", "hf")
    id_col = None if id is None else str_option(id, "id", "hf")
    where = f"hf:disk={disk}" if disk is not None else f"hf:dataset={dataset}"
    loaded = _open_dataset(datasets, dataset, config, data_files, data_dir, disk)
    splits = _hf_splits(loaded, split, own_splits, where)
    for part in splits.values():
        missing = [c for c in (text_col, id_col) if c is not None and c not in part.column_names]
        if missing:
            raise CorpusSourceError(
                f"{where}: no column {missing[0]!r} (columns: {', '.join(part.column_names)})"
            )

    def read(which: str | None) -> Iterator[Document | int]:
        part = splits["train" if which is None else which]
        cols = [text_col] + ([id_col] if id_col else [])
        row = 0
        for batch in part.select_columns(cols).iter(batch_size=1000):
            for i in range(len(batch[text_col])):
                rec = {c: batch[c][i] for c in cols}
                yield record_document(rec, text_col, id_col, f"{where} row {row}", str(row))
                row += 1

    fingerprints = {k: getattr(v, "_fingerprint", "") for k, v in splits.items()}
    key_files = [Path(f["filename"]) for v in splits.values() for f in v.cache_files]
    key = stat_key("hf", key_files, {"fp": fingerprints, "text": text_col, "id": id_col})
    reader = StreamedDocuments(read, key, own_splits=own_splits, max_docs=max_docs)
    label = Path(str(disk)).name if disk is not None else str(dataset).replace("/", "_")
    info = labelled(HF, label, where)
    return Corpus(info, None, {"dataset": dataset, "disk": disk, "split": split}, reader)


def _hf_splits(loaded, split: object, own: bool, where: str) -> dict:
    """The dataset(s) to read: one named split, or the train/val/test splits it ships."""
    if not hasattr(loaded, "keys"):  # a single Dataset (load_from_disk of one split)
        if own:
            raise CorpusSourceError(f"{where}: own_splits needs a DatasetDict with several splits")
        return {"train": loaded}
    names = list(loaded.keys())
    if own:
        out = {}
        for ours, theirs in HF_SPLIT_NAMES.items():
            found = next((n for n in theirs if n in loaded), None)
            if found is None:
                raise CorpusSourceError(
                    f"{where}: own_splits needs a {'/'.join(theirs)} split (has: {', '.join(names)})"
                )
            out[ours] = loaded[found]
        return out
    if str(split) not in loaded:
        raise CorpusSourceError(f"{where}: no split {split!r} (splits: {', '.join(names)})")
    return {"train": loaded[str(split)]}


register_corpus(HF, load_hf)
