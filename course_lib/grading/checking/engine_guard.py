"""Keep ``course_lib``'s engine out of reach of graded code (in the worker only).

Exercise code uses numpy only: the exercises ask the learner to write the pieces
the engine already has. "The engine" is every part of ``course_lib`` except
``course_lib.grading``: the layers, losses, models, optimizers, training,
gradcheck, conv/pooling/rnn, batchnorm and autodiff modules, and also the
datasets, plotting and widgets helpers (no exercise needs them: the graded
tests load data in the trusted process and pass it as arrays). The learner's
own chapter files (``from ch03_chain_rule import Dense``), numpy and the
standard library are not affected.

:func:`install` makes every way of reaching the engine from the student's file
fail with one message that says what is refused and why (:data:`MESSAGE`):

- ``import course_lib``, ``from course_lib import Dense``, ``import
  course_lib.layers`` (the import statement, through ``builtins.__import__``);
- ``importlib.import_module("course_lib.layers")`` and loading an engine file by
  path (its relative imports), through a finder first on ``sys.meta_path``;
- ``sys.modules["course_lib"].Dense``: the package in ``sys.modules`` is an empty
  shell whose attributes raise.

``course_lib.grading`` (``check`` and the other grading helpers) stays
importable. The worker never imports the engine itself, so nothing of it is in
memory to be found.
"""

from __future__ import annotations

import builtins
import importlib.util
import sys
import types

__all__ = ["MESSAGE", "bare_package", "install", "lazy_engine"]

PACKAGE = "course_lib"
ALLOWED = "course_lib.grading"
MESSAGE = ("graded code must not import course_lib's engine: {name} is refused. "
           "The exercises ask you to write the engine's pieces yourself, so "
           "exercise code uses numpy, the standard library and your own chapter "
           "files (such as `from ch01_forward_pass import Dense`); only "
           "course_lib.grading (check()) stays importable")


def _refused(name: str) -> ImportError:
    return ImportError(MESSAGE.format(name=name), name=name)


def _allowed(name: str) -> bool:
    return name == ALLOWED or name.startswith(ALLOWED + ".")


class _Finder:
    """First on ``sys.meta_path``: refuses the engine's submodules."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.startswith(PACKAGE + ".") and not _allowed(name):
            raise _refused(name)
        return None


def bare_package() -> types.ModuleType:
    """``course_lib`` as a package whose ``__init__`` (the engine) never ran, so
    that ``course_lib.grading`` can be imported without loading the engine."""
    module = sys.modules.get(PACKAGE)
    spec = module.__spec__ if module is not None else importlib.util.find_spec(PACKAGE)
    return importlib.util.module_from_spec(spec)


def _shell() -> types.ModuleType:
    """``course_lib`` without its engine: only ``grading`` inside."""
    shell = bare_package()

    def __getattr__(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr == "grading":
            return importlib.import_module(ALLOWED)
        raise _refused(f"course_lib.{attr}")

    shell.__getattr__ = __getattr__
    return shell


def _guarded_import(real_import):
    def __import__(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and (name == PACKAGE or name.startswith(PACKAGE + ".")):
            wanted = [f"{name}.{x}" for x in fromlist or ()] if name == PACKAGE \
                else [name]
            if not wanted or not all(_allowed(w) for w in wanted):
                raise _refused(name if not fromlist else
                               next(w for w in wanted if not _allowed(w)))
        return real_import(name, globals, locals, fromlist, level)

    return __import__


def lazy_engine() -> None:
    """Let a bare ``course_lib`` (see :func:`bare_package`) load its engine on
    first use, so that a worker starts without it and only code that uses the
    engine pays for importing it."""
    module = sys.modules.get(PACKAGE)
    if module is None or "__all__" in vars(module):  # absent, or already loaded
        return

    def __getattr__(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        vars(module).pop("__getattr__", None)
        module.__spec__.loader.exec_module(module)
        return getattr(module, attr)

    module.__getattr__ = __getattr__


def install() -> None:
    """Refuse the engine from now on, in this process (the worker)."""
    shell = _shell()
    for name in list(sys.modules):
        if (name == PACKAGE or name.startswith(PACKAGE + ".")) and not _allowed(name):
            del sys.modules[name]
    grading = sys.modules.get(ALLOWED)
    if grading is not None:
        shell.grading = grading
    sys.modules[PACKAGE] = shell
    sys.meta_path.insert(0, _Finder())
    builtins.__import__ = _guarded_import(builtins.__import__)
