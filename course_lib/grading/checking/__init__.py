"""Checking one student's work: ``course grade`` and ``check()``.

- :mod:`.runner` — runs the graded tests in a pytest subprocess and reads the
  signed results back into a :class:`~.report.Report`;
- :mod:`.plugin` — the pytest plugin that records points and reasons;
- :mod:`.remote` / :mod:`.worker` — the student's code runs in a worker process
  and answers over a pipe;
- :mod:`.report` — the scorecard (text, HTML, Gradescope JSON);
- :mod:`.feedback` — helpers the graded tests use to word their messages;
- :mod:`.manifest` — the points manifest derived from the tests' markers;
- :mod:`.testfns` — functions a graded test can hand to student code by name.

Nothing is imported here so that the worker starts fast.
"""
