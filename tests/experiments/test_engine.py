"""The one experiment engine: one config system (checks, presets, --set, fingerprints), one sweep
engine for both tasks, one registry API, and the defects its review found (real parts, tiny sizes)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.cli import main
from experiments.engine.config import fingerprint, number_settings
from experiments.errors import ExperimentError
from experiments.lm.config import DataConfig, apply_overrides, load_config, preset
from experiments.registry import Registry, UnknownNameError
from experiments.synthetic.config import load_synthetic_config
from experiments.synthetic.task import all_cells, cell_result, run_sweep
from tests.experiments.test_cli import MICRO

ROOT = Path(__file__).resolve().parents[2]


# -------------------------------------------------------------------- one configuration system
def test_settings_that_change_no_number_stay_out_of_the_fingerprint():
    cfg = preset("tiny")
    same = apply_overrides(
        cfg,
        ["train.log_every=3", "train.threads=2", "workers=4", "seeds=0,1", "eval.batch_size=1"],
    )
    assert fingerprint(same) == fingerprint(cfg)
    for change in ("train.lr=0.01", "train.seq_len=32", "data.vocab_size=300", "model.d_model=32"):
        assert fingerprint(apply_overrides(cfg, [change])) != fingerprint(cfg), change
    assert "seq_len" in number_settings(cfg)["train"] and "log_every" not in number_settings(cfg)


def test_a_synthetic_cell_is_rerun_only_for_a_setting_that_changes_it(tmp_path):
    micro = ["train.steps=3", "train.batch_size=4", "task.factors=1", "task.test_words=4"]
    fields = {"automata": "mod-marked:types=2,states=2", "schemes": "rope", "widths": "8"}
    cfg = load_synthetic_config("tiny", [*micro, "probes=false"], **fields, seeds="0", workers="1")
    run_sweep(cfg, tmp_path, log=lambda m: None)
    cell = all_cells(cfg)[0]
    free = ["train.log_every=3", "train.threads=1", "task.eval_batch=2", "target=0.5"]
    relaxed = load_synthetic_config("tiny", [*micro, "probes=false", *free], **fields, seeds="0,1")
    assert cell_result(tmp_path, relaxed, cell) is not None  # nothing that changes a number
    changed = load_synthetic_config("tiny", [*micro, "probes=false", "train.lr=0.01"], **fields)
    assert cell_result(tmp_path, changed, cell) is None
    # the synthetic task has no training length: the setting is refused, not silently ignored
    with pytest.raises(ExperimentError, match=r"unknown config key 'train\.seq_len'"):
        load_synthetic_config("tiny", ["train.seq_len=64"])


def test_the_grid_seeds_are_a_list_and_old_keys_still_mean_the_same_seeds():
    assert preset("tiny").seeds == [0] and preset("cpu-small").seeds == [0, 1, 2]
    assert apply_overrides(preset("tiny"), ["seeds=3,5"]).seeds == [3, 5]
    # configs and checkpoints written before the list: the first seed and how many
    assert apply_overrides(preset("tiny"), ["train.seed=3", "train.seeds=2"]).seeds == [3, 4]
    assert apply_overrides(preset("cpu-small"), ["train.seed=1"]).seeds == [1, 2, 3]
    for bad in ("seeds=-1", "seeds=a"):
        with pytest.raises(ExperimentError, match="seeds"):
            apply_overrides(preset("tiny"), [bad])


def test_a_run_records_its_own_seed_and_never_rewrites_the_grid(tmp_path, cache_dir):
    out = tmp_path / "grid"
    argv = ["run", "--preset", "tiny", "--out", str(out), "--cache-dir", str(cache_dir)]
    assert (
        main([*argv, "--workers", "1", "--set", "schemes=alibi", "--set", "seeds=4,7", *MICRO]) == 0
    )
    from experiments.engine.checkpoints import read_header

    for name, seed in (("sample-alibi-s4", 4), ("sample-alibi-s7", 7)):
        info = read_header(out / "runs" / name / "checkpoint.safetensors")["info"]
        assert info["seed"] == seed and info["experiment"]["seeds"] == [4, 7]
        assert json.loads((out / "runs" / name / "eval.json").read_text())["seed"] == seed


def test_presets_load_from_one_registry_for_every_task():
    from experiments.engine.config import preset_names

    assert preset_names("lm") == ["tiny", "cpu-small", "gpu-paper"]
    assert preset_names("synthetic") == ["tiny", "cpu", "gpu"]
    with pytest.raises(ExperimentError, match=r"unknown preset 'huge'.*tiny, cpu-small, gpu-paper"):
        load_config("huge")


# ------------------------------------------------------------------------ one sweep engine
def test_a_finished_run_is_skipped_for_a_free_setting_and_redone_for_a_number(
    tmp_path, cache_dir, capsys
):
    out = tmp_path / "exp"
    argv = ["run", "--preset", "tiny", "--out", str(out), "--cache-dir", str(cache_dir)]
    argv += ["--workers", "1", "--set", "schemes=alibi", *MICRO]
    assert main(argv) == 0
    capsys.readouterr()
    assert main([*argv, "--set", "train.log_every=1", "--workers", "2"]) == 0
    assert "1 runs (1 already done)" in capsys.readouterr().out
    # a new evaluation setting re-evaluates the trained model, under the new fingerprint
    assert main([*argv, "--set", "eval.multipliers=1,3", "--set", "eval.eval_tokens=288"]) == 0
    assert "1 runs (0 already done)" in capsys.readouterr().out
    ev = json.loads((out / "runs" / "sample-alibi" / "eval.json").read_text())
    assert [r["multiplier"] for r in ev["results"]] == [1, 3]
    # a new training setting would report another configuration's runs: refused before any work
    summary = (out / "summary.md").read_text()
    assert main([*argv, "--set", "train.lr=0.05"]) == 2
    assert "train.lr: 0.003 -> 0.05" in capsys.readouterr().err
    assert (out / "summary.md").read_text() == summary


def test_the_language_model_grid_runs_on_submitit_too(tmp_path, cache_dir, capsys):
    pytest.importorskip("submitit")
    out = tmp_path / "exp"
    argv = ["run", "--preset", "tiny", "--out", str(out), "--cache-dir", str(cache_dir)]
    argv += ["--executor", "submitit-local", "--set", "schemes=alibi", *MICRO]
    assert main(argv) == 0
    assert (out / "runs" / "sample-alibi" / "eval.json").is_file() and (out / "submitit").is_dir()
    assert "submitted 1 jobs to submitit-local" in capsys.readouterr().out


# ------------------------------------------------------------------------ the registry API
def test_a_registry_names_its_choices_and_keeps_its_entries():
    reg = Registry("test-point", "widget")
    reg.register("a", 1)
    reg.register("a", 1)  # the same entry again is harmless

    @reg.register("b")
    def b() -> int:
        return 2

    assert reg.names() == ["a", "b"] and "a" in reg and reg.get("b") is b
    with pytest.raises(ExperimentError, match="widget 'a' is already registered"):
        reg.register("a", 3)
    with pytest.raises(UnknownNameError, match="unknown widget 'c'; valid: a, b"):
        reg.get("c")


def test_a_corpus_from_another_package_is_found_through_its_entry_point(tmp_path):
    """A fake distribution adds a corpus through the group bipe.corpora; a fresh process lists it,
    loads it by name and keeps the built-ins first."""
    dist = tmp_path / "site"
    (dist / "mycorpus-1.0.dist-info").mkdir(parents=True)
    (dist / "mycorpus-1.0.dist-info" / "METADATA").write_text("Name: mycorpus\nVersion: 1.0\n")
    (dist / "mycorpus-1.0.dist-info" / "entry_points.txt").write_text(
        "[bipe.corpora]\nnotes = mycorpus:ENTRY\n"
    )
    (dist / "mycorpus.py").write_text(
        textwrap.dedent(
            """
            from experiments.corpora import Corpus, CorpusEntry, CorpusInfo, Document
            INFO = CorpusInfo("notes", "two notes", "here", "mine", "nothing")
            def load(max_docs=None):
                return Corpus(INFO, [Document("a", "One. Two."), Document("b", "Three.")])
            ENTRY = CorpusEntry(INFO, load)
            """
        )
    )
    code = (
        f"import sys; sys.path.insert(0, {str(dist)!r})\n"
        "from experiments.corpora import list_corpora, load_corpus\n"
        "names = list_corpora()\n"
        "assert names[0] == 'kjv' and names[-1] == 'notes', names\n"
        "print(len(load_corpus('notes').documents))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "2"


# ---------------------------------------------------------------- defects the review found
def test_corpus_list_json_and_table_name_the_same_corpora(capsys):
    """In a fresh process and in this one: the sources register before anything is listed."""
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", "corpus", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    fresh = [c["name"] for c in json.loads(done.stdout)]
    assert main(["corpus", "list"]) == 0
    table = [line.split("|")[1].strip() for line in capsys.readouterr().out.splitlines()[2:]]
    assert fresh == table and {"folder", "jsonl", "parquet", "hf", "kjv", "series"} <= set(fresh)


def test_every_path_aligns_segments_with_the_same_default_boundary():
    from experiments.analysis.segstats import segment_stats
    from experiments.pipeline import CorpusTokens
    from experiments.pipeline.positions import ShardContext

    trained = DataConfig().align_boundary
    stats = inspect.signature(segment_stats).parameters["boundary"].default
    stream = inspect.signature(CorpusTokens.stream).parameters["boundary"].default
    shards = ShardContext("tokenizer.json", []).boundary
    assert trained == stats == stream == shards == "word"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["budget", "--steps", "300,abc"], "--steps"),
        (["budget", "--steps", "0"], "--steps"),
        (["budget", "--steps", "3", "--workers", "0"], "--workers"),
        (["budget", "--steps", "3", "--executor", "pbs"], "--executor"),
        (["synthetic", "--widths", "8,x"], "--widths"),
        (["synthetic", "--seeds", "-1"], "--seeds"),
        (["synthetic", "--target", "1.5"], "--target"),
        (["synthetic", "--workers", "two"], "--workers"),
        (["run", "--executor", "pbs"], "--executor"),
    ],
)
def test_typed_options_refuse_bad_values_before_anything_runs(tmp_path, capsys, argv, message):
    argv = [*argv, "--out", str(tmp_path / "out")]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_budget_claims_its_output_directory(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["budget", "--steps", "2", "--out", str(mine)]) == 2
    assert "did not write" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_hier_alibi_level_factors_are_set_through_the_experiment_config():
    """The model section reaches hier_alibi's per-level factors, checked against the levels of the
    nested segmenter the grid gives it (not against one level)."""
    from bipe_core import DecoderLM
    from experiments.lm.config import model_config

    nested = "segmenters=punct:lines=true@line > punct"
    cfg = apply_overrides(
        preset("tiny"), ["model.level_factors=[1, 4]", "schemes=alibi,hier_alibi", nested]
    )
    model = DecoderLM(model_config(cfg, "hier_alibi", 300, cfg.segmenters[0]))
    assert model.pos.level_factors == [1.0, 4.0]
    with pytest.raises(ExperimentError, match="3 factors for 2 segment levels"):
        apply_overrides(
            preset("tiny"), ["model.level_factors=[1, 4, 5]", "schemes=hier_alibi", nested]
        )
