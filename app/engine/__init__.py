"""The analysis engine: extracted pages in, one explained report out (``analyzer.Engine``)."""

from app.engine.spacy_import import import_spacy_lazily

import_spacy_lazily()  # before any module of the engine imports spaCy
