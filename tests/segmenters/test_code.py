"""`code`: nested levels on real tree-sitter parses, the max-length guarantee, errors, the stdlib."""

from __future__ import annotations

import pathlib
import random
import sysconfig

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmenters import (
    MissingDependencyError,
    SegmenterInputError,
    SegmenterOptionError,
    check_segmentation,
    get_segmenter,
)
from segmenters import code_languages as cl
from segmenters.code import LEVELS
from segmenters.io import read_text_file

LEVEL_NAMES = list(LEVELS)


def stdlib_files() -> list[pathlib.Path]:
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)


def check_all(seg, max_len: int | None = None) -> None:
    """Partition invariants at every level and the maximum on every level."""
    check_segmentation(seg)
    assert list(seg.levels) == [lv for lv in LEVELS if lv in seg.levels]
    if max_len is not None:
        for lv in seg.levels:
            assert max(seg.at_level(lv).lengths(), default=0) <= max_len, lv


def texts(seg, level: str) -> list[str]:
    """The texts of one level's segments, in order."""
    return [s.text for s in seg.levels[level]]


def statements(language: str, src: str):
    """``src`` segmented by a real tree-sitter code segmenter down to statements."""
    return get_segmenter("code", language=language, level="statement").segment(src)


PY = '''"""Module doc."""
import os  # why os

# About f
@decorator
def f(x):
    # inside f
    a = 1

    if a:
        b()
    else:
        c()
    return a
class A:
    x = 1
'''


def test_python_levels_nest_and_attach_comments() -> None:
    seg = statements("python", PY)
    check_all(seg)
    assert texts(seg, "file") == [PY]
    assert texts(seg, "definition") == [
        '"""Module doc."""\n',
        "import os  # why os\n",
        "\n# About f\n@decorator\ndef f(x):\n    # inside f\n    a = 1\n\n    if a:\n"
        "        b()\n    else:\n        c()\n    return a\n",
        "class A:\n    x = 1\n",
    ]
    assert texts(seg, "statement")[2:] == [
        "\n# About f\n@decorator\ndef f(x):\n",
        "    # inside f\n    a = 1\n",
        "\n    if a:\n",
        "        b()\n",
        "    else:\n",
        "        c()\n",
        "    return a\n",
        "class A:\n",
        "    x = 1\n",
    ]
    assert texts(seg, "line") == PY.splitlines(keepends=True)
    assert seg.levels["definition"][2].kind == "decorated_definition"
    assert seg.info["language"] == "python"


def test_primary_level_and_level_subset() -> None:
    seg = get_segmenter("code", language="python", level="line", levels=["definition"]).segment(PY)
    assert seg.level == "line" and list(seg.levels) == ["definition", "line"]
    assert seg.at_level("definition").segments == seg.levels["definition"]
    with pytest.raises(SegmenterOptionError, match="file"):
        get_segmenter("code", language="python", level="function")
    with pytest.raises(SegmenterOptionError, match="max_chars"):
        get_segmenter("code", language="python", max_chars=0)


SNIPPETS = {
    "python": ("x = 1\n\ndef f():\n    return x\n", 2),
    "javascript": ("const a = 1;\nfunction f(x) {\n  if (x) {\n    return a;\n  }\n}\n", 2),
    "typescript": ("interface P { x: number }\nfunction f(p: P): number {\n  return p.x;\n}\n", 2),
    "tsx": (
        "function App() {\n  const x = 1;\n  return <div>{x}</div>;\n}\nexport default App;\n",
        2,
    ),
    "java": ("import java.util.List;\nclass A {\n  int f() {\n    return 1;\n  }\n}\n", 2),
    "c": ('#include <stdio.h>\nint main(void) {\n  printf("hi\\n");\n  return 0;\n}\n', 2),
    "cpp": ("namespace n {\nint f() { return 1; }\n}\nint main() {\n  return n::f();\n}\n", 2),
    "go": ("package main\n\nfunc main() {\n\tx := 1\n\t_ = x\n}\n", 2),
    "rust": ('use std::io;\nfn main() {\n    let x = 1;\n    println!("{}", x);\n}\n', 2),
    "ruby": ("require 'set'\ndef f(x)\n  if x\n    1\n  end\nend\n", 2),
    "bash": ("#!/bin/bash\nset -e\nf() {\n  echo hi\n}\nfor i in 1 2; do\n  f\ndone\n", 3),
}


@pytest.mark.parametrize("lang", sorted(SNIPPETS))
def test_each_language_on_a_real_snippet(lang: str) -> None:
    src, min_defs = SNIPPETS[lang]
    seg = statements(lang, src)
    check_all(seg)
    assert not any(s.has_error for s in seg), [s.text for s in seg if s.has_error]
    assert len(seg.levels["definition"]) >= min_defs
    # Statements inside bodies are finer than definitions.
    assert len(seg.levels["statement"]) > len(seg.levels["definition"])


def test_brace_closer_and_else_get_their_own_statement() -> None:
    src = "int f(int x) {\n  if (x) {\n    return 1;\n  } else {\n    return 2;\n  }\n}\n"
    seg = statements("c", src)
    assert texts(seg, "statement") == [
        "int f(int x) {\n",
        "  if (x) {\n",
        "    return 1;\n",
        "  } else {\n",
        "    return 2;\n",
        "  }\n",
        "}\n",
    ]


def test_language_by_extension_alias_and_shebang() -> None:
    assert cl.get_language_for_path("a/b/x.TSX") == "tsx"
    assert cl.get_language_for_path("lib.rs") == "rust"
    assert cl.resolve_language("C++") == "cpp"
    seg = get_segmenter("code", language="auto", filename="m.go")
    assert seg.segment("package m\n").info["language"] == "go"
    seg = get_segmenter("code", extension="rb")
    assert seg.segment("puts 1\n").info["language"] == "ruby"
    auto = get_segmenter("code")
    assert auto.segment("#!/usr/bin/env python3\nprint(1)\n").info["language"] == "python"
    with pytest.raises(SegmenterOptionError, match="filename"):
        auto.segment("print(1)\n")
    with pytest.raises(SegmenterOptionError, match=r"\.py"):
        cl.get_language_for_path("notes.txt")


def test_unknown_language_lists_choices() -> None:
    with pytest.raises(SegmenterOptionError, match="python") as err:
        get_segmenter("code", language="cobol")
    assert "rust" in str(err.value)


def test_missing_grammar_names_the_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real import failure: a grammar module that is not installed.
    spec = cl.LANGUAGES["go"]
    fake = cl.LanguageSpec(
        "go",
        "tree_sitter_go_not_installed",
        "language",
        "tree-sitter-go",
        spec.extensions,
        spec.bodies,
    )
    monkeypatch.setitem(cl.LANGUAGES, "go", fake)
    cl.load_language.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match="pip install tree-sitter-go"):
            get_segmenter("code", language="go")
    finally:
        monkeypatch.undo()
        cl.load_language.cache_clear()


def test_bad_input_types() -> None:
    seg = get_segmenter("code", language="python")
    with pytest.raises(SegmenterInputError, match="bytes"):
        seg.segment(b"x = 1\n")
    with pytest.raises(SegmenterInputError):
        seg.segment(None)


def test_empty_and_blank_text() -> None:
    seg = get_segmenter("code", language="python", level="statement")
    empty = seg.segment("")
    assert len(empty) == 0 and all(len(v) == 0 for v in empty.levels.values())
    blank = seg.segment("\n\n  \n")
    check_all(blank)
    assert len(blank.levels["definition"]) == 1


CONFLICT = """def f():
<<<<<<< HEAD
    return 1
=======
    return 2
>>>>>>> feature
"""


def test_conflict_markers_fall_back_to_lines_with_has_error() -> None:
    seg = get_segmenter("code", language="python", level="definition").segment(CONFLICT)
    check_all(seg)
    assert seg.info["has_error"] is True
    bad = [s.text for s in seg if s.has_error]
    assert "<<<<<<< HEAD\n" in bad and "=======\n" in bad
    # Error lines are whole lines, never split mid-line at this level.
    assert all(s.text.endswith("\n") for s in seg)


@pytest.mark.parametrize(
    "src, lang",
    [
        ("def f(x):\n    return [1, 2,\n", "python"),  # truncated
        ('print "hello"\nexec "x = 1"\nprint >>sys.stderr, "e"\n', "python"),  # Python 2
        ("function f() { return 1; }\nconst x = () => {};\n", "python"),  # wrong language
        ("fn main() {\n    let x = ;\n", "rust"),
        ("\x00\x01\x02binary\xff junk", "java"),
    ],
)
def test_syntax_errors_never_raise(src: str, lang: str) -> None:
    for level in LEVELS:
        seg = get_segmenter("code", language=lang, level=level, max_chars=16).segment(src)
        check_all(seg, 16)


def test_truncated_stdlib_file_flags_its_tail() -> None:
    text = (pathlib.Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text("utf-8")
    cut = text[: len(text) // 2 + 7]
    seg = get_segmenter("code", language="python", level="statement", max_chars=300).segment(cut)
    check_all(seg, 300)
    assert any(s.has_error for s in seg)


def test_six_kb_string_literal_is_split_within_max() -> None:
    src = "x = 1\nBIG = '" + ("lorem ipsum " * 512) + "'\ny = 2\n"
    for level in LEVELS:
        seg = get_segmenter("code", language="python", level=level, max_chars=1000).segment(src)
        check_all(seg, 1000)
    defs = get_segmenter("code", language="python", max_chars=1000).segment(src)
    assert defs[0].text == "x = 1\n" and defs[-1].text == "y = 2\n"
    # Split at whitespace, not mid-word, since words fit.
    assert all(s.text.endswith((" ", "'", "\n")) for s in defs)


def test_minified_js_line_respects_max() -> None:
    rng = random.Random(0)
    body = "".join(
        f"function f{i}(a){{return a*{rng.randint(1, 99)}+g(a,{i});}}" for i in range(800)
    )
    src = "(function(){" + body + "var q='" + "z" * 3000 + "';})();"
    assert "\n" not in src and len(src) > 30_000
    for level in LEVELS:
        seg = get_segmenter("code", language="javascript", level=level, max_chars=500).segment(src)
        check_all(seg, 500)
    seg = get_segmenter("code", language="javascript", level="definition", max_chars=500).segment(
        src
    )
    assert len(seg) > len(src) // 500
    # Most cuts fall between functions: pieces start at "function" keywords.
    assert sum(s.text.startswith("function") for s in seg) > len(seg) // 2


def test_crlf_files_never_split_inside_crlf() -> None:
    src = "def f():\r\n    a = 1\r\n\r\n    return a\r\nx = f()\r\n"
    for level in LEVELS:
        for max_chars in (None, 2, 3, 5):
            seg = get_segmenter(
                "code", language="python", level=level, max_chars=max_chars
            ).segment(src)
            check_all(seg, max_chars)
            assert not any(s.text.startswith("\n") for s in seg.levels[level]), (level, max_chars)
    seg = statements("python", src)
    assert texts(seg, "statement") == [
        "def f():\r\n",
        "    a = 1\r\n",
        "\r\n    return a\r\n",
        "x = f()\r\n",
    ]


def test_non_ascii_round_trips_with_correct_offsets() -> None:
    src = "# -*- coding: utf-8 -*-\ndef größe(ß):\n    return 'héllo 😀 世界'\n\nπ = 3.14\n"
    seg = statements("python", src)
    check_all(seg)
    assert texts(seg, "definition") == [
        "# -*- coding: utf-8 -*-\ndef größe(ß):\n    return 'héllo 😀 世界'\n",
        "\nπ = 3.14\n",
    ]
    assert texts(seg, "statement")[1] == "    return 'héllo 😀 世界'\n"
    small = get_segmenter("code", language="python", level="line", max_chars=4).segment(src)
    check_all(small, 4)
    assert "".join(s.text for s in small) == src


def test_lone_surrogates_do_not_crash() -> None:
    src = "x = '\ud800'\ny = 1\n"
    seg = get_segmenter("code", language="python", level="line", max_chars=3).segment(src)
    check_all(seg, 3)


def test_max_tokens_with_token_offsets() -> None:
    import re

    def words(text: str) -> list[tuple[int, int]]:
        return [m.span() for m in re.finditer(r"\w+|[^\w\s]", text)]

    text = (pathlib.Path(sysconfig.get_paths()["stdlib"]) / "bisect.py").read_text("utf-8")
    seg = get_segmenter(
        "code", language="python", level="definition", max_tokens=40, tokenizer=words
    ).segment(text)
    check_all(seg)
    for s in seg:
        assert len(words(s.text)) <= 40 or len(s.text) == 1
    with pytest.raises(SegmenterOptionError, match="tokenizer"):
        get_segmenter("code", language="python", max_tokens=5)


def test_workers_two_equals_sequential() -> None:
    files = [p.read_text("utf-8") for p in stdlib_files()[:12]]
    seg = get_segmenter("code", language="python", level="statement", max_chars=200)
    assert seg.segment_many(files, workers=2) == seg.segment_many(files)


def test_read_text_file_errors_name_the_file(tmp_path: pathlib.Path) -> None:
    good = tmp_path / "ok.py"
    good.write_bytes("\ufeffx = 'é'\n".encode())
    assert read_text_file(good) == "x = 'é'\n"
    binary = tmp_path / "img.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(SegmenterInputError, match=r"img\.png.*binary"):
        read_text_file(binary)
    latin = tmp_path / "old.py"
    latin.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    with pytest.raises(SegmenterInputError, match=r"old\.py.*UTF-8"):
        read_text_file(latin)
    with pytest.raises(SegmenterInputError, match=r"missing\.py"):
        read_text_file(tmp_path / "missing.py")


def _check_files(paths: list[pathlib.Path]) -> int:
    # Every configuration builds all four levels; the primary level only matters with a maximum.
    configs = [("definition", None)] + [(lv, 256) for lv in LEVELS]
    segs = [
        (get_segmenter("code", language="python", level=lv, max_chars=mc), mc) for lv, mc in configs
    ]
    n = 0
    for p in paths:
        try:
            text = read_text_file(p)
        except SegmenterInputError:
            continue  # a few test files in the stdlib are deliberately not UTF-8
        for seg, mc in segs:
            check_all(seg.segment(text), mc)
        n += 1
    return n


def test_stdlib_sample() -> None:
    files = stdlib_files()
    sample = random.Random(1234).sample(files, 30)
    assert _check_files(sample) >= 28


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_whole_stdlib() -> None:
    files = stdlib_files()
    assert _check_files(files) > 1000


code_text = st.text(
    st.sampled_from(list("def f(x):\n\r\t {}[]()'\"#;=+-*/\\abcxyzé😀\u2028")), max_size=300
)


@given(
    code_text,
    st.sampled_from(["python", "javascript", "c", "ruby", "bash"]),
    st.sampled_from(LEVEL_NAMES),
    st.none() | st.integers(1, 40),
)
def test_any_text_partitions(text: str, lang: str, level: str, max_chars: int | None) -> None:
    seg = get_segmenter("code", language=lang, level=level, max_chars=max_chars).segment(text)
    check_all(seg, max_chars)


@settings(max_examples=25)  # tree-sitter's error recovery makes random text slow to parse
@given(st.text(max_size=200), st.integers(1, 30))
def test_arbitrary_unicode_partitions(text: str, max_chars: int) -> None:
    seg = get_segmenter("code", language="python", level="statement", max_chars=max_chars).segment(
        text
    )
    check_all(seg, max_chars)


def test_max_applies_to_coarser_levels_at_finer_boundaries() -> None:
    src = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(20))
    seg = get_segmenter("code", language="python", level="statement", max_chars=90).segment(src)
    check_all(seg, 90)
    # The file is cut into greedy runs of whole definitions, not mid-definition.
    defs = {s.end for s in seg.levels["definition"]}
    assert len(seg.levels["file"]) > 1
    assert all(s.end in defs for s in seg.levels["file"])
    assert [s.text for s in seg.levels["definition"]][:2] == [
        "def f0(x):\n    return x + 0\n",
        "\ndef f1(x):\n    return x + 1\n",
    ]


def test_file_name_without_known_extension_falls_back_to_the_shebang() -> None:
    """A script named without extension (`bin/tool`) is parsed by the grammar its #! line names."""
    src = "#!/usr/bin/env python3\ndef f():\n    return 1\n\nprint(f())\n"
    seg = get_segmenter("code", filename="bin/tool").segment(src)
    assert seg.info["language"] == "python" and seg.spans[0] == (0, 45)
    with pytest.raises(SegmenterOptionError, match="no #! line"):
        get_segmenter("code", filename="bin/tool").segment("x = 1\n")
