"""The grader's common core: each fact the checking, assigning and batch sides
share lives here once.

- :mod:`.chapters` — the one chapter list and how chapters are named;
- :mod:`.paths` — where the course folder, its tests and its exercises are;
- :mod:`.markers` — the ``# BEGIN SOLUTION`` / ``# END SOLUTION`` parser;
- :mod:`.procs` — finding, killing and reaping processes (``/proc``), and
  naming signals.

Nothing here imports numpy or pytest, so the worker can use it freely.
"""
