"""Grading a whole class: ``course grade-batch``.

- :mod:`.grade_batch` — the batch: one trusted grader per submission, in
  parallel; the command line;
- :mod:`.child` — that trusted grader (runs the graded tests of one submission);
- :mod:`.uploads`, :mod:`.names` — reading uploads defensively; ids and where
  the outputs go;
- :mod:`.gradebook`, :mod:`.outcome` — ``grades.csv`` and ``summary.md``;
- :mod:`.sandbox` — confines each student's worker (:mod:`.modes`, :mod:`.probe`,
  :mod:`.confine`, :mod:`.permissions`, :mod:`.runtime`, :mod:`.uids`);
- :mod:`.budget`, :mod:`.watchdog` — one memory, process and temporary-space
  budget per submission, across its processes; :mod:`.reaping` — what is left.
"""
