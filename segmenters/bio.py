"""`dna` and `protein`: biological sequences (str, one letter per residue) on Biopython.

Both take the bare sequence as text. Letters are IUPAC codes in either case (DNA: ``ACGT``,
``U`` and the ambiguity codes ``RYWSMKHBVDN``; protein: Biopython's extended protein letters
and ``*``); whitespace (line breaks of a FASTA body) is allowed and stays inside the span of
the residue before it. Any other symbol raises `SegmenterInputError` naming the symbols and the
first offset. FASTA header lines are not parsed here: read records with ``Bio.SeqIO`` and
segment ``str(record.seq)`` (as the ``genbank-dna`` and ``swissprot`` corpora do).

``dna`` gives two levels, ``region`` > ``codon``, on the forward strand in one reading
``frame``: codons are the residue triples of the frame (a frame offset and a trailing partial
codon are their own segments); regions alternate between ``orf`` (a start codon of the NCBI
``table`` up to and including the next stop, as Biopython translates it, at least ``min_orf``
codons; ``orf_open`` when the sequence ends before a stop) and ``noncoding``.

``protein`` cuts fixed windows of ``size`` residues, or before every match of a PROSITE
pattern (``motif``, a pattern such as ``N-{P}-[ST]-{P}`` or a preset name in `MOTIFS`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from segmenters.base import (
    BaseSegmenter,
    Segmentation,
    check_text,
)
from segmenters.errors import MissingDependencyError, SegmenterInputError, SegmenterOptionError
from segmenters.options import Option
from segmenters.sequence import sequence_segmentation

DNA_LEVELS = ("region", "codon")
# PROSITE patterns (prosite.expasy.org, entries PS00001, PS00005, PS00006, PS00008).
MOTIFS = {
    "n-glycosylation": "N-{P}-[ST]-{P}",
    "pkc-phospho": "[ST]-x-[RK]",
    "ck2-phospho": "[ST]-x(2)-[DE]",
    "myristyl": "G-{EDRKHPFYW}-x(2)-[STAGCN]-{P}",
}
_WS = frozenset(" \t\r\n\v\f")


def load_biopython() -> Any:
    """Import Biopython's `Bio` or raise `MissingDependencyError` naming the extra to install."""
    try:
        import Bio.Data.CodonTable
        import Bio.Data.IUPACData
        import Bio.Seq
    except ImportError as exc:
        raise MissingDependencyError(
            "the dna and protein segmenters need Biopython: pip install 'bipe[bio]' (or biopython)"
        ) from exc
    return Bio


@functools.lru_cache(maxsize=8)
def _allowed(alphabet: str) -> frozenset[str]:
    """The alphabet in both cases plus whitespace."""
    return frozenset(alphabet) | frozenset(alphabet.lower()) | _WS


def residues(text: str, alphabet: str, what: str) -> tuple[str, np.ndarray | None]:
    """The sequence without whitespace, upper-cased, and each residue's offset in ``text``
    (None when there is no whitespace: offsets are residue indices).

    Raises `SegmenterInputError` naming the symbols outside ``alphabet`` and where the first is.
    """
    chars = set(text)
    bad = sorted(chars - _allowed(alphabet))
    if bad:
        first = min(text.index(c) for c in bad)
        shown = ", ".join(repr(c) for c in bad[:8]) + (" ..." if len(bad) > 8 else "")
        raise SegmenterInputError(
            f"{what}: {len(bad)} symbol(s) outside the IUPAC alphabet {alphabet!r}: {shown} "
            f"(first at offset {first})"
        )
    if chars.isdisjoint(_WS):
        return text.upper(), None
    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    keep = ~((codes == 32) | ((codes >= 9) & (codes <= 13)))
    return text.upper().translate({ord(c): None for c in _WS}), np.flatnonzero(keep)


def _char_cuts(res_cuts: np.ndarray, pos: np.ndarray | None) -> np.ndarray:
    """Character cut points for residue-index cut points (a cut sits on the residue's offset)."""
    res_cuts = np.asarray(res_cuts, dtype=np.int64)
    return pos[res_cuts] if pos is not None and len(res_cuts) else res_cuts


class DnaSegmenter(BaseSegmenter):
    """DNA in two levels, region (ORF / non-coding) > codon, on Biopython's codon tables."""

    name = "dna"
    description = "DNA codons and open reading frames (Biopython): region > codon"

    OPTIONS = (
        Option("frame", (int,), 0, "reading frame of the codon level", choices=(0, 1, 2)),
        Option("table", (int,), 1, "NCBI codon table id (its start and stop codons)", ge=1),
        Option("min_orf", (int,), 30, "shortest open reading frame, in codons", ge=1),
        Option("level", (str,), "codon", "the primary level", choices=DNA_LEVELS),
    )

    def __init__(
        self, frame: int = 0, table: int = 1, min_orf: int = 30, level: str = "codon"
    ) -> None:
        super().__init__(frame=frame, table=table, min_orf=min_orf, level=level)
        self.level, self.min_orf = level, min_orf
        bio = load_biopython()
        tables = bio.Data.CodonTable.unambiguous_dna_by_id
        if isinstance(table, bool) or table not in tables:
            raise SegmenterOptionError(
                f"table must be an NCBI table id in {sorted(tables)}, got {table!r}"
            )
        self.frame, self.table = int(frame), int(table)
        self._starts = np.array(tables[table].start_codons, dtype="S3")
        self._alphabet = bio.Data.IUPACData.ambiguous_dna_letters + "U"
        self._seq = bio.Seq.Seq

    def segment(self, text: str) -> Segmentation:
        """Codons and ORF regions of one DNA sequence (character spans)."""
        text = check_text(text)
        seq, pos = residues(text, self._alphabet, "dna")
        seq = seq.replace("U", "T")  # Biopython refuses mixed RNA/DNA; the offsets do not move
        n = len(seq)
        info = {"frame": self.frame, "table": self.table, "n_orfs": 0}
        if n == 0:  # empty, or only whitespace: one segment without a residue
            kinds = {"region": "noncoding", "codon": "partial"}
            empty = {"region": [], "codon": []}
            return sequence_segmentation(text, empty, self.level, self.name, info, kinds)
        f = min(self.frame, n)
        n_codons = (n - f) // 3
        codon_res = f + 3 * np.arange(n_codons + 1, dtype=np.int64)  # codon k starts at residue
        codon_cuts = codon_res[(codon_res > 0) & (codon_res < n)]
        orfs = self._orfs(seq[f : f + 3 * n_codons], n_codons)
        spans: list[tuple[int, str]] = []  # (first residue, kind) of each region
        prev = 0
        for a, b, kind in orfs:
            if f + 3 * a > prev:
                spans.append((prev, "noncoding"))
            spans.append((f + 3 * a, kind))
            prev = f + 3 * b
        if prev < n or not spans:
            spans.append((prev, "noncoding"))
        region_res = [r for r, _ in spans[1:]]
        region_kinds = [k for _, k in spans]
        info["n_orfs"] = len(orfs)
        region = _char_cuts(np.asarray(region_res, dtype=np.int64), pos)
        cuts = {"region": region, "codon": _char_cuts(codon_cuts, pos)}
        codon_kinds = ["offset"] * (f > 0) + ["codon"] * n_codons + ["partial"] * ((n - f) % 3 > 0)
        kinds = {"region": region_kinds, "codon": codon_kinds}
        return sequence_segmentation(text, cuts, self.level, self.name, info, kinds)

    def _orfs(self, framed: str, n_codons: int) -> list[tuple[int, int, str]]:
        """ORFs as codon ranges ``[a, b)``: a start codon through the next stop (Biopython)."""
        if n_codons == 0:
            return []
        protein = str(self._seq(framed).translate(table=self.table))
        stops = np.flatnonzero(np.frombuffer(protein.encode("ascii"), dtype=np.uint8) == ord("*"))
        codons = np.frombuffer(framed.encode("ascii"), dtype="S3")
        starts = np.flatnonzero(np.isin(codons, self._starts))
        out: list[tuple[int, int, str]] = []
        k = 0
        while True:
            i = int(np.searchsorted(starts, k))
            if i == len(starts):
                return out
            a = int(starts[i])
            j = int(np.searchsorted(stops, a))
            b, kind = (int(stops[j]) + 1, "orf") if j < len(stops) else (n_codons, "orf_open")
            if b - a >= self.min_orf:
                out.append((a, b, kind))
                k = b
            else:
                k = a + 1
            if b >= n_codons:
                return out


# Bounds on a motif, so the matcher's work per residue is bounded before it runs (a motif is
# tried at every residue; the regex backtracks through every way its ranges can stretch).
MAX_MOTIF_CHARS = 1000  # the pattern's text; PROSITE's longest patterns are ~200 characters
MAX_MOTIF_SPAN = 2000  # residues one match can cover (the sum of the repeats' high ends)
MAX_MOTIF_CHOICES = 1001  # product over ranges of hi-lo+1: one x(0,1000), or 10 x 10 x 10
_ELEMENT = re.compile(r"(<?)(\[[A-Z>]+\]|\{[A-Z]+\}|[A-Zx])(?:\((\d+)(?:,(\d+))?\))?(>?)")


def _motif_elements(pattern: str) -> list[tuple[str, str, int, int, str, bool]]:
    """(head, core, low, high, tail, has_range) per element; adjacent bare ``x`` ranges merged."""
    if len(pattern) > MAX_MOTIF_CHARS:
        raise SegmenterOptionError(
            f"motif: {len(pattern):,} characters is over the limit of {MAX_MOTIF_CHARS:,}"
        )
    out: list[tuple[str, str, int, int, str, bool]] = []
    for el in pattern.strip().rstrip(".").split("-"):
        m = _ELEMENT.fullmatch(el)
        if m is None:
            raise SegmenterOptionError(
                f"motif: {el!r} is not a PROSITE pattern element (in {pattern!r})"
            )
        head, core, lo, hi, tail = m.groups()
        low, high = int(lo or 1), int(hi or lo or 1)
        if low > high or high > MAX_MOTIF_SPAN:
            raise SegmenterOptionError(
                f"motif: {el!r} repeats {low:,}..{high:,} times; a repeat must be at most "
                f"{MAX_MOTIF_SPAN:,} and its low end not above its high end (in {pattern!r})"
            )
        prev = out[-1] if out else None
        # x(2)-x(0,3) is x(2,5): one range, so the regex has one way to stretch, not several
        if prev and core == prev[1] == "x" and not (head or tail or prev[4]):
            out[-1] = ("", "x", prev[2] + low, prev[3] + high, "", True)
        else:
            out.append((head, core, low, high, tail, lo is not None))
    return out


def _check_motif_work(pattern: str, elements: list[tuple[str, str, int, int, str, bool]]) -> None:
    span = sum(el[3] for el in elements)
    choices = 1
    for el in elements:
        choices *= el[3] - el[2] + 1
    if span > MAX_MOTIF_SPAN or choices > MAX_MOTIF_CHOICES:
        raise SegmenterOptionError(
            f"motif {pattern!r} is too costly to try at every residue: it spans up to {span:,} "
            f"residues (limit {MAX_MOTIF_SPAN:,}) and its ranges stretch {choices:,} ways "
            f"(limit {MAX_MOTIF_CHOICES:,}); narrow the x(lo,hi) ranges"
        )


def prosite_to_regex(pattern: str) -> str:
    """Translate a PROSITE pattern (``N-{P}-[ST]-{P}``, ``x(2,4)``, ``<``/``>``) into a regex."""
    elements = _motif_elements(pattern)
    _check_motif_work(pattern, elements)
    out = []
    for head, core, low, high, tail, has_range in elements:
        if core == "x":
            core = "."
        elif core.startswith("{"):
            core = f"[^{core[1:-1]}]"
        elif core.startswith("[") and ">" in core:
            core = f"(?:[{core[1:-1].replace('>', '')}]|$)"
        rep = "" if not has_range else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        out.append(("^" if head else "") + core + rep + ("$" if tail else ""))
    return "".join(out)


class ProteinSegmenter(BaseSegmenter):
    """Protein sequences cut into fixed windows or before each PROSITE motif match."""

    name = "protein"
    description = "protein residues: fixed windows, or cuts before PROSITE motif matches"

    OPTIONS = (
        Option(
            "mode",
            (str,),
            "fixed",
            "fixed windows, or cuts before motif matches",
            choices=("fixed", "motif"),
        ),
        Option("size", (int,), 16, "residues per window (mode=fixed)", ge=1),
        Option(
            "motif",
            (str,),
            "n-glycosylation",
            f"a PROSITE pattern or one of {', '.join(MOTIFS)} (mode=motif)",
        ),
    )

    def __init__(self, mode: str = "fixed", size: int = 16, motif: str = "n-glycosylation") -> None:
        super().__init__(mode=mode, size=size, motif=motif)
        self.mode, self.size = mode, size
        if not motif:
            raise SegmenterOptionError(f"motif must be a PROSITE pattern or one of {list(MOTIFS)}")
        self.motif = MOTIFS.get(motif.lower(), motif)
        self._regex = re.compile(f"(?=({prosite_to_regex(self.motif)}))")
        bio = load_biopython()
        self._alphabet = bio.Data.IUPACData.extended_protein_letters + "*"

    def segment(self, text: str) -> Segmentation:
        """Fixed windows or motif-start cuts of one protein sequence (character spans)."""
        text = check_text(text)
        seq, pos = residues(text, self._alphabet, "protein")
        n = len(seq)
        if self.mode == "fixed":
            res_cuts = np.arange(self.size, n, self.size, dtype=np.int64)
        else:
            # One lookahead match per start position: the starts come sorted and unique.
            res_cuts = np.fromiter((m.start() for m in self._regex.finditer(seq, 1)), np.int64)
        info = (
            {"mode": self.mode, "size": self.size}
            if self.mode == "fixed"
            else {"mode": "motif", "motif": self.motif}
        )
        cuts = {"segment": _char_cuts(res_cuts.astype(np.int64), pos)}
        return sequence_segmentation(text, cuts, "segment", self.name, info, {"segment": self.mode})
