"""The Gradescope autograder zip of a release.

Gradescope's autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a zip with
``setup.sh`` and ``run_autograder`` at its root; Gradescope unpacks it into
``/autograder/source``, runs ``setup.sh`` once when it builds the image
(Ubuntu 22.04 by default, ``python3`` 3.10), and for every submission puts
the student's files in ``/autograder/submission``, runs ``run_autograder``
from ``/autograder`` and reads ``/autograder/results/results.json``.

The zip holds the grader (``course_lib``), the graded tests of the chosen
chapters *with* the hidden ones and their oracles, and never ``solutions/``:
it is for the instructor's Gradescope account, not for students.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from .contents import copy_course_lib, copy_tests
from .leaks import repo_root

TEMPLATES = Path(__file__).with_name("templates") / "gradescope"
#: Files copied from the templates, and whether they are executable.
FILES = {"setup.sh": True, "run_autograder": True, "grade_submission.py": False,
         "requirements.txt": False}


def write_zip(folder: Path, zip_path: Path) -> None:
    """Zip a folder's contents (relative paths, no symlinks, fixed times)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or path.is_dir():
                continue
            rel = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(2024, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def stage(dest: Path, chapters: list[str], timeout_per_test: float) -> None:
    """Lay out the autograder's files in ``dest`` (the future ``source/``)."""
    root = repo_root()
    copy_course_lib(dest, student=False)
    copy_tests(dest, chapters, include_hidden=True)
    shutil.copy(root / "pyproject.toml", dest / "pyproject.toml")
    (dest / "README.md").write_text(
        f"Gradescope autograder for {', '.join(chapters)}.\n")
    for name, executable in FILES.items():
        shutil.copy(TEMPLATES / name, dest / name)
        (dest / name).chmod(0o755 if executable else 0o644)
    (dest / "config.json").write_text(json.dumps(
        {"chapters": list(chapters), "timeout_per_test": timeout_per_test},
        indent=1) + "\n")


def build_gradescope(chapters: list[str], zip_path: Path,
                     timeout_per_test: float = 10.0) -> Path:
    """Write the Gradescope autograder zip for the chosen chapters.

    Parameters
    ----------
    chapters : list of str
    zip_path : Path
    timeout_per_test : float
        Per-call limit in the student's worker.

    Returns
    -------
    Path
        ``zip_path``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "autograder"
        dest.mkdir()
        stage(dest, chapters, timeout_per_test)
        for path in dest.rglob("*"):
            if "solutions" in path.relative_to(dest).parts:
                raise RuntimeError(f"refusing to ship {path} to Gradescope")
        write_zip(dest, zip_path)
    return zip_path
