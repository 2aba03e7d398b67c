"""The sandbox's fallback without bubblewrap (``COURSE_SANDBOX=rlimits``).

As root, the fallback must not run student code as root: the worker drops to
an unprivileged uid with ``setpriv``, runs a read-only copy of Python, numpy
and course_lib from a directory of its own, and cannot read ``solutions/``,
write course files or read the grader's memory. Each claim is checked from
inside a real worker, by code that tries.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import textwrap
from pathlib import Path

import pytest

from course_lib.grading import CHAPTERS, grade
from course_lib.grading.batch import confine, sandbox
from course_lib.grading.checking.remote import StudentError, StudentModule

REPO = Path(__file__).resolve().parents[2]
WORKERS = confine.WORKERS_PER_SUBMISSION
ROOT = os.geteuid() == 0
as_root = pytest.mark.skipif(not ROOT or shutil.which("setpriv") is None,
                             reason="the uid drop is for grading as root")

SPY = '''
import os

import numpy as np

# course_lib.grading, not the engine: graded code may not import the engine,
# and this probe only needs to know where the worker's copy of course_lib is
import course_lib.grading


def ids():
    return os.getuid(), os.geteuid(), os.getgid(), os.getgroups()


def status():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return {k: fields[k] for k in ("CapEff", "CapPrm", "CapBnd", "NoNewPrivs")}


def read(path):
    with open(path, "rb") as f:
        return f.read(100)


def listdir(path):
    return sorted(os.listdir(path))


def write(path):
    with open(path, "w") as f:
        f.write("tampered")
    return path


def where():
    st = os.stat(os.getcwd())
    return {"cwd": os.getcwd(), "cwd_owner": st.st_uid,
            "cwd_mode": st.st_mode & 0o777, "home": os.environ.get("HOME"),
            "tmp": os.environ.get("TMPDIR"), "course_lib": os.path.join(
                os.path.dirname(os.path.dirname(course_lib.grading.__file__)),
                "__init__.py"),
            "numpy": np.__file__, "sum": float(np.arange(4.0).sum())}


def scratch():
    path = os.path.join(os.getcwd(), "scratch.txt")
    with open(path, "w") as f:
        f.write("mine")
    return path
'''


@pytest.fixture
def fallback(monkeypatch):
    """Force the rlimits mode, as an instructor without bubblewrap would get."""
    monkeypatch.setenv("COURSE_SANDBOX", "rlimits")
    sandbox.probe.cache_clear()
    yield sandbox.probe()
    sandbox.probe.cache_clear()


@pytest.fixture
def work():
    """A folder in the system's temporary directory, as batch grading uses
    (pytest's own ``tmp_path`` sits below a folder only root may enter)."""
    path = Path(tempfile.mkdtemp(prefix="course-sandbox-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _student(work: Path, name: str, source: str, slot: int = 0) -> Path:
    folder = work / "submission"
    folder.mkdir(parents=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))
    sandbox.share_with_worker(work, slot)
    return folder


def _denied(call, *args) -> StudentError:
    with pytest.raises(StudentError) as info:
        call(*args)
    assert info.value.is_a("PermissionError"), info.value.reason
    return info.value


@as_root
def test_fallback_as_root_worker_is_unprivileged_and_cannot_read_solutions(
        fallback, work):
    assert fallback.name == "rlimits" and fallback.degraded
    folder = _student(work, "spy", SPY, slot=1)
    with sandbox.Sandbox(folder, sandbox.Limits(memory_mb=1024), fallback,
                         slot=1) as box:
        kwargs = box.grade_kwargs()
        with StudentModule(folder, "spy", timeout=20,
                           worker_cmd_prefix=kwargs["worker_cmd_prefix"],
                           python=kwargs["worker_python"]) as spy:
            uid, euid, gid, groups = spy.ids()
            assert uid != 0 and euid != 0
            assert (uid, euid, gid, groups) == (box.uid,) * 3 + ([],)
            assert box.uid == sandbox.worker_uid(1) >= sandbox.BASE_UID
            st = spy.status()
            assert int(st["CapEff"], 16) == int(st["CapPrm"], 16) == 0
            assert int(st["CapBnd"], 16) == 0 and st["NoNewPrivs"] == "1"

            # the reference answers, the tests and the course folder are closed
            solution = REPO / "solutions" / f"{CHAPTERS['ch01'][0]}.py"
            assert solution.is_file()
            _denied(spy.read, str(solution))
            _denied(spy.listdir, str(REPO / "solutions"))
            _denied(spy.read, str(REPO / "tests" / "exercises" / "conftest.py"))
            _denied(spy.listdir, str(REPO))
            # course files cannot be written, neither the originals nor the copy
            _denied(spy.write, str(REPO / "course_lib" / "activations.py"))
            info = spy.where()
            _denied(spy.write, info["course_lib"])
            assert not info["course_lib"].startswith(str(REPO))
            assert info["sum"] == 6.0  # numpy works in the copy
            # nor the grader's memory and environment (the signing key), nor /root
            _denied(spy.read, f"/proc/{os.getpid()}/environ")
            _denied(spy.read, f"/proc/{os.getpid()}/mem")
            _denied(spy.listdir, "/root")

            # it works in a temporary directory of its own
            assert info["cwd_owner"] == uid and info["cwd_mode"] == 0o700
            assert info["home"] == info["tmp"] == info["cwd"]
            assert not info["cwd"].startswith(str(folder))
            assert Path(spy.scratch()).read_text() == "mine"
        workdir = Path(info["cwd"])
        assert workdir.exists()
    assert not workdir.exists()  # close() removes it
    # the course folder stays closed to everyone but its owner and group
    assert not stat.S_IMODE(REPO.stat().st_mode) & 0o007


@as_root
def test_fallback_as_root_grades_the_reference_answers_in_full(fallback, work):
    module = CHAPTERS["ch01"][0]
    folder = work / "submission"
    folder.mkdir()
    shutil.copy(REPO / "solutions" / f"{module}.py", folder)
    sandbox.share_with_worker(work, 0)
    with sandbox.Sandbox(folder, sandbox.Limits(memory_mb=1024), fallback) as box:
        report = grade(folder, chapters=["ch01"], include_hidden=True,
                       **box.grade_kwargs())
    earned, possible = report.chapter_scores()["ch01"]
    assert possible > 0 and earned == possible, report.text()
    assert not list(folder.glob("__pycache__"))


@as_root
def test_fallback_refuses_a_submission_the_worker_cannot_read(fallback, tmp_path):
    folder = tmp_path / "closed" / "submission"
    folder.mkdir(parents=True)
    (folder / "ch01_forward_pass.py").write_text("")
    os.chmod(folder.parent, 0o700)
    box = sandbox.Sandbox(folder, mode=fallback)
    with pytest.raises(sandbox.SandboxError, match="not readable by the worker"):
        box.prefix()


@as_root
def test_fallback_refuses_an_interpreter_the_worker_cannot_use(fallback, work,
                                                               monkeypatch):
    """Without the runtime copy the worker would get the grader's own Python,
    whose files lie under /root or in the (now private) course folder: the
    check run as the worker's uid must refuse, saying why."""
    import sys

    if sandbox.can_access(sys.executable, sandbox.BASE_UID, sandbox.BASE_UID,
                          os.R_OK) and sandbox.course_root() is None:
        pytest.skip("this interpreter is readable by every user")
    monkeypatch.setattr(sandbox, "worker_runtime", lambda uid, gid: sandbox.Runtime(
        sys.executable, {}, ("the grader's own interpreter",)))
    folder = _student(work, "spy", SPY)
    box = sandbox.Sandbox(folder, mode=fallback)
    with pytest.raises(sandbox.SandboxError,
                       match="does not start|refusing to grade") as info:
        box.grade_kwargs()
    # the worker's uid is the first free one from BASE_UID: other batches on the
    # machine may hold the lowest
    uid = re.search(r"uid (\d+)", str(info.value))
    assert (uid and int(uid.group(1)) >= sandbox.BASE_UID) or "not as expected" in str(
        info.value)
    assert box._workdir is None  # nothing left behind


@as_root
def test_rlimits_prefix_as_root_needs_the_workers_own_directory(tmp_path):
    mode = sandbox.Mode("rlimits", True, "test")
    with pytest.raises(ValueError, match="workdir"):
        sandbox.prefix(tmp_path, sandbox.Limits(), mode)
    argv = sandbox.prefix(tmp_path, sandbox.Limits(), mode, 2, "t",
                          workdir=tmp_path)
    i = argv.index("setpriv")
    uid = sandbox.worker_uid(2)
    assert argv[i + 1:i + 3] == [f"--reuid={uid}", f"--regid={uid}"]
    assert {"--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs"} <= set(argv)
    assert argv.index("prlimit") < i < argv.index("env")
    # its own uid's count: a budget per chapter, for every chapter's worker
    assert f"--nproc={sandbox.Limits().nproc * WORKERS}" in argv


def test_rlimits_prefix_for_an_ordinary_user_keeps_its_uid(tmp_path, monkeypatch):
    monkeypatch.setattr(confine.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(confine, "_user_process_count", lambda: 7)
    argv = sandbox.prefix(tmp_path, sandbox.Limits(nproc=5),
                          sandbox.Mode("rlimits", True, "test"), 0, "tok")
    # its 7, and 5 more for each chapter's worker
    assert "setpriv" not in argv and f"--nproc={7 + 5 * WORKERS}" in argv
    i = argv.index("env")
    assert argv[i + 1:i + 4] == ["-i", "-C", str(tmp_path)]
    assert f"HOME={tmp_path}" in argv and "COURSE_SANDBOX_TOKEN=tok" in argv


# ------------------------------------------------------------------ permissions
def test_can_access_follows_the_permission_bits_of_every_parent(work):
    uid = gid = 61234
    outer = work / "outer"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    f = inner / "f.txt"
    f.write_text("x")
    os.chmod(work, 0o755)
    os.chmod(outer, 0o755)
    os.chmod(inner, 0o755)
    os.chmod(f, 0o644)
    assert sandbox.can_access(f, uid, gid)
    assert not sandbox.can_access(f, uid, gid, os.W_OK)
    os.chmod(f, 0o640)
    assert not sandbox.can_access(f, uid, gid)
    os.chmod(f, 0o644)
    os.chmod(outer, 0o750)  # a closed parent closes everything below it
    assert not sandbox.can_access(f, uid, gid)
    os.chmod(outer, 0o751)  # enter, not list
    assert sandbox.can_access(f, uid, gid)
    assert not sandbox.can_access(outer, uid, gid, os.R_OK)
    link = work / "link"
    link.symlink_to(f)
    assert sandbox.can_access(link, uid, gid)
    os.chmod(inner, 0o700)  # the target is closed: so is the link
    assert not sandbox.can_access(link, uid, gid)


@as_root
def test_share_with_worker_opens_a_folder_to_one_slot_only(work):
    (work / "submission").mkdir()
    sandbox.share_with_worker(work, 3)
    mine = sandbox.worker_uid(3)
    assert sandbox.can_access(work / "submission", mine, mine, os.R_OK | os.X_OK)
    other = sandbox.worker_uid(4)
    assert not sandbox.can_access(work / "submission", other, other, os.R_OK)
    assert stat.S_IMODE(work.stat().st_mode) == 0o750


def test_protect_closes_a_folder_to_other_users_once(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    os.chmod(folder, 0o755)
    notes = sandbox.protect([folder])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o750
    assert len(notes) == 1 and "chmod o-rwx" in notes[0] and "755" in notes[0]
    assert sandbox.protect([folder]) == []  # already private: nothing to say
    assert sandbox.protect([Path("/")]) == []  # never the whole machine


@as_root
def test_a_runtime_cache_made_by_someone_else_is_not_trusted(tmp_path):
    d = tmp_path / "cache"
    d.mkdir(mode=0o711)
    os.chmod(d, 0o711)
    assert sandbox._trusted_dir(d)
    os.chmod(d, 0o777)
    assert not sandbox._trusted_dir(d)  # anyone could swap the interpreter
    os.chmod(d, 0o711)
    os.chown(d, sandbox.BASE_UID, sandbox.BASE_UID)
    assert not sandbox._trusted_dir(d)  # made by a worker
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    assert not sandbox._trusted_dir(link)


def test_degraded_banner_says_what_the_fallback_does():
    text = sandbox.Mode("rlimits", True, "bwrap is not installed").banner()
    assert text.startswith("WARNING: SANDBOX DEGRADED")
    assert "bwrap is not installed" in text
    if ROOT:
        assert f"uid {sandbox.BASE_UID}" in text and "chmod o-rwx" in text
    else:
        assert "solutions and tests included" in text
