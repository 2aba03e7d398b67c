"""Hostile: tries to read the reference answers and the tests' source.

``leak()`` returns every file it managed to read (path -> first 200 chars).
__REPO__ and __TESTS__ are replaced with real paths by the test.
"""

import glob
import os

REPO = "__REPO__"
TESTS = "__TESTS__"


def leak():
    found = {}
    patterns = [
        os.path.join(REPO, "solutions", "*.py"),
        os.path.join(TESTS, "*.py"),
        os.path.join(TESTS, "hidden", "*.py"),
        os.path.join(REPO, "tests", "exercises", "*.py"),
        "../solutions/*.py", "../../solutions/*.py", "../../../solutions/*.py",
        "../tests/exercises/*.py", "../../tests/exercises/*.py",
        "/tmp/*/submission/*.py", "/tmp/course-*/*", "/tmp/course-tests-*/*/*/*.py",
        "/work/*/solutions/*.py", "/root/*", "/home/*/*",
    ]
    mine = {os.path.realpath(p) for p in glob.glob("*.py")}
    for pattern in patterns:
        for path in glob.glob(pattern):
            if os.path.realpath(path) in mine:
                continue
            try:
                with open(path, errors="replace") as f:
                    found[path] = f.read(200)
            except OSError:
                pass
    return found


try:  # appended to a ch02 file: override its MSE.loss; alone: a class of its own
    _Base = MSE  # noqa: F821
except NameError:
    _Base = object


class MSE(_Base):
    def loss(self, y_true, y_pred):
        return leak()
