"""Notebooks for students: no outputs, no execution counts, no solutions."""

from __future__ import annotations

import json
import re


def strip_notebook(nb: dict) -> tuple[dict, int]:
    """Remove outputs, execution counts and exercise solutions from a notebook.

    Solutions are cells tagged ``solution`` / ``remove-for-students`` and,
    inside markdown cells, ``{solution}`` directives (sphinx-exercise) and
    ``{solution-start}`` … ``{solution-end}`` ranges.

    Parameters
    ----------
    nb : dict
        A notebook (nbformat 4 JSON).

    Returns
    -------
    nb : dict
        A stripped copy.
    removed : int
        How many solution cells or directives were removed.
    """
    nb = json.loads(json.dumps(nb))
    removed = 0
    cells = []
    for cell in nb.get("cells", []):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"solution", "remove-for-students", "remove_for_students"}:
            removed += 1
            continue
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled"):
            meta.pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        elif cell.get("cell_type") == "markdown":
            src = cell.get("source", "")
            src = src if isinstance(src, str) else "".join(src)
            new, n = _strip_solution_directives(src)
            if n:
                removed += n
                cell["source"] = new
        cells.append(cell)
    nb["cells"] = cells
    nb.get("metadata", {}).pop("widgets", None)
    return nb, removed


_FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})\{(solution(?:-start)?)\}")


def _strip_solution_directives(src: str) -> tuple[str, int]:
    out: list[str] = []
    lines = src.splitlines(keepends=True)
    i = n = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m and m.group(3) == "solution":
            fence = m.group(2)
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            i, n = j + 1, n + 1
            out.append("*(The solution is not part of the student release.)*\n")
            continue
        if m and m.group(3) == "solution-start":
            j = i + 1
            while j < len(lines) and "{solution-end}" not in lines[j]:
                j += 1
            # skip the closing fence line of the solution-end directive
            k = j + 1
            while k < len(lines) and lines[k].strip() not in ("```", ":::"):
                k += 1
            i, n = k + 1, n + 1
            out.append("*(The solution is not part of the student release.)*\n")
            continue
        out.append(lines[i])
        i += 1
    return "".join(out), n
