"""Text analysis of Russian social-media comments: pure functions, no storage, no network.

- :mod:`core.text.tokenizer` splits text into words, numbers, links, mentions, hashtags, emoji
  and punctuation;
- :mod:`core.text.morphology` adds lemmas and Universal POS tags (pymorphy3 with social-media
  normalisation, slang overrides, context rules and a per-form cache);
- :mod:`core.text.keywords` ranks the words and phrases typical of a group of comments;
- :mod:`core.text.hashtags` splits glued hashtags ("#зимняярыбалка") into dictionary words;
- :mod:`core.text.cli` prints the analysis of stdin (``python -m worker analyze``).
"""

from core.text.keywords import Keyword, document_terms, rank_keywords, term_counts
from core.text.morphology import (
    DAWG_EXTENSION_AVAILABLE,
    AnalyzedToken,
    MorphologyAnalyzer,
    shared_morph,
)
from core.text.tokenizer import Token, TokenKind, tokenize

__all__ = [
    "DAWG_EXTENSION_AVAILABLE",
    "AnalyzedToken",
    "Keyword",
    "MorphologyAnalyzer",
    "Token",
    "TokenKind",
    "document_terms",
    "rank_keywords",
    "shared_morph",
    "term_counts",
    "tokenize",
]
