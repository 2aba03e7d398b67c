#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu 22.04 by default, whose python3 is 3.10). The grader needs
# Python >= 3.10, numpy and pytest; bubblewrap confines the student's code.
#
# AUTOGRADER_ROOT (default /autograder) and COURSE_PYTHON (an interpreter to
# use instead of installing python3 with apt-get) let the course's own test
# run this script outside Gradescope.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${COURSE_PYTHON:-}"
if [ -z "$PYTHON" ]; then
    apt-get update
    apt-get install -y python3 python3-venv python3-pip
    apt-get install -y bubblewrap || echo "bubblewrap unavailable: degraded sandbox"
    PYTHON=python3
fi
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10), sys.version'
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
"$ROOT/venv/bin/python" -m pip install --quiet -r "$ROOT/source/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --quiet --no-deps -e "$ROOT/source"
