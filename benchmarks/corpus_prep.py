"""Corpus preparation throughput: MB of text per second to cached tokens + positions, 1 vs 2 workers.

Generates a JSONL corpus in a temporary folder (KJV chapters or the stdlib repeated with
variation), then for each worker count prepares it from a cold start -- the corpus file dropped
from the page cache (posix_fadvise DONTNEED), a fresh cache directory, the same BPE -- in a
child process, timing the index pass (read + fingerprint + split plan), the token ids and the
``punct`` positions, with the peak memory of the main process and of the largest worker. Beside
it, in the same run: a bare `tokenizers` ``encode_batch`` of the same text (ids only, no cache).
The corpus is deleted at the end.

    python benchmarks/corpus_prep.py --mb 200          # the docs/benchmarks.md numbers
    python benchmarks/corpus_prep.py --quick           # 10 MB, a smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# a spawned worker re-imports this script with the folder already dropped from sys.path
with contextlib.suppress(ImportError):
    import _common  # noqa: F401  (drops benchmarks/ from sys.path)

REPO = Path(__file__).resolve().parents[1]


def make_corpus(path: Path, mb: int, seed: int = 0) -> int:
    """Write about ``mb`` MB of JSONL documents (KJV chapters, shuffled verses) to ``path``."""
    sys.path.insert(0, str(REPO))
    from experiments.corpora import load_corpus

    try:
        base = load_corpus("kjv").documents
    except Exception:  # no Debian bible-kjv: the embedded Genesis sample
        base = load_corpus("sample").documents
    rng = random.Random(seed)
    size, i = 0, 0
    with path.open("w", encoding="utf-8") as f:
        while size < mb * 1_000_000:
            doc = base[i % len(base)]
            lines = doc.text.splitlines()
            rng.shuffle(lines)  # variation: no two copies of a chapter are the same document
            text = f"Copy {i // len(base)} of {doc.id}.\n" + "\n".join(lines) + "\n"
            line = json.dumps({"id": f"{doc.id}#{i}", "text": text}) + "\n"
            f.write(line)
            size += len(line.encode("utf-8"))
            i += 1
    return size


def drop_from_page_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages, so the next read comes from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def child(corpus: Path, cache: Path, tokenizer: Path, workers: int) -> dict:
    """Prepare the corpus once (in a fresh process) and report times and peak memory."""
    sys.path.insert(0, str(REPO))
    from experiments.corpora import load_corpus
    from experiments.pipeline import CorpusTokens

    t0, c0 = time.perf_counter(), _cpu()
    tokens = CorpusTokens(load_corpus(f"jsonl:path={corpus}"), 1024, cache, workers=workers)
    t_index = time.perf_counter() - t0
    shutil.copy(tokenizer, tokens.dir / "tokenizer.json")  # the same BPE for every worker count
    t1, c1 = time.perf_counter(), _cpu()
    tokens.split_ids("train")
    t_ids = time.perf_counter() - t1
    t2, c2 = time.perf_counter(), _cpu()
    tokens.stream("train", "punct", 1024)
    t_pos = time.perf_counter() - t2
    return {
        "workers": workers,
        "index_s": t_index,
        "ids_s": t_ids,
        "positions_s": t_pos,
        "cpu_ids_s": c2 - c1,
        "cpu_positions_s": _cpu() - c2,
        "cpu_s": _cpu() - c0,
        "train_chars": tokens.split_chars("train"),
        "peak_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def bare_encode(corpus: Path, tokenizer: Path, batch_mb: int = 8) -> dict:
    """A bare `tokenizers` encode_batch over the same texts (its default thread pool)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer))
    t0, c0, chars, batch, size = time.perf_counter(), time.process_time(), 0, [], 0
    with corpus.open(encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            batch.append(text)
            size += len(text)
            if size >= batch_mb * 1_000_000:
                tok.encode_batch(batch)
                chars += size
                batch, size = [], 0
    if batch:
        tok.encode_batch(batch)
        chars += size
    return {
        "chars": chars,
        "seconds": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
    }


def main() -> None:
    """Generate, prepare with 1 and 2 workers, compare with a bare encode, print a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=200, help="corpus size in MB (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="10 MB smoke test")
    p.add_argument("--dir", default=None, help="where to put the corpus (default: a temp dir)")
    p.add_argument("--child", nargs=4, metavar=("CORPUS", "CACHE", "TOKENIZER", "WORKERS"))
    args = p.parse_args()
    if args.child:
        corpus, cache, tok, workers = args.child
        print(json.dumps(child(Path(corpus), Path(cache), Path(tok), int(workers))))
        return
    mb = 10 if args.quick else args.mb
    work = Path(tempfile.mkdtemp(prefix="bipe-prep-", dir=args.dir))
    try:
        corpus = work / "corpus.jsonl"
        size = make_corpus(corpus, mb)
        sys.path.insert(0, str(REPO))
        from experiments.corpora import load_corpus
        from experiments.pipeline import CorpusTokens

        # one BPE for every run, trained on the first 20 MB (training is not what is measured)
        sample = work / "sample.jsonl"
        with corpus.open("rb") as src, sample.open("wb") as dst:
            dst.write(src.read(20_000_000).rsplit(b"\n", 1)[0] + b"\n")
        tokenizer = CorpusTokens(load_corpus(f"jsonl:path={sample}"), 1024, work / "bpe").tokenizer
        tok_path = work / "tokenizer.json"
        tokenizer.save(str(tok_path))
        print(f"corpus: {size / 1e6:.0f} MB JSONL in {work}; page cache dropped before each run")
        rows = []
        for workers in (1, 2):
            drop_from_page_cache(corpus)
            cache = work / f"cache{workers}"
            cmd = [sys.executable, __file__, "--child", str(corpus), str(cache), str(tok_path)]
            out = subprocess.run([*cmd, str(workers)], capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            shutil.rmtree(cache)
        drop_from_page_cache(corpus)
        bare = bare_encode(corpus, tok_path)
        mb_text = rows[0]["train_chars"] / 1e6
        print(
            "\n| workers | index pass MB/s | ids MB/s (per CPU-s) | punct positions MB/s "
            "(per CPU-s) | total MB/s | peak RSS main / largest worker MB |"
        )
        print("|---|---|---|---|---|---|")
        for r in rows:
            total = r["index_s"] + r["ids_s"] + r["positions_s"]
            print(
                f"| {r['workers']} | {size / 1e6 / r['index_s']:.1f} "
                f"| {mb_text / r['ids_s']:.2f} ({mb_text / r['cpu_ids_s']:.2f}) "
                f"| {mb_text / r['positions_s']:.2f} ({mb_text / r['cpu_positions_s']:.2f}) "
                f"| {mb_text / total:.2f} | {r['peak_main_mb']:.0f} / {r['peak_worker_mb']:.0f} |"
            )
        bare_mbs = bare["chars"] / 1e6 / bare["seconds"]
        print(
            f"\nbare tokenizers encode_batch (all splits, ids only, default threads): "
            f"{bare_mbs:.2f} MB/s ({bare['chars'] / 1e6 / bare['cpu_s']:.2f} per CPU-s); "
            f"ids with 1 worker = {mb_text / rows[0]['ids_s'] / bare_mbs:.2f}x, "
            f"2 workers = {mb_text / rows[1]['ids_s'] / bare_mbs:.2f}x of it (wall)"
        )
        one, two = (r["ids_s"] + r["positions_s"] for r in rows)
        print(f"wall-clock speed-up of 2 workers over 1 (ids + positions): {one / two:.2f}x")
        print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
