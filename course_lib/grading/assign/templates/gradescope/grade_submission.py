"""Grade one Gradescope submission (called by run_autograder).

Usage: python grade_submission.py SUBMISSION_DIR RESULTS_JSON

The chapters and the per-call time limit are read from ``config.json``,
which ``course release`` writes beside this file.
"""

import json
import sys
import tempfile
from pathlib import Path

from course_lib.grading.batch import grade_batch as batch
from course_lib.grading.batch import sandbox
from course_lib.grading.checking.runner import grade

CONFIG = json.loads(Path(__file__).with_name("config.json").read_text())
CHAPTERS = CONFIG["chapters"]
TIMEOUT_PER_TEST = CONFIG["timeout_per_test"]


def no_files(results, modules):
    """results.json for a submission without any exercise file."""
    wanted = ", ".join(modules[c] + ".py" for c in CHAPTERS if c in modules)
    results.write_text(json.dumps({
        "score": 0.0, "tests": [],
        "output": "No exercise file found. Upload your files from "
                  f"exercises/ ({wanted})."}))


def main(submission, results):
    results = Path(results)
    modules = batch.exercise_modules()
    with tempfile.TemporaryDirectory(prefix="submission-") as tmp:
        work = Path(tmp) / "exercises"
        work.mkdir()
        found, _notes = batch.collect_submission(Path(submission), work, modules)
        if not found:
            no_files(results, modules)
            return 0
        sandbox.share_with_worker(tmp)
        mode = sandbox.probe()
        print(mode.banner(), file=sys.stderr)
        with sandbox.Sandbox(work, sandbox.Limits(memory_mb=2048), mode) as box:
            grade(work, chapters=CHAPTERS, include_hidden=True, json_path=results,
                  call_timeout=TIMEOUT_PER_TEST, **box.grade_kwargs())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
