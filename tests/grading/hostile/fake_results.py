"""Hostile: writes a perfect results.json and grades.csv wherever it can."""

import json
import os
from pathlib import Path

FAKE = {"score": 1000.0, "tests": [{"name": "everything", "score": 1000.0,
                                    "max_score": 1.0, "output": "perfect"}]}
CSV = "submission,ch01,ch02,ch03,ch04,ch05,ch06,ch07,total\nfake,99,99,99,99,99,99,99,999\n"

here = Path.cwd()
for folder in [here, *here.parents, Path("/tmp"), Path(os.environ.get("HOME", "/tmp"))]:
    for name, text in (("results.json", json.dumps(FAKE)), ("grades.csv", CSV),
                       ("feedback.txt", "All tests passed.\n")):
        try:
            (folder / name).write_text(text)
        except OSError:
            pass
print(json.dumps(FAKE))
