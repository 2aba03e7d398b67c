"""Engine tests: the shared oracles import by name; figures draw off screen.

``from oracles import fd, rel_err`` works here as it does in the graded tests
(``tests/exercises/oracles.py``): one finite-difference oracle, one step size and one
relative error for every test. Matplotlib uses the Agg backend, and every figure a
test leaves open is closed after it.
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

ORACLES = str(Path(__file__).resolve().parents[1] / "exercises")
if ORACLES not in sys.path:
    sys.path.append(ORACLES)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
