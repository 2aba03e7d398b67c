"""Hostile: tries to replace the graded tests with ones that always pass.

__TESTS__ is replaced with the graded tests' folder by the test.
"""

import glob
import os

TESTS = "__TESTS__"
ALWAYS = "def test_MSE_loss__anything():\n    pass\n"

for path in glob.glob(os.path.join(TESTS, "*.py")) + glob.glob("../tests/*/*.py"):
    try:
        with open(path, "w") as f:
            f.write(ALWAYS)
    except OSError:
        pass
try:
    with open(os.path.join(TESTS, "test_zz_planted.py"), "w") as f:
        f.write(ALWAYS)
except OSError:
    pass
