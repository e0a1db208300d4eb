"""Time and peak memory of attention for every positional scheme, beside the naive reference.

Each case runs in a fresh subprocess (one thread unless --threads), so its peak memory is its own:
"extra MiB" is the process high-water mark (VmHWM, reset through /proc/self/clear_refs) minus the
resident size just before the measured call, i.e. what the call itself allocates (inputs excluded).
Times are medians of --reps calls; "cpu s" is the process CPU time, steadier than wall time on a
shared machine. Ratios are taken within this one run.

Cases:
  layer-fwd    one attention layer, forward (no grad): the scheme's rotation/bias + attention on
               q, k, v of shape (1, H, L, Dh); the reference is `reference_attention` (naive,
               materialising) with the same scheme inputs, run only up to --ref-max tokens.
  layer-train  forward + backward of the same layer (training throughput, tokens/s).
  model-eval   a 2-layer DecoderLM (bipe_core.model) forward in eval mode (no grad), logits included.

Usage: python benchmarks/attention.py [--quick] [--lengths 1024 4096 ...] [--schemes rope ...]
                                      [--modes layer-fwd layer-train model-eval] [--ref-max 8192]
                                      [--doc-len N]   (packed documents of N tokens)
       python benchmarks/attention.py --train-pair rope bipe_rope --lengths 4096 8192 --reps 5
       python benchmarks/attention.py --accuracy --lengths 8192
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SCHEMES = [
    "nope", "sinusoidal", "learned", "rope", "alibi", "bipe_rope", "bipe_alibi", "hier_rope",
    "hier_alibi",
]  # fmt: skip
LENGTHS = [1024, 4096, 8192, 16384, 32768]
MODES = ["layer-fwd", "layer-train", "model-eval"]
H, DH, SEG_LEN, LINE_PER_DEF = 8, 64, 25, 8


# --------------------------------------------------------------------------- child side
def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _hwm_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _reset_hwm() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _ids(length: int):
    """Token ids with a separator (1) every ~SEG_LEN tokens and a coarse one (2) every few lines."""
    import torch

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, 500, (1, length), generator=g)
    gaps = torch.randint(SEG_LEN // 2, SEG_LEN * 3 // 2, (length // 5 + 1,), generator=g)
    ends = torch.cumsum(gaps, 0)
    ends = ends[ends < length]
    ids[0, ends] = 1
    ids[0, ends[LINE_PER_DEF - 1 :: LINE_PER_DEF]] = 2
    return ids


def _layer_case(
    scheme_name: str, length: int, mode: str, reference: bool, reps: int, doc_len: int = 0
) -> dict:
    import torch

    from bipe_core.attention import attention, reference_attention
    from bipe_core.positions import build_positions
    from bipe_core.schemes import get_scheme

    sch = get_scheme(scheme_name, d_model=H * DH, n_heads=H, max_positions=1024)
    docs = (torch.arange(length) // doc_len)[None] if doc_len else None
    pos, _ = build_positions(
        _ids(length), [1], document_ids=docs, level_separator_ids=[[2]], max_intra=1024
    )
    train = mode == "layer-train"
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, H, length, DH, generator=g).requires_grad_(train) for _ in range(3))
    fn = reference_attention if reference else attention

    def step():
        cs = sch.cos_sin(pos) if sch.rotary else None
        qq = sch.rotate(q, pos, cs) if sch.rotary else q
        kk = sch.rotate(k, pos, cs) if sch.rotary else k
        idx = sch.bias_index(pos)
        out = fn(qq, kk, v, slopes=sch.slopes, q_index=idx, k_index=idx, q_doc=pos.document,
                 k_doc=pos.document)  # fmt: skip
        if train:
            out.sum().backward()
        return out

    # warm up kernels and thread pools on a small slice, then measure the real call
    with torch.set_grad_enabled(train):
        small = 256
        sl = pos.slice(0, small)
        idx = sch.bias_index(sl)
        out = fn(q[:, :, :small].detach(), k[:, :, :small].detach(), v[:, :, :small].detach(),
                 slopes=sch.slopes, q_index=idx, k_index=idx)  # fmt: skip
        del out
        return _measure(step, reps, train)


def _measure(step, reps: int, train: bool) -> dict:
    import torch

    before = _rss_kib()
    _reset_hwm()
    with torch.set_grad_enabled(train):
        w0, c0 = time.perf_counter(), time.process_time()
        out = step()
        walls, cpus = [time.perf_counter() - w0], [time.process_time() - c0]
    peak = _hwm_kib()
    del out
    for _ in range(reps - 1):
        with torch.set_grad_enabled(train):
            w0, c0 = time.perf_counter(), time.process_time()
            out = step()
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            del out
    return {
        "extra_mib": max(0, peak - before) / 1024,
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "peak_rss_mib": peak / 1024,
    }


def _train_pair(schemes: list[str], length: int, reps: int) -> dict:
    """Training steps of several schemes interleaved in one process (fair throughput ratios)."""
    import torch

    from bipe_core.attention import attention
    from bipe_core.positions import build_positions
    from bipe_core.schemes import get_scheme

    pos, _ = build_positions(_ids(length), [1], level_separator_ids=[[2]], max_intra=1024)
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(1, H, length, DH, generator=g).requires_grad_(True) for _ in range(3))
    layers = {n: get_scheme(n, d_model=H * DH, n_heads=H) for n in schemes}

    def step(sch) -> None:
        cs = sch.cos_sin(pos) if sch.rotary else None
        qq = sch.rotate(q, pos, cs) if sch.rotary else q
        kk = sch.rotate(k, pos, cs) if sch.rotary else k
        idx = sch.bias_index(pos)
        attention(qq, kk, v, slopes=sch.slopes, q_index=idx, k_index=idx).sum().backward()

    cpus: dict[str, list[float]] = {n: [] for n in schemes}
    for n in schemes:
        step(layers[n])  # warm-up
    for _ in range(reps):
        for n in schemes:
            c0 = time.process_time()
            step(layers[n])
            cpus[n].append(time.process_time() - c0)
    return {n: statistics.median(c) for n, c in cpus.items()}


def _accuracy(length: int) -> dict:
    """Max output error vs an fp64 reference on the last 128 queries: ours vs the paper's
    absolute form (+slope * index[key], added in the working dtype), fp32 and fp16."""
    import torch

    from bipe_core.attention import attention, reference_attention
    from bipe_core.positions import build_positions
    from bipe_core.schemes import get_scheme

    tail = 128
    pos, _ = build_positions(_ids(length), [1], level_separator_ids=[[2]], max_intra=1024)
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(1, H, length, DH, generator=g) for _ in range(3))
    causal = torch.arange(length)[None, :] <= torch.arange(length - tail, length)[:, None]
    out: dict[str, float] = {}
    for name in ("alibi", "bipe_alibi", "hier_alibi"):
        sch = get_scheme(name, d_model=H * DH, n_heads=H)
        idx = sch.bias_index(pos)
        slopes = sch.slopes if sch.slopes.dim() == 2 else sch.slopes[None]
        idx3 = idx if idx.dim() == 3 else idx[..., None]
        ref = reference_attention(
            q[:, :, -tail:].double(), k.double(), v.double(), slopes=sch.slopes.double(),
            q_index=idx[:, -tail:].double(), k_index=idx.double(),
        )  # fmt: skip
        for dt in (torch.float32, torch.float16):
            ours = attention(q.to(dt), k.to(dt), v.to(dt), slopes=sch.slopes, q_index=idx,
                             k_index=idx)[:, :, -tail:]  # fmt: skip
            out[f"{name} ours {str(dt)[6:]}"] = float((ours.double() - ref).abs().max())
            scores = (q[:, :, -tail:].to(dt) @ k.to(dt).transpose(-1, -2)) / DH**0.5
            bias = torch.einsum("kh,btk->bht", slopes, idx3).to(dt)[:, :, None, :]
            paper = (scores + bias).float().masked_fill(~causal, float("-inf"))
            paper_out = torch.softmax(paper, -1) @ v
            err = (paper_out.double() - ref).abs().max()
            out[f"{name} paper-absolute {str(dt)[6:]}"] = (
                float(err) if torch.isfinite(err) else -1.0
            )
    return out


def _model_case(scheme_name: str, length: int, reps: int) -> dict:
    import torch

    from bipe_core import DecoderLM, ModelConfig

    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=512, d_model=H * DH, n_layers=2, n_heads=H, scheme=scheme_name,
        separator_ids=(1,), level_separator_ids=((2,),), max_positions=1024,
    )  # fmt: skip
    model = DecoderLM(cfg).eval()
    ids = _ids(length)
    with torch.no_grad():
        model(ids[:, :256])
    return _measure(lambda: model(ids), reps, False)


def child(args: argparse.Namespace) -> None:
    """Run one case and print its JSON result."""
    import torch

    torch.set_num_threads(args.threads)
    if args.mode == "accuracy":
        print("RESULT " + json.dumps(_accuracy(args.length)))
        return
    if args.mode == "train-pair":
        print("RESULT " + json.dumps(_train_pair(args.scheme.split(","), args.length, args.reps)))
        return
    if args.mode == "model-eval":
        res = _model_case(args.scheme, args.length, args.reps)
    else:
        res = _layer_case(
            args.scheme, args.length, args.mode, args.reference, args.reps, args.doc_len
        )
    print("RESULT " + json.dumps(res))


# --------------------------------------------------------------------------- parent side
def run_case(
    scheme: str, length: int, mode: str, reference: bool, reps: int, threads: int, doc_len: int = 0
) -> dict:
    """Run one case in a fresh interpreter; returns its measurements (or an error note)."""
    cmd = [
        sys.executable, os.path.abspath(__file__), "--child", "--scheme", scheme, "--length",
        str(length), "--mode", mode, "--reps", str(reps), "--threads", str(threads),
        "--doc-len", str(doc_len),
    ]  # fmt: skip
    if reference:
        cmd.append("--reference")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"error": f"exit {proc.returncode}: {tail[0][:120]}"}


def _ref_group(scheme: str) -> str:
    """Reference with the same bias structure: no bias, one-level bias or two-level bias."""
    return {"alibi": "alibi", "bipe_alibi": "bipe_alibi", "hier_alibi": "hier_alibi"}.get(
        scheme, "rope"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse options, run every case and print the table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1k and 4k only, one rep")
    p.add_argument("--lengths", type=int, nargs="+", default=None)
    p.add_argument("--schemes", nargs="+", default=SCHEMES)
    p.add_argument("--modes", nargs="+", default=MODES, choices=MODES)
    p.add_argument("--ref-max", type=int, default=8192, help="longest length for the reference")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None, help="also write all results to this file")
    p.add_argument(
        "--doc-len", type=int, default=0,
        help="pack documents of this many tokens (document masking; layer cases only)",
    )  # fmt: skip
    p.add_argument(
        "--accuracy", action="store_true",
        help="only print bias accuracy vs fp64: ours vs the paper's absolute form",
    )  # fmt: skip
    p.add_argument(
        "--train-pair", nargs="+", default=None, metavar="SCHEME",
        help="only compare training throughput of these schemes, interleaved in one process",
    )  # fmt: skip
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--scheme", help=argparse.SUPPRESS)
    p.add_argument("--length", type=int, help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args)
        return 0
    lengths = args.lengths or ([1024, 4096] if args.quick else LENGTHS)
    reps = 1 if args.quick else args.reps
    if args.train_pair:
        return _run_pairs(args.train_pair, lengths, max(reps, 3), args.threads)
    if args.accuracy:
        for length in lengths:
            res = run_case("-", length, "accuracy", False, 1, args.threads)
            print(f"max |error| vs fp64 on the last 128 queries at {length} tokens")
            for key, val in res.items():
                print(f"  {key:<32} {'overflow/NaN' if val < 0 else f'{val:.2e}'}")
        return 0
    results: list[dict] = []
    for length in lengths:
        refs: dict[str, dict] = {}
        if "layer-fwd" in args.modes and length <= args.ref_max:
            for group in sorted({_ref_group(s) for s in args.schemes}):
                refs[group] = run_case(
                    group, length, "layer-fwd", True, 1, args.threads, args.doc_len
                )
                results.append(
                    {"case": "reference", "scheme": group, "length": length, **refs[group]}
                )
                _print_row(results[-1])
        for scheme in args.schemes:
            for mode in args.modes:
                res = run_case(scheme, length, mode, False, reps, args.threads, args.doc_len)
                row = {"case": mode, "scheme": scheme, "length": length, **res}
                ref = refs.get(_ref_group(scheme))
                if mode == "layer-fwd" and ref and "error" not in ref and "error" not in res:
                    row["speedup_cpu"] = ref["cpu_s"] / max(res["cpu_s"], 1e-9)
                    row["memory_ratio"] = ref["extra_mib"] / max(res["extra_mib"], 1e-3)
                if mode == "layer-train" and "error" not in res:
                    row["train_tok_s"] = length / max(res["cpu_s"], 1e-9)
                results.append(row)
                _print_row(row)
    _summary(results)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


def _run_pairs(schemes: list[str], lengths: list[int], reps: int, threads: int) -> int:
    """Print interleaved training throughput of `schemes` relative to the first one."""
    print(f"training throughput (fwd+bwd of one layer), median of {reps} interleaved reps")
    for length in lengths:
        res = run_case(",".join(schemes), length, "train-pair", False, reps, threads)
        if "error" in res:
            print(f"  {length}: ERROR {res['error']}")
            continue
        base = res[schemes[0]]
        cells = "  ".join(
            f"{n} {length / res[n]:.0f} tok/s (x{base / res[n]:.3f})" for n in schemes
        )
        print(f"  {length:>6}: {cells}", flush=True)
    return 0


def _print_row(r: dict) -> None:
    if "error" in r:
        print(f"{r['case']:<11} {r['scheme']:<11} {r['length']:>6}  ERROR {r['error']}", flush=True)
        return
    extra = ""
    if "speedup_cpu" in r:
        extra = f"  speedup x{r['speedup_cpu']:.1f}  memory /{r['memory_ratio']:.0f}"
    if "train_tok_s" in r:
        extra = f"  train {r['train_tok_s']:.0f} tok/s (cpu)"
    print(
        f"{r['case']:<11} {r['scheme']:<11} {r['length']:>6}  cpu {r['cpu_s']:8.3f} s"
        f"  wall {r['wall_s']:8.3f} s  extra {r['extra_mib']:8.1f} MiB"
        f"  peak RSS {r['peak_rss_mib']:8.0f} MiB{extra}",
        flush=True,
    )


def _summary(results: list[dict]) -> None:
    """Check the issue's targets on whatever was measured."""
    print("\nTargets")
    at8 = [
        r for r in results if r["case"] == "layer-fwd" and r["length"] == 8192 and "error" not in r
    ]
    for r in at8:
        ok = (
            r["extra_mib"] <= 100
            and r.get("memory_ratio", 0) >= 40
            and r.get("speedup_cpu", 0) >= 5
        )
        print(
            f"  8k layer {r['scheme']:<11} extra {r['extra_mib']:.0f} MiB (<=100), "
            f"memory /{r.get('memory_ratio', float('nan')):.0f} (>=40), "
            f"speed x{r.get('speedup_cpu', float('nan')):.1f} (>=5): {'OK' if ok else 'MISS'}"
        )
    train = {
        (r["scheme"], r["length"]): r
        for r in results
        if r["case"] == "layer-train" and "error" not in r
    }
    for (scheme, length), r in sorted(train.items()):
        if scheme == "bipe_rope" and ("rope", length) in train:
            ratio = r["train_tok_s"] / train[("rope", length)]["train_tok_s"]
            print(
                f"  {length} bipe_rope / rope training throughput: {ratio:.3f} (>=0.95; one-shot"
                " runs are noisy, use --train-pair for an interleaved ratio)"
            )
    for r in results:
        if r["case"] == "model-eval" and r["length"] == 32768 and "error" not in r:
            print(
                f"  2-layer {r['scheme']} at 32k: peak RSS {r['peak_rss_mib'] / 1024:.2f} GiB (<24)"
            )


if __name__ == "__main__":
    sys.exit(main())
