"""Extraction: from a document's bytes to its visible text in blocks, with charset handling and
structured data. A stage of its own, below both fetching (which reads links from the entry page)
and the engine (which analyses the text): neither fetches nor analyses.

- ``page``      the data it produces (``ExtractedPage``, ``Block``, ``Link``)
- ``document``  HTML and plain-text extraction
- ``charset``   decoding bytes as browsers do
- ``jsonld``    schema.org prices
"""
