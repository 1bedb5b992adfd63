"""The analysis engine: extracted pages in, one explained report out (``analyzer.Engine``)."""

from app.engine.spacy_import import import_spacy_lazily

# Before any module of the engine imports spaCy. Every command and the service load the engine,
# so importing spaCy here, with the package, costs none of them anything.
import_spacy_lazily()
