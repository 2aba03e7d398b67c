"""Grading a whole class: ``course grade-batch``.

- :mod:`.grade_batch` — one trusted grader process per submission, the
  gradebook and the summary;
- :mod:`.sandbox` — confines each student's worker (bubblewrap, or rlimits and
  an unprivileged uid as a fallback).
"""
