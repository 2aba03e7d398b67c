"""Insert (or refresh) the set-up cell that lets a chapter run on Colab or Binder.

In the book and in a local checkout `course_lib` is installed and the cell does nothing;
on Colab it installs the engine from the course's repository (`repository.url` in
_config.yml, read by tools/repository_url.py). The cell is tagged
`remove-cell`, so the HTML book does not show it. Usage: python tools/add_colab_cell.py
"""

from __future__ import annotations

import sys

import nbformat
from repository_url import MARK, ROOT, repository_url  # the one setting


def setup_source(url: str) -> str:
    return (
        f"{MARK}: on Colab, install the course's engine first (elsewhere: no-op).\n"
        "import importlib.util\n\n"
        'if importlib.util.find_spec("course_lib") is None:\n'
        f'    %pip install --quiet "course_lib @ git+{url}"\n'
    )


def main() -> int:
    source = setup_source(repository_url())
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if not c.source.startswith(MARK)]
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]})
        cell["id"] = "course-setup"
        nb.cells.insert(1, cell)
        nbformat.validator.normalize(nb)
        nbformat.write(nb, path)
        print(f"set-up cell in {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
