"""Batch screening: many sites, checked resumably by workers that claim them from a queue.

- the ``batches`` and ``batch_items`` tables live in ``app.storage.batch_tables``
- ``queue``    the ``JobQueue`` protocol a worker needs; ``store.SqlJobQueue`` implements it
- ``worker``   the asyncio worker: claim, check, record, with bounded concurrency
- ``inputs``, ``results``, ``export``, ``summary``, ``charts``: lists in, tables and pages out
- ``runner``, ``cli``, ``progress``: the ``redflags batch`` command
- ``service``  the worker that runs inside the API process
"""
