"""Issue 11: report plots are readable (log2 length axis with the lengths as ticks, one colour per
series everywhere) and summary.md links them and names the package version and commit."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from experiments import __version__
from experiments.analysis import report


def _evals() -> list[dict]:
    out = []
    for corpus in ("kjv", "sample"):
        for scheme, seg in (("rope", None), ("bipe_rope", "punct")):
            rows = [{"length": n, "ppl": 20.0 + n / 8} for n in (64, 128, 256, 512)]
            out.append(
                {"corpus": corpus, "scheme": scheme, "segmenter": seg, "train_len": 64,
                 "step": 10, "results": rows}
            )  # fmt: skip
    return out


def test_length_axis_ticks_are_the_lengths_in_full():
    fig, ax = plt.subplots()
    ax.plot([64, 128, 256, 512], [1, 2, 3, 4])
    report.length_axis(ax, [64, 128, 256, 512])
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["64", "128", "256", "512"]
    assert ax.get_xscale() == "log"
    plt.close(fig)


def test_series_keep_their_colour_whatever_the_order():
    a = report.series_colours(["rope", "alibi", "bipe_rope (punct)"])
    b = report.series_colours(["bipe_rope (punct)", "rope", "alibi", "alibi"])
    assert a == b and len(set(a.values())) == 3


def test_summary_links_plots_and_states_version(tmp_path):
    evals = _evals()
    paths = report.plot_ppl(tmp_path, evals)
    assert [p.name for p in paths] == ["ppl_vs_length_kjv.png", "ppl_vs_length_sample.png"]
    text = report.write_summary(tmp_path, "t", {}, evals, [], "bipe demo", 1.0).read_text()
    assert "![ppl vs length kjv](ppl_vs_length_kjv.png)" in text
    assert f"- bipe {__version__}, commit: `" in text
