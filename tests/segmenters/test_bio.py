"""`dna` and `protein` on Biopython: codons, ORFs, motifs, IUPAC checks, and the invariants."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmenters import SegmenterInputError, SegmenterOptionError, check_segmentation, get_segmenter

pytest.importorskip("Bio")
from Bio.Seq import Seq

from segmenters.bio import MOTIFS, prosite_to_regex

IUPAC_DNA = "ACGTURYSWKMBDHVNacgtn"
DNA = st.lists(
    st.one_of(st.sampled_from(list(IUPAC_DNA)), st.sampled_from(["ATG", "TAA", "TGA", "\n", " "])),
    max_size=120,
).map("".join)


@settings(max_examples=80, deadline=None)
@given(
    text=DNA,
    frame=st.integers(0, 2),
    min_orf=st.integers(1, 5),
    level=st.sampled_from(["codon", "region"]),
)
def test_dna_levels_partition_and_nest(text: str, frame: int, min_orf: int, level: str) -> None:
    seg = get_segmenter("dna", frame=frame, min_orf=min_orf, level=level).segment(text)
    check_segmentation(seg)
    residues = [len(re.sub(r"\s", "", s.text)) for s in seg.levels["codon"]]
    kinds = [s.kind for s in seg.levels["codon"]]
    for r, k in zip(residues, kinds):
        assert r == 3 if k == "codon" else 0 < r < 3 or (r == 0 and not text.strip())


def test_orfs_follow_biopython_translation() -> None:
    text = "CC" + "ATG" + "GCT" * 40 + "TAA" + "GGG" * 5 + "ATGAAATGA" + "ATG" + "CCC" * 35 + "A"
    seg = get_segmenter("dna", frame=2, min_orf=10).segment(text)
    regions = [(s.kind, s.text) for s in seg.levels["region"]]
    assert [k for k, _ in regions] == ["noncoding", "orf", "noncoding", "orf_open", "noncoding"]
    orf = regions[1][1]
    assert str(Seq(orf).translate()) == "M" + "A" * 40 + "*"
    assert len(regions[3][1]) == 3 * 36  # runs to the last whole codon; the partial one follows
    assert seg.info["n_orfs"] == 2
    # Table 11 (bacterial) also starts at GTG.
    gtg = "GTG" + "AAA" * 30 + "TAG"
    assert get_segmenter("dna", table=11, level="region").segment(gtg)[0].kind == "orf"
    assert get_segmenter("dna", table=1, level="region").segment(gtg)[0].kind == "noncoding"


def test_dna_bad_symbols_are_named() -> None:
    with pytest.raises(SegmenterInputError, match=r"'X', 'Z' \(first at offset 4\)"):
        get_segmenter("dna").segment("ACGTXACZ")
    with pytest.raises(SegmenterInputError, match="'>'"):
        get_segmenter("dna").segment(">header\nACGT")
    assert get_segmenter("dna").segment("").spans == []
    with pytest.raises(SegmenterOptionError, match="frame"):
        get_segmenter("dna", frame=3)
    with pytest.raises(SegmenterOptionError, match="NCBI table"):
        get_segmenter("dna", table=7)


PROTEIN = st.lists(
    st.one_of(
        st.sampled_from(list("ACDEFGHIKLMNPQRSTVWYBXZ*")), st.sampled_from(["NGS", "NPT", "\n"])
    ),
    max_size=120,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(text=PROTEIN, size=st.integers(1, 9), motif=st.sampled_from(sorted(MOTIFS)))
def test_protein_cuts(text: str, size: int, motif: str) -> None:
    fixed = get_segmenter("protein", size=size).segment(text)
    check_segmentation(fixed)
    assert all(len(re.sub(r"\s", "", s.text)) == size for s in list(fixed)[:-1])
    seg = get_segmenter("protein", mode="motif", motif=motif).segment(text)
    check_segmentation(seg)
    clean = re.sub(r"\s", "", text)
    rx = re.compile(prosite_to_regex(MOTIFS[motif]))
    for s in list(seg)[1:]:
        start = len(re.sub(r"\s", "", text[: s.start]))
        assert rx.match(clean, start)


def test_prosite_patterns() -> None:
    assert prosite_to_regex("N-{P}-[ST]-{P}.") == "N[^P][ST][^P]"
    assert prosite_to_regex("<M-x(2,4)-[ST>]") == "^M.{2,4}(?:[ST]|$)"
    seg = get_segmenter("protein", mode="motif").segment("MKNGSANVTQNPTA")
    assert [s.text for s in seg] == ["MK", "NGSA", "NVTQNPTA"]  # NPT has P: no N-glycosylation site
    with pytest.raises(SegmenterOptionError, match="PROSITE"):
        get_segmenter("protein", mode="motif", motif="N-(P")
    with pytest.raises(SegmenterInputError, match=r"protein.*'1'"):
        get_segmenter("protein").segment("MKV1")
