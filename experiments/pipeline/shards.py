"""Sharded, resumable, parallel construction of the cached arrays of `experiments.data`.

A build cuts its input into shards (a few MB of text, or a range of documents), runs one function
per shard -- in this process or in a pool of worker processes -- and merges the shards into one
``.npy`` file per array, read back memory-mapped (``np.load(mmap_mode="r")``), so memory stays
bounded by the shard size times the workers, whatever the corpus size.

Never a partial cache taken for a whole one: every file is written under a temporary name and
renamed; a shard counts as done only when its marker (written after its arrays) exists; the merged
arrays count only when the manifest (written last, after their renames) names them with the
build's key, lengths and checksums. An interrupted build resumes: done shards are kept, the rest
redone. A merged array whose bytes no longer match the checksum its manifest recorded (a damaged or
replaced file) is never used: it is rebuilt, with a warning. The output file of a merge is
allocated in full before it is mapped, so a full disk is an error (ENOSPC), not a SIGBUS.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from experiments.atomic import atomic_write
from experiments.errors import ExperimentError

# 2: manifests record each array's checksum (version 1 caches are rebuilt once)
MANIFEST_VERSION = 2
CACHE_MARKER = ".bipe-cache"  # at the root of every cache directory: bipe wrote what is below
# A shard's work: ``fn(*args) -> (arrays, meta)``; a build takes a callable yielding them lazily.
Tasks = Callable[[], Iterator[tuple[Callable[..., tuple[dict, dict]], tuple]]]


@dataclass(frozen=True)
class ArraySpec:
    """One merged array: its name (file suffix), dtype, and how shard values are re-based.

    ``offset`` gives the amount a shard adds to the running offset of later shards (e.g. its token
    count for document starts); None concatenates the shard values unchanged.
    """

    name: str
    dtype: str
    offset: Callable[[dict[str, np.ndarray]], int] | None = None


def atomic_save(path: Path, array: np.ndarray) -> None:
    """`np.save` through a temporary file and a rename."""
    # the ".npy" suffix stops np.save from appending one to the temporary name
    atomic_write(path, lambda tmp: np.save(tmp, array), suffix=".npy")


def load_array(path: Path, length: int | None = None) -> np.ndarray | None:
    """A cached array, memory-mapped; None when missing, damaged or not ``length`` long."""
    if not path.is_file():
        return None
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError):
        try:  # numpy cannot map an empty array; read it
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError):
            return None  # a damaged cache entry is recomputed, never trusted
    if arr.ndim != 1 or (length is not None and arr.shape[0] != length):
        return None
    return arr


class CacheError(ExperimentError):
    """The token cache cannot be written or read (permissions, a full disk, a name too long)."""


_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


def cache_os_error(directory: Path, exc: OSError) -> CacheError:
    """A typed error for an OSError met while writing the cache under ``directory``."""
    why = exc.strerror or str(exc)
    if exc.errno in _FULL:
        hint = "free space there or choose another --cache-dir (or $BIPE_CACHE)"
    elif exc.errno in _DENIED:
        hint = "it is not writable: choose another --cache-dir (or $BIPE_CACHE)"
    else:
        hint = "choose another --cache-dir (or $BIPE_CACHE)"
    return CacheError(f"cannot write the token cache in {directory}: {why}; {hint}")


def file_digest(path: Path) -> str:
    """BLAKE2b (128-bit) of a file's bytes, read in chunks: the checksum of a cached file."""
    h = hashlib.blake2b(digest_size=16)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# (path, size, mtime_ns) -> digest: a file already checked in this process is not hashed again
_VERIFIED: dict[tuple[str, int, int], str] = {}


def verified(path: Path, digest: str | None) -> bool:
    """True when ``path``'s bytes have the checksum ``digest`` (checked once per file version)."""
    if not digest:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    key = (str(path), st.st_size, st.st_mtime_ns)
    if _VERIFIED.get(key) != digest:
        if file_digest(path) != digest:
            return False
        _VERIFIED[key] = digest
    return True


MARKER_TEXT = "bipe's token cache: every file below was written by bipe and can be rebuilt\n"


def claim_cache_dir(base: Path) -> None:
    """Create the cache root ``base`` with its marker, or raise a typed error naming it."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        marker = base / CACHE_MARKER
        if not marker.is_file():  # a complete read-only cache is still read: no write when there
            atomic_write(marker, lambda tmp: Path(tmp).write_text(MARKER_TEXT, encoding="utf-8"))
    except OSError as exc:
        raise cache_os_error(base, exc) from None


def _run_shard(parts: str, k: int, fn: Callable[..., tuple[dict, dict]], args: tuple) -> dict:
    """Compute shard ``k`` and save its arrays, then its done marker (runs in a worker)."""
    arrays, meta = fn(*args)
    folder = Path(parts)
    lengths, digests = {}, {}
    for name, arr in arrays.items():
        path = folder / f"{k}.{name}.npy"
        atomic_save(path, arr)
        lengths[name] = int(arr.shape[0])
        digests[name] = file_digest(path)  # a resumed build merges only intact shards
    info = {"lengths": lengths, "digests": digests, "meta": meta}
    atomic_write(folder / f"{k}.done.json", lambda tmp: Path(tmp).write_text(json.dumps(info)))
    return info


def _worker_init() -> None:
    # Each worker is one process; the tokenizers' own thread pool would oversubscribe the cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["RAYON_NUM_THREADS"] = "1"


def manifest_path(directory: Path, stem: str) -> Path:
    """Where the manifest of the arrays ``<stem>.<name>.npy`` lives."""
    return directory / f"{stem}.manifest.json"


def load_built(directory: Path, stem: str, arrays: tuple[ArraySpec, ...], key: str):
    """The arrays of a finished build with this key, memory-mapped, and its manifest; else None."""
    try:
        man = json.loads(manifest_path(directory, stem).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if man.get("key") != key or man.get("version") != MANIFEST_VERSION:
        return None
    out = {}
    for spec in arrays:
        path = directory / f"{stem}.{spec.name}.npy"
        if path.is_file() and not verified(path, man.get("digests", {}).get(spec.name)):
            warnings.warn(
                f"cached array {path} does not match the checksum its manifest recorded "
                "(damaged or replaced); rebuilding it",
                stacklevel=2,
            )
            return None
        arr = load_array(path, man["lengths"].get(spec.name))
        if arr is None:
            return None
        out[spec.name] = arr
    return out, man


def build_sharded(
    directory: Path,
    stem: str,
    arrays: tuple[ArraySpec, ...],
    key: str,
    tasks: Tasks,
    workers: int = 1,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Build (or load) the arrays ``<stem>.<name>.npy`` from the shards ``tasks()`` yields.

    Each task is ``(fn, args)``; ``fn(*args)`` returns ``(arrays, meta)`` for one shard (a
    top-level function, so worker processes can run it). Returns the memory-mapped arrays and the
    manifest (lengths, shard count and the sum of every numeric meta value).
    """
    done = load_built(directory, stem, arrays, key)
    if done is not None:
        return done
    try:
        with _locked(directory / f".{stem}.lock"):  # DDP ranks preparing at once: one builds
            done = load_built(directory, stem, arrays, key)
            if done is not None:
                return done
            return _build(directory, stem, arrays, key, tasks, workers)
    except OSError as exc:  # read-only cache, a full disk (ENOSPC, EFBIG), a name too long
        raise cache_os_error(directory, exc) from None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not POSIX)
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _build(
    directory: Path, stem: str, arrays: tuple[ArraySpec, ...], key: str, tasks: Tasks, workers: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    _remove_stale_temporaries(directory, stem, arrays)
    parts = directory / f"{stem}.parts"
    marker = parts / "key"
    if parts.is_dir() and (not marker.is_file() or marker.read_text() != key):
        shutil.rmtree(parts)  # shards of another build (other tokenizer, corpus or options)
    parts.mkdir(parents=True, exist_ok=True)
    if not marker.is_file():
        atomic_write(marker, lambda tmp: Path(tmp).write_text(key))

    def finished(k: int) -> dict | None:
        try:
            info = json.loads((parts / f"{k}.done.json").read_text())
        except (OSError, ValueError):
            return None
        return info if _shard_intact(parts, k, info) else None

    infos: dict[int, dict] = {}
    n = 0
    if workers <= 1:
        for k, (fn, args) in enumerate(tasks()):
            n = k + 1
            infos[k] = finished(k) or _run_shard(str(parts), k, fn, args)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # no fork of a process that may hold torch threads
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_init)
        try:
            live: dict[Future, int] = {}
            for k, (fn, args) in enumerate(tasks()):
                n = k + 1
                prior = finished(k)
                if prior is not None:
                    infos[k] = prior
                    continue
                if len(live) >= 2 * workers:  # bounded: at most 2 shards queued per worker
                    ready, _ = wait(live, return_when=FIRST_COMPLETED)
                    for f in ready:
                        infos[live.pop(f)] = f.result()
                live[pool.submit(_run_shard, str(parts), k, fn, args)] = k
            for f in live:
                infos[live[f]] = f.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # finished shards stay for a resume
            raise
        pool.shutdown()
    return _merge(directory, stem, arrays, key, parts, [infos[k] for k in range(n)])


def _remove_stale_temporaries(directory: Path, stem: str, arrays: tuple[ArraySpec, ...]) -> None:
    """Delete the temporary files a killed build of ``stem`` left (its lock is held: none live)."""
    names = [f"{stem}.{s.name}.npy" for s in arrays] + [manifest_path(directory, stem).name]
    for name in names:
        for tmp in directory.glob(f".{glob.escape(name)}.*"):
            tmp.unlink(missing_ok=True)


def _shard_intact(parts: Path, k: int, info: dict) -> bool:
    """True when every array shard ``k`` recorded still has its checksum (else it is redone)."""
    digests = info.get("digests")
    if not isinstance(digests, dict) or set(digests) != set(info.get("lengths", ())):
        return False
    try:
        return all(file_digest(parts / f"{k}.{n}.npy") == d for n, d in digests.items())
    except OSError:  # a shard file gone: redo the shard
        return False


def _merge(
    directory: Path,
    stem: str,
    arrays: tuple[ArraySpec, ...],
    key: str,
    parts: Path,
    infos: list[dict],
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    lengths = {s.name: sum(i["lengths"].get(s.name, 0) for i in infos) for s in arrays}
    for spec in arrays:
        target = directory / f"{stem}.{spec.name}.npy"

        def write(tmp: str, spec: ArraySpec = spec) -> None:
            total = lengths[spec.name]
            if total == 0:
                np.save(tmp, np.zeros(0, dtype=spec.dtype))
                return
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=spec.dtype, shape=(total,))
            # a sparse file on a full disk turns the first write into SIGBUS: allocate it now
            _allocate(tmp)
            pos, offset = 0, 0
            for k in range(len(infos)):
                shard = {s.name: load_array(parts / f"{k}.{s.name}.npy") for s in arrays}
                part = shard[spec.name]
                out[pos : pos + len(part)] = part + offset if offset else part
                pos += len(part)
                if spec.offset is not None:
                    offset += spec.offset(shard)
            out.flush()
            del out

        atomic_write(target, write, suffix=".npy")
    meta: dict[str, Any] = {}
    for i in infos:
        for k, v in i["meta"].items():
            if isinstance(v, int | float):
                meta[k] = meta.get(k, 0) + v
    man = {
        "version": MANIFEST_VERSION,
        "key": key,
        "shards": len(infos),
        "lengths": lengths,
        "digests": {s.name: file_digest(directory / f"{stem}.{s.name}.npy") for s in arrays},
        "meta": meta,
    }
    atomic_write(
        manifest_path(directory, stem),
        lambda tmp: Path(tmp).write_text(json.dumps(man, indent=1)),
        suffix=".json",
    )
    shutil.rmtree(parts, ignore_errors=True)
    out = load_built(directory, stem, arrays, key)
    assert out is not None  # just written
    return out


def _allocate(path: str) -> None:
    """Reserve every block of ``path`` on disk, so that writing through a map cannot fault."""
    size = os.path.getsize(path)
    if hasattr(os, "posix_fallocate") and size:
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)


_TOKENIZERS: dict[tuple[str, int], object] = {}


def shard_tokenizer(path: str):
    """The tokenizer saved at ``path``, loaded once per process (workers load their own)."""
    from tokenizers import Tokenizer

    key = (path, os.stat(path).st_mtime_ns)
    if key not in _TOKENIZERS:
        _TOKENIZERS[key] = Tokenizer.from_file(path)
    return _TOKENIZERS[key]


def safe_name(spec: str) -> str:
    """``spec`` with every character but letters, digits, ``-`` and ``_`` made ``_`` (file names)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in spec)


def key_digest(*parts: object) -> str:
    """The SHA-256 (hex) of ``parts`` as JSON: a cache key that holds everything it is given."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def entry_name(readable: str, *identity: object, limit: int = 40) -> str:
    """A file name: ``readable`` made safe and capped at ``limit``, then a digest of ``identity``.

    `safe_name` alone is lossy (``punct:terminals=.!`` and ``punct:terminals=.?`` give one
    name), so the digest of everything that determines the entry keeps distinct entries apart;
    the cap keeps a name of any length under the file system's limit (255 bytes).
    """
    return f"{safe_name(readable)[:limit]}-{key_digest(*identity)[:16]}"


def spec_name(spec: str, limit: int = 40) -> str:
    """A file name for ``spec``: a readable prefix and a digest of the whole spec."""
    return entry_name(spec, spec, limit=limit)


def short_hash(text: str) -> str:
    """The first 8 hex digits of the SHA-1 of ``text`` (cache keys and file names)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
