"""Questions in other languages read in English: each glossary phrase (knowledge/lang/<code>/
glossary.yml, longest first) is replaced by its English, names and numbers are kept, so the
English language data and the English-trained ranking understand it."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.lang.language import LANG_DIR
from knowledge.lang.schema import GlossaryFile
from knowledge.lang.yamlfile import YAMLError, read_yaml

# Punctuation that opens a question or sits between words in the other languages ("¿", "、").
_OPENERS = re.compile(r"[¿¡「」『』、，。？！：；]")
_CLOSERS = {"？": "?", "！": "!", "。": ".", "，": ",", "、": ",", "：": ":", "；": ";"}


@lru_cache(maxsize=16)
def glossary(code: str) -> GlossaryFile | None:
    path = LANG_DIR / code / "glossary.yml"
    if not path.is_file():
        return None
    try:
        return GlossaryFile.model_validate(read_yaml(path.read_text(encoding="utf-8")))
    except (OSError, YAMLError, ValidationError) as exc:
        raise KnowledgeError(f"{code}/glossary.yml: {exc}") from exc


def in_english(text: str, code: str) -> str:
    """`text` (in language `code`) with its glossary phrases in English; as it is without one."""
    found = glossary(code) if code != "en" else None
    if found is None:
        return text
    text = "".join(_CLOSERS.get(c, c) for c in text)
    text = _OPENERS.sub(" ", text)
    phrases = sorted(found.words, key=len, reverse=True)
    if found.unspaced:
        for phrase in phrases:
            text = re.sub(re.escape(phrase), f" {found.words[phrase]} ", text, flags=re.I)
    else:
        pattern = "|".join(re.escape(p) for p in phrases)
        text = re.sub(
            rf"(?<![\w-])({pattern})(?![\w-])", lambda m: found.words[m.group(0).lower()], text, flags=re.I
        )
    return re.sub(r"\s+([?!.,])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
