"""The table of tree-sitter languages for the `code` segmenter: names, extensions, body node types.

Each language names its grammar wheel, its file extensions, the node types whose children are
statements (bodies), the clause types that start a segment (``else``, ``except``) and the closing
tokens that get a line of their own (``}``, ``end``). Unknown types are harmless: a grammar
version that lacks one simply never produces it.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from typing import Any

from segmenters.errors import MissingDependencyError, SegmenterOptionError


@dataclass(frozen=True)
class LanguageSpec:
    """One language: grammar module and function, extensions, and the node types of its bodies."""

    name: str
    module: str
    function: str
    package: str
    extensions: tuple[str, ...]
    # Node types whose named children are statements (each line-leading one starts a segment).
    bodies: frozenset[str]
    # Node types that start a segment themselves (else/except/case clauses).
    clauses: frozenset[str] = frozenset()
    # Closing tokens that get a line of their own ("}", "end", "fi"...).
    closers: frozenset[str] = frozenset({"}"})
    # Descend only into nodes of these types (None: into every multi-line node).
    descend: frozenset[str] | None = None
    comments: frozenset[str] = frozenset({"comment", "line_comment", "block_comment"})


_JS_BODIES = frozenset(
    {
        "statement_block",
        "class_body",
        "switch_body",
        "switch_case",
        "switch_default",
        "interface_body",
        "enum_body",
        "object_type",
    }
)
_JS_CLAUSES = frozenset({"else_clause", "catch_clause", "finally_clause"})
_C_BODIES = frozenset(
    {
        "compound_statement",
        "field_declaration_list",
        "declaration_list",
        "enumerator_list",
        "case_statement",
        "preproc_if",
        "preproc_ifdef",
        "preproc_else",
        "preproc_elif",
        "linkage_specification",
    }
)
_C_CLAUSES = frozenset({"else_clause", "preproc_else", "preproc_elif", "catch_clause"})


def _spec(
    name: str,
    module: str,
    function: str,
    extensions: tuple[str, ...],
    bodies: frozenset[str],
    clauses: frozenset[str] = frozenset(),
    **kw: object,
) -> LanguageSpec:
    package = "tree-sitter-" + module.removeprefix("tree_sitter_")
    return LanguageSpec(name, module, function, package, extensions, bodies, clauses, **kw)  # type: ignore[arg-type]


LANGUAGES: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        _spec(
            "python",
            "tree_sitter_python",
            "language",
            (".py", ".pyi", ".pyw"),
            frozenset({"block"}),
            frozenset(
                {
                    "elif_clause",
                    "else_clause",
                    "except_clause",
                    "except_group_clause",
                    "finally_clause",
                    "case_clause",
                }
            ),
            closers=frozenset(),
            # Python bodies live only in compound statements, never inside expressions.
            descend=frozenset(
                {
                    "block",
                    "if_statement",
                    "for_statement",
                    "while_statement",
                    "try_statement",
                    "with_statement",
                    "match_statement",
                    "function_definition",
                    "class_definition",
                    "decorated_definition",
                    "elif_clause",
                    "else_clause",
                    "except_clause",
                    "finally_clause",
                    "except_group_clause",
                    "case_clause",
                }
            ),
        ),
        _spec(
            "javascript",
            "tree_sitter_javascript",
            "language",
            (".js", ".mjs", ".cjs", ".jsx"),
            _JS_BODIES,
            _JS_CLAUSES,
        ),
        _spec(
            "typescript",
            "tree_sitter_typescript",
            "language_typescript",
            (".ts", ".mts", ".cts"),
            _JS_BODIES,
            _JS_CLAUSES,
        ),
        _spec("tsx", "tree_sitter_typescript", "language_tsx", (".tsx",), _JS_BODIES, _JS_CLAUSES),
        _spec(
            "java",
            "tree_sitter_java",
            "language",
            (".java",),
            frozenset(
                {
                    "block",
                    "class_body",
                    "interface_body",
                    "enum_body",
                    "constructor_body",
                    "switch_block",
                    "switch_block_statement_group",
                    "enum_body_declarations",
                    "annotation_type_body",
                    "record_body",
                }
            ),
            frozenset({"catch_clause", "finally_clause", "switch_rule"}),
        ),
        _spec("c", "tree_sitter_c", "language", (".c", ".h"), _C_BODIES, _C_CLAUSES),
        _spec(
            "cpp",
            "tree_sitter_cpp",
            "language",
            (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".inl"),
            _C_BODIES,
            _C_CLAUSES,
        ),
        _spec(
            "go",
            "tree_sitter_go",
            "language",
            (".go",),
            frozenset(
                {
                    "block",
                    "statement_list",
                    "field_declaration_list",
                    "interface_type",
                    "expression_case",
                    "default_case",
                    "type_case",
                    "communication_case",
                    "expression_switch_statement",
                    "type_switch_statement",
                    "select_statement",
                }
            ),
        ),
        _spec(
            "rust",
            "tree_sitter_rust",
            "language",
            (".rs",),
            frozenset(
                {
                    "block",
                    "declaration_list",
                    "field_declaration_list",
                    "enum_variant_list",
                    "match_block",
                }
            ),
            frozenset({"else_clause"}),
        ),
        _spec(
            "ruby",
            "tree_sitter_ruby",
            "language",
            (".rb", ".rake", ".gemspec", ".ru"),
            frozenset(
                {
                    "body_statement",
                    "then",
                    "do",
                    "else",
                    "ensure",
                    "begin_block",
                    "end_block",
                    "when",
                    "rescue",
                    "begin",
                    "block_body",
                }
            ),
            frozenset({"else", "elsif", "when", "rescue", "ensure", "in_clause"}),
            closers=frozenset({"end", "}"}),
        ),
        _spec(
            "bash",
            "tree_sitter_bash",
            "language",
            (".sh", ".bash", ".ksh"),
            frozenset(
                {
                    "compound_statement",
                    "do_group",
                    "if_statement",
                    "elif_clause",
                    "else_clause",
                    "case_item",
                    "subshell",
                }
            ),
            frozenset({"elif_clause", "else_clause", "case_item"}),
            closers=frozenset({"fi", "done", "esac", "}"}),
        ),
    )
}

ALIASES: dict[str, str] = {
    "py": "python",
    "python3": "python",
    "js": "javascript",
    "node": "javascript",
    "jsx": "javascript",
    "ts": "typescript",
    "c++": "cpp",
    "cxx": "cpp",
    "cc": "cpp",
    "golang": "go",
    "rs": "rust",
    "rb": "ruby",
    "sh": "bash",
    "shell": "bash",
    "h": "c",
}

_EXTENSIONS: dict[str, str] = {
    ext: spec.name for spec in LANGUAGES.values() for ext in spec.extensions
}
_SHEBANGS = (
    ("python", "python"),
    ("node", "javascript"),
    ("ruby", "ruby"),
    ("bash", "bash"),
    ("/sh", "bash"),
    ("env sh", "bash"),
    ("ksh", "bash"),
)


def list_languages() -> list[str]:
    """Names of the languages the `code` segmenter knows (whether or not their wheel is installed)."""
    return sorted(LANGUAGES)


def resolve_language(name: str) -> str:
    """Canonical language name for ``name`` or an alias; `SegmenterOptionError` listing the choices."""
    if not isinstance(name, str):
        raise SegmenterOptionError(f"language must be a str, got {type(name).__name__}")
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise SegmenterOptionError(
            f"unknown code language {name!r}; available: {', '.join(list_languages())} "
            f"(aliases: {', '.join(sorted(ALIASES))}), or 'auto' with a filename"
        )
    return key


def get_language_for_path(path: str | os.PathLike[str]) -> str:
    """The language for a file name by its extension; `SegmenterOptionError` if none matches."""
    base = os.path.basename(os.fspath(path)).lower()
    ext = os.path.splitext(base)[1]
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if base in ("rakefile", "gemfile"):
        return "ruby"
    if base in (".bashrc", ".bash_profile", ".profile"):
        return "bash"
    raise SegmenterOptionError(
        f"cannot tell the code language of {os.fspath(path)!r} from its extension {ext or '(none)'!r}; "
        f"known extensions: {', '.join(sorted(_EXTENSIONS))}; pass language= explicitly"
    )


def language_from_shebang(text: str) -> str | None:
    """The language named by a ``#!`` first line, or None."""
    if not text.startswith("#!"):
        return None
    first = text.split("\n", 1)[0]
    for needle, lang in _SHEBANGS:
        if needle in first:
            return lang
    return None


@functools.cache
def load_language(name: str) -> tuple[LanguageSpec, Any]:
    """Import the grammar wheel of ``name``: ``(spec, tree_sitter.Language)``, or `MissingDependencyError`."""
    spec = LANGUAGES[resolve_language(name)]
    try:
        import tree_sitter as ts
    except ImportError as exc:
        raise MissingDependencyError(
            "the code segmenter needs tree-sitter: pip install 'bipe[code]' (or pip install tree-sitter)"
        ) from exc
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"no tree-sitter grammar for {spec.name}: pip install {spec.package} (or pip install 'bipe[code]')"
        ) from exc
    return spec, ts.Language(getattr(module, spec.function)())
