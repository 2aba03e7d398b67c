"""Solution markers: the one parser of ``# BEGIN SOLUTION`` / ``# END SOLUTION``.

A block in ``solutions/chNN_<slug>.py`` is written exactly so::

    # BEGIN SOLUTION: <one-line hint of what to write>
    ...reference code...
    # END SOLUTION

(same indentation for BEGIN and END, inside a function, a non-empty hint, a
non-empty body, no nesting). Any line that looks like a marker but is spelled
differently is an error, so a typo can never leak a solution. The stub
generator and the release's leak scan both read blocks through
:func:`parse_blocks`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Block", "MarkerError", "block_lines", "parse_blocks"]

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION: (?P<hint>\S.*?)\s*$")
_BEGIN_NO_HINT = re.compile(r"^[ \t]*# BEGIN SOLUTION:?\s*$")
_END = re.compile(r"^(?P<indent>[ \t]*)# END SOLUTION\s*$")
_LOOKS_LIKE = re.compile(r"#.*\b(begin|end)\W*solution", re.IGNORECASE)


class MarkerError(ValueError):
    """A solution file's markers are malformed (message names the file and line)."""


@dataclass
class Block:
    """One solution block: 1-based line numbers of its markers, hint, indentation."""

    begin: int
    end: int
    hint: str
    indent: str


def parse_blocks(text: str, filename: str = "<solution>") -> list[Block]:
    """Find the solution blocks of a file, checking every marker.

    Parameters
    ----------
    text : str
        The solution file's text.
    filename : str
        Used in error messages.

    Returns
    -------
    list of Block

    Raises
    ------
    MarkerError
        For unpaired, nested, empty, hint-less, top-level or misspelled markers.
    """
    blocks: list[Block] = []
    open_: Block | None = None
    lines = text.splitlines()
    for no, line in enumerate(lines, 1):
        where = f"{filename}:{no}"
        b, e = _BEGIN.match(line), _END.match(line)
        if b:
            if open_ is not None:
                raise MarkerError(f"{where}: BEGIN SOLUTION inside the block opened at "
                                f"line {open_.begin} (blocks cannot nest)")
            if not b.group("indent"):
                raise MarkerError(f"{where}: solution blocks must be inside a function "
                                "(a block at the top level would break the import)")
            open_ = Block(no, 0, b.group("hint"), b.group("indent"))
        elif e:
            if open_ is None:
                raise MarkerError(f"{where}: END SOLUTION without a BEGIN SOLUTION")
            if e.group("indent") != open_.indent:
                raise MarkerError(f"{where}: END SOLUTION is not at the indentation of "
                                f"its BEGIN SOLUTION (line {open_.begin})")
            body = lines[open_.begin:no - 1]
            if not any(s.strip() and not s.strip().startswith("#") for s in body):
                raise MarkerError(f"{where}: empty solution block (lines "
                                f"{open_.begin}-{no})")
            for k, s in enumerate(body, open_.begin + 1):
                if s.strip() and not s.startswith(open_.indent):
                    raise MarkerError(f"{filename}:{k}: line is less indented than "
                                    f"its BEGIN SOLUTION (line {open_.begin})")
            open_.end = no
            blocks.append(open_)
            open_ = None
        elif _BEGIN_NO_HINT.match(line):
            raise MarkerError(f"{where}: BEGIN SOLUTION needs a hint: "
                            "'# BEGIN SOLUTION: <what to write>'")
        elif _LOOKS_LIKE.search(line):
            raise MarkerError(f"{where}: malformed solution marker {line.strip()!r}; "
                            "write '# BEGIN SOLUTION: <hint>' or '# END SOLUTION'")
    if open_ is not None:
        raise MarkerError(f"{filename}:{open_.begin}: BEGIN SOLUTION is never closed")
    return blocks


def block_lines(text: str, block: Block) -> list[str]:
    """The lines between a block's markers (markers excluded)."""
    return text.splitlines()[block.begin:block.end - 1]

