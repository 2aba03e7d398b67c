"""Assigning work: ``course exercises`` and ``course release``.

- :mod:`.stubs` — generates ``exercises/`` from ``solutions/``;
- :mod:`.release` — a student bundle of chosen chapters, with its leak scan and
  the Gradescope and GitHub Classroom files.
"""
