"""redflags: warning signs of unregulated stem-cell clinics, with the evidence."""

__version__ = "0.1.0"
