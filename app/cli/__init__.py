"""The ``redflags`` command line: argument parsing, terminal output and the service commands.

Nothing here analyses or fetches; it calls the pipeline, the batch and the service.
"""
