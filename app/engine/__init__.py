"""The analysis engine: extracted pages in, one explained report out (``analyzer.Engine``)."""
