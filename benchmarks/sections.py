"""One home for writing a benchmark's section of ``benchmarks/results.md``.

Each benchmark owns the text between its two markers; the rest of the file
belongs to the others, so running one benchmark never drops another's table.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"


def write_section(begin: str, end: str, section: str, path: Path = RESULTS) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in ``path``.

    An existing section between the same markers is replaced in place; a new
    one is appended. The file is created with a ``# Benchmarks`` title.
    """
    if not (section.startswith(begin) and section.rstrip().endswith(end)):
        raise ValueError("a section must start and end with its markers")
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    path.write_text(text)
