"""The ``course`` command (also ``python -m course_lib``).

::

    course grade [CHAPTER ...] [--target DIR] [--json FILE] [--hidden]
    course exercises [--check]
    course release --chapters 1-3 --out DIR
    course grade-batch SUBMISSIONS --out DIR
    course manifest [--write FILE | --check FILE]
    course gradebook --grades CSV --lms canvas|moodle --export CSV --out CSV

Exit status of ``course grade``: 0 when grading ran, whatever the score (1 with
``--fail-under PCT`` when the score is below PCT percent); 2 when grading could not
run (unknown chapter, missing folder, broken test suite).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

EXIT_OK, EXIT_BELOW, EXIT_CANNOT = 0, 1, 2

# subcommand -> (module, help); each module has add_arguments(parser) and main(args)
_DELEGATED = {
    "release": ("course_lib.grading.assign.release",
                "build a student bundle of chosen chapters (no solutions, no hidden "
                "tests)"),
    "grade-batch": ("course_lib.grading.batch.grade_batch",
                    "grade many submissions, each sandboxed, into a CSV gradebook"),
    "manifest": ("course_lib.grading.checking.manifest",
                 "show, write or check the points manifest (points per exercise)"),
    "gradebook": ("course_lib.grading.batch.lms",
                  "write grade-batch's grades into a Canvas or Moodle import CSV"),
}


def _course_root() -> Path | None:
    from course_lib.grading.core.paths import find_course_root

    return find_course_root()


# --------------------------------------------------------------------------- grade
def _add_grade(sub) -> None:
    p = sub.add_parser(
        "grade", help="grade your exercises and print a scorecard",
        description="Run the graded tests against your files and print a scorecard "
                    "with partial credit and a short reason for every lost point.",
        epilog="examples:  course grade            (every chapter)\n"
               "           course grade ch03 5     (chapters 3 and 5)\n"
               "           course grade ch03.dense_backward\n"
               "           course grade --target solutions",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", metavar="CHAPTER",
                   help="ch03, 3, or ch03.dense_backward for one exercise "
                        "(default: every chapter)")
    p.add_argument("--target", type=Path, default=None, metavar="DIR",
                   help="folder with the files to grade (default: the course's "
                        "exercises/); its code runs with no sandbox, with your "
                        "account's rights: for work you did not write, use "
                        "course grade-batch")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="also write Gradescope's results.json format to FILE")
    p.add_argument("--hidden", action="store_true",
                   help="also run hidden tests (instructors; needs tests/exercises/"
                        "hidden)")
    p.add_argument("--tests", type=Path, default=None, metavar="DIR",
                   help="folder of graded tests (default: the course's "
                        "tests/exercises)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit of one call to your code (default 10)")
    p.add_argument("--total-timeout", type=float, default=None, metavar="SECONDS",
                   help="time limit of the whole run (default 900)")
    p.add_argument("--fail-under", type=float, default=None, metavar="PCT",
                   help="exit with status 1 when the score is below PCT percent "
                        "(for CI and GitHub Classroom)")
    p.add_argument("--report-json", type=Path, default=None, metavar="FILE",
                   help="write the full report (every test, reason, duration) as "
                        "JSON to FILE")
    p.add_argument("--ascii", action="store_true",
                   help="plain ASCII scorecard (no check marks)")
    p.set_defaults(func=_cmd_grade)


def _warn_unsandboxed(target: Path | None) -> None:
    """One line on stderr when the graded folder is not the course's exercises/."""
    root = _course_root()
    if target is None or (root and Path(target).resolve() == root / "exercises"):
        return
    print(f"course grade: the code in {target} runs with no sandbox, with your "
          "account's rights; for work you did not write, use course grade-batch",
          file=sys.stderr)


def _cmd_grade(args) -> int:
    from course_lib.grading.checking.runner import (
        DEFAULT_TOTAL_TIMEOUT,
        GradingError,
        grade,
    )

    _warn_unsandboxed(args.target)
    try:
        report = grade(args.target, chapters=args.chapters or None,
                       include_hidden=args.hidden, tests_dir=args.tests,
                       timeout=args.total_timeout or DEFAULT_TOTAL_TIMEOUT,
                       json_path=args.json, call_timeout=args.timeout)
    except GradingError as exc:
        print(f"course grade: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    print(report.text(ascii_only=True if args.ascii else None))
    if args.report_json:
        args.report_json.write_text(report.to_json() + "\n")
    if args.json:
        print(f"Gradescope results written to {args.json}")
    if args.fail_under is not None:
        pct = 100 * report.earned / report.possible if report.possible else 0.0
        if pct + 1e-9 < args.fail_under:
            return EXIT_BELOW
    return EXIT_OK


# --------------------------------------------------------------------------- exercises
def _add_exercises(sub) -> None:
    p = sub.add_parser(
        "exercises", help="regenerate exercises/ from solutions/ (maintainers)",
        description="Generate exercises/chNN_*.py from solutions/chNN_*.py: every "
                    "'# BEGIN SOLUTION: <hint>' ... '# END SOLUTION' block becomes "
                    "raise NotImplementedError('Exercise N.k: <hint>').")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 listing files that differ, are missing "
                        "or are extra")
    p.add_argument("--solutions", type=Path, default=None, metavar="DIR",
                   help="folder of solution files (default: the course's solutions/)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="folder to write (default: the course's exercises/)")
    p.set_defaults(func=_cmd_exercises)


def _cmd_exercises(args) -> int:
    from course_lib.grading.assign.stubs import StubError, check_dir, generate_dir

    root = _course_root()
    solutions = args.solutions or (root / "solutions" if root else None)
    out = args.out or (root / "exercises" if root else None)
    if solutions is None or out is None or not Path(solutions).is_dir():
        print("course exercises: cannot find solutions/ (run it inside the course "
              "repository or pass --solutions and --out)", file=sys.stderr)
        return EXIT_CANNOT
    try:
        if args.check:
            problems = check_dir(solutions, out)
            for line in problems:
                print(f"out of date: {line}", file=sys.stderr)
            if problems:
                print("run `course exercises` to regenerate", file=sys.stderr)
                return 1
            print(f"{out} is up to date with {solutions}")
            return EXIT_OK
        written = generate_dir(solutions, out)
    except StubError as exc:
        print(f"course exercises: {exc}", file=sys.stderr)
        return EXIT_CANNOT
    print(f"generated {len(written)} exercise files in {out}")
    return EXIT_OK


# --------------------------------------------------------------------------- delegated
def _add_delegated(sub, name: str, module: str, help_: str) -> None:
    try:
        mod = importlib.import_module(module)
        add, run = mod.add_arguments, mod.main
    except (ImportError, AttributeError) as exc:
        p = sub.add_parser(name, help=f"{help_} (unavailable)",
                           description=f"{help_}. Not available here: {exc}")
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

        def missing(args, _exc=exc) -> int:
            print(f"course {name}: this command is not available in this "
                  f"installation ({module} could not be loaded: {_exc})",
                  file=sys.stderr)
            return EXIT_CANNOT

        p.set_defaults(func=missing)
        return
    p = sub.add_parser(name, help=help_, description=(mod.__doc__ or help_).strip()
                       .split("\n\n")[0],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add(p)
    p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    """The ``course`` argument parser (sub-commands included)."""
    parser = argparse.ArgumentParser(
        prog="course",
        description="Backprop from Scratch: grade exercises, regenerate them, and "
                    "build or grade student bundles.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_grade(sub)
    _add_exercises(sub)
    for name, (module, help_) in _DELEGATED.items():
        _add_delegated(sub, name, module, help_)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``course`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
