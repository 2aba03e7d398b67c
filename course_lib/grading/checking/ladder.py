"""The hint ladder: how many times in a row each graded test has failed.

A failing check may carry a second rung (:attr:`feedback.Feedback.rule`: the
shape rule or the formula). The first failure of a test shows only its first
rung (the concept and what came back); from the second failure in a row on,
the plugin appends the rule. Nothing on either rung is the line of code that
fixes the mistake.

The counts live in a small JSON file outside the graded folder (grading never
writes into it): ``$COURSE_HINTS_FILE``, else
``$XDG_CACHE_HOME/backprop-from-scratch/hint-ladder.json`` (``~/.cache`` by
default). ``COURSE_HINTS_FILE=off`` turns the memory off (every failure is then
a first one). Keys are the graded folder and the test's node id, so two
folders (two students in a batch) never share counts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: at most this many keys are kept (the oldest go first)
MAX_KEYS = 5000


def state_file() -> Path | None:
    """Where the counts are kept, or None when the ladder's memory is off."""
    raw = os.environ.get("COURSE_HINTS_FILE", "")
    if raw.lower() in ("off", "0", "none"):
        return None
    if raw:
        return Path(raw).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return Path(cache) / "backprop-from-scratch" / "hint-ladder.json"


class Ladder:
    """Consecutive failures per ``(folder, test)``, read once and saved at the end."""

    def __init__(self, path: Path | None = None, folder: str = ""):
        self.path = state_file() if path is None else path
        self.folder = str(folder)
        self.counts: dict[str, int] = {}
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text())
                self.counts = {str(k): int(v) for k, v in data.items()}
            except (OSError, ValueError, AttributeError, TypeError):
                self.counts = {}
        self._previous = dict(self.counts)

    def _key(self, nodeid: str) -> str:
        return f"{self.folder}::{nodeid}"

    def failures_before(self, nodeid: str) -> int:
        """How many times in a row this test failed before the current run."""
        return self._previous.get(self._key(nodeid), 0)

    def record(self, nodeid: str, failed: bool) -> None:
        """Count one more failure, or start again from zero after a pass."""
        key = self._key(nodeid)
        self.counts.pop(key, None)  # re-inserted last: the newest keys are kept
        if failed:
            self.counts[key] = self.failures_before(nodeid) + 1

    def save(self) -> None:
        """Write the counts back (silently skipped where the file cannot be written)."""
        if self.path is None:
            return
        items = list(self.counts.items())[-MAX_KEYS:]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(dict(items)))
            os.replace(tmp, self.path)
        except OSError:
            pass
