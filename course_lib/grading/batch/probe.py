"""Which sandbox mode works on this machine: :func:`probe` runs a tiny program
through the real bubblewrap prefix (:func:`.confine.prefix`) and checks it."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import course_lib

from . import confine
from .modes import Limits, Mode
from .uids import BASE_UID

_PROBE_SCRIPT = (
    "import os, socket, sys\n"
    "sys.path.insert(0, {root!r})\n"
    "import numpy, course_lib\n"
    "assert not os.path.exists({secret!r}), 'host file visible'\n"
    "try:\n"
    "    socket.create_connection(('192.0.2.1', 9), timeout=0.5)\n"
    "except OSError:\n"
    "    pass\n"
    "print('sandbox-ok')\n"
)


@functools.cache
def probe(force: str | None = None) -> Mode:
    """Find out which sandbox mode works here (cached).

    Runs a tiny Python program through the real bwrap prefix and checks that
    it starts, imports numpy and ``course_lib`` and cannot see a file placed
    outside its binds.

    Parameters
    ----------
    force : {"bwrap", "rlimits"}, optional
        Skip the probe (default: the ``COURSE_SANDBOX`` variable, if set).

    Returns
    -------
    Mode
    """
    force = force or os.environ.get("COURSE_SANDBOX") or None
    if force not in (None, "bwrap", "rlimits"):
        raise ValueError(f"COURSE_SANDBOX must be bwrap or rlimits, got {force!r}")
    if force == "rlimits":
        return Mode("rlimits", True, "forced by COURSE_SANDBOX=rlimits")
    if shutil.which("bwrap") is None:
        return Mode("rlimits", True, "bwrap is not installed")
    if shutil.which("prlimit") is None:
        return Mode("rlimits", True, "prlimit (util-linux) is not installed")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return Mode("rlimits", True, "setpriv (util-linux) is not installed")
    trial = Mode("bwrap", False, "probing")
    with tempfile.TemporaryDirectory(prefix="course-probe-") as tmp:
        student = Path(tmp) / "student"
        student.mkdir()
        secret = Path(tmp) / "secret.txt"
        secret.write_text("instructor only")
        os.chmod(tmp, 0o755)
        root = str(Path(course_lib.__file__).resolve().parents[1])
        script = _PROBE_SCRIPT.format(secret=str(secret), root=root)
        argv = confine.prefix(student, Limits(), trial, 0, "probe") + [
            sys.executable, "-c", script]
        try:
            out = subprocess.run(argv, check=False, capture_output=True, text=True,
                                 timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Mode("rlimits", True, f"bwrap failed to start: {exc}")
    if out.returncode != 0 or "sandbox-ok" not in out.stdout:
        err = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return Mode("rlimits", True, f"bwrap does not work here: {err}")
    kind = (f"as root, workers drop to uid {BASE_UID}+" if os.geteuid() == 0
            else "unprivileged user namespace")
    return Mode("bwrap", False, f"bwrap works ({kind})")
