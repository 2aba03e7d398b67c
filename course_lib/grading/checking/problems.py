"""What can go wrong on the student's side of a call, as exceptions.

Every one derives from :class:`StudentProblem` and carries ``.reason``, one short
sentence written for the student (never a traceback). The pytest plugin maps each
class to a kind on the scorecard (``not_attempted``, ``timeout``, ``crash``...).
"""

from __future__ import annotations

__all__ = ["ImportFailed", "MissingFunction", "NotAttempted", "ResultRefused",
           "StudentCrash", "StudentError", "StudentProblem", "StudentTimeout",
           "TimeBudgetExceeded", "WorkerStartError"]


class StudentProblem(Exception):
    """Base of everything that can go wrong on the student's side of a call.

    Attributes
    ----------
    reason : str
        One short sentence for the student (no traceback).
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class StudentError(StudentProblem):
    """The student's function raised an exception (``SystemExit`` included).

    Attributes
    ----------
    type_name : str
        Name of the exception class, e.g. ``"ValueError"`` or ``"ShapeError"``.
    message : str
        ``str()`` of the exception, truncated.
    traceback : str
        The student's own frames only (file, line, code), possibly empty.
    function : str
        The function that was called.
    """

    def __init__(self, type_name, message, traceback="", function="", mro=()):
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.function = function
        self.mro = tuple(mro) or (type_name,)
        where = _last_frame_summary(traceback)
        text = f"{type_name}: {message}" if message else type_name
        call = f"{function}() raised " if function else "your code raised "
        super().__init__(call + text + (f" ({where})" if where else ""))

    def is_a(self, name: str) -> bool:
        """True when the student's exception is of class ``name`` or a subclass.

        Parameters
        ----------
        name : str
            A class name such as ``"ValueError"`` (a ``ShapeError`` is a
            ``ValueError``).
        """
        return name in self.mro


class NotAttempted(StudentProblem):
    """The function still raises ``NotImplementedError`` (the generated stub).

    Attributes
    ----------
    message : str
        The stub's message, ``'Exercise N.M: <what to write>'``.
    """

    def __init__(self, message: str, function: str = ""):
        self.message = message
        self.function = function
        super().__init__(f"not attempted yet ({message})" if message else
                         "not attempted yet")


class MissingFunction(StudentProblem):
    """The student's module has no attribute of the requested name."""

    def __init__(self, module: str, name: str):
        self.function = name
        super().__init__(f"{module}.py has no function `{name}` "
                         "(was it renamed or deleted?)")


class StudentTimeout(StudentProblem):
    """The call did not return within its time limit; the worker was killed."""

    def __init__(self, seconds: float, function: str = "", importing: bool = False):
        self.seconds = seconds
        self.function = function
        what = "importing your file" if importing else (
            f"{function}()" if function else "your code")
        super().__init__(f"timed out after {seconds:g} s while running {what}: "
                         "look for an infinite loop or far too many iterations")


class TimeBudgetExceeded(StudentTimeout):
    """The module's calls together used up its time budget (see ``budget`` of
    :class:`StudentModule`); the call was not made, or was stopped when the
    budget ran out. A :class:`StudentTimeout`, so it is handled like one."""

    def __init__(self, budget: float, module: str, function: str = "",
                 during: bool = False):
        StudentProblem.__init__(
            self,
            (f"timed out while running {function or 'your code'}(): " if during
             else "not run: ")
            + f"the calls to {module}.py used up the {budget:g} s of time allowed "
            "for the whole file; some of your functions are far too slow (look for "
            "loops over every entry that numpy could do at once, or far too many "
            "iterations)")
        self.seconds = budget
        self.budget = budget
        self.function = function
        self.importing = False


class StudentCrash(StudentProblem):
    """The worker process died (``os._exit``, a signal, a memory limit...)."""

    def __init__(self, detail: str, exit_code: int | None = None, function: str = ""):
        self.exit_code = exit_code
        self.detail = detail
        self.function = function
        super().__init__(f"your code crashed the grader worker ({detail})")


class ResultRefused(StudentCrash):
    """What the student's code sent back broke a bound of the wire format (too
    many values, too many bytes, too deep, too slow to read); the worker was
    stopped and only this call is lost."""

    def __init__(self, why: str, function: str = ""):
        self.why = why
        self.exit_code = None
        self.detail = why
        self.function = function
        call = f"{function}()" if function else "your code"
        StudentProblem.__init__(
            self, f"the grader refused what {call} sent back: {why}; return plain "
            "numbers and numpy arrays of the size the exercise asks for")


class ImportFailed(StudentProblem):
    """The student's file could not be imported (syntax error, exception at import)."""

    def __init__(self, filename: str, type_name: str, message: str,
                 lineno: int | None = None, line: str = "", traceback: str = ""):
        self.filename = filename
        self.type_name = type_name
        self.message = message
        self.lineno = lineno
        self.line = line
        self.traceback = traceback
        at = f" at line {lineno}" if lineno else ""
        shown = f": `{line.strip()}`" if line and line.strip() else ""
        super().__init__(f"{filename} could not be imported: {type_name}{at}: "
                         f"{message}{shown}")


def _last_frame_summary(tb: str) -> str:
    for line in reversed(tb.splitlines()):
        s = line.strip()
        if s.startswith("File "):
            return s[5:].replace('"', "")
    return ""


class WorkerStartError(RuntimeError):
    """The worker process itself could not start: a grading-setup problem (bad
    sandbox command, broken interpreter), never the student's fault."""
