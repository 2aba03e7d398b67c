"""The course's chapters: the one list every part of the grader derives from.

Add a chapter by adding one line to :data:`CHAPTERS`; the command line, the
scorecard, the gradebook columns, the release and the stub generator all read
it from here.
"""

from __future__ import annotations

import re

__all__ = ["CHAPTERS", "chapter_ids", "chapter_of_file", "parse_chapters"]

#: chapter id -> (module file name without .py, short title), in course order
CHAPTERS: dict[str, tuple[str, str]] = {
    "ch01": ("ch01_forward_pass", "forward pass"),
    "ch02": ("ch02_loss", "loss functions"),
    "ch03": ("ch03_chain_rule", "chain rule and backprop"),
    "ch04": ("ch04_xor", "solving XOR"),
    "ch05": ("ch05_hyperparameters", "hyperparameters and optimizers"),
    "ch06": ("ch06_pitfalls", "pitfalls"),
    "ch07": ("ch07_digits", "digits capstone"),
    "ch08": ("ch08_batch_norm", "batch normalization"),
    "ch09": ("ch09_autodiff", "automatic differentiation"),
    "ch10": ("ch10_convolution", "convolutional networks"),
    "ch11": ("ch11_recurrent", "recurrent networks and BPTT"),
    "ch12": ("ch12_autoencoders", "autoencoders"),
}

#: ``test_ch03_chain_rule.py`` -> ``ch03`` (the graded tests' file names)
TEST_FILE = re.compile(r"test_(ch\d\d)_")


def chapter_ids() -> tuple[str, ...]:
    """``("ch01", "ch02", ...)`` in course order."""
    return tuple(CHAPTERS)


def chapter_of_file(name: str) -> str:
    """The chapter of a graded test file name, or ``""``.

    ``"test_ch03_chain_rule.py"`` -> ``"ch03"`` (a hidden test file's name, which
    ends in ``_hidden.py``, too).
    """
    m = TEST_FILE.match(name)
    return m.group(1) if m else ""


def _chapter_number(text: str, piece: str) -> int:
    try:
        return int(text.removeprefix("ch"))
    except ValueError:
        raise ValueError(f"cannot read chapter {piece!r}: use 3, ch03, "
                         "1-3 or 1,4") from None


def parse_chapters(spec) -> list[str]:
    """Chapters named by a command-line spec, in course order.

    Parameters
    ----------
    spec : str or iterable of str
        ``"1-3"``, ``"1,4"``, ``"ch02,ch05-ch07"``, ``"all"``, or a list of
        such pieces.

    Returns
    -------
    list of str
        E.g. ``["ch01", "ch02", "ch03"]``.

    Raises
    ------
    ValueError
        For an unknown chapter or an empty spec.
    """
    by_number = {int(ch[2:]): ch for ch in CHAPTERS}
    first, last = min(by_number), max(by_number)
    pieces = [spec] if isinstance(spec, str) else list(spec)
    chosen: set[int] = set()
    for piece in ",".join(pieces).split(","):
        piece = piece.strip().lower()
        if not piece:
            continue
        if piece == "all":
            chosen.update(by_number)
            continue
        lo, dash, hi = piece.partition("-")
        a = _chapter_number(lo, piece)
        b = _chapter_number(hi, piece) if dash else a
        if not (first <= a <= b <= last):
            raise ValueError(f"chapters run from {first} to {last}, got {piece!r}")
        if a == b and a not in by_number:
            raise ValueError(f"there is no chapter {piece!r}: the course has "
                             f"{', '.join(CHAPTERS)}")
        chosen.update(n for n in range(a, b + 1) if n in by_number)
    if not chosen:
        raise ValueError("no chapter given")
    return [by_number[n] for n in sorted(chosen)]
