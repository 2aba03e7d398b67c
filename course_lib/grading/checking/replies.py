"""The shape of a worker's reply, checked before the grader reads any of it.

A reply is a JSON object written by the worker, or by the student's code that
runs inside it and can write to the same pipe. :func:`check_reply` makes sure
every field the grader reads has the type it expects and a bounded size, so
that a crafted reply is a :class:`~.wire.ProtocolError` (the call is lost, the
worker restarted), never an exception inside the grader.
"""

from __future__ import annotations

from course_lib.grading.checking.wire import ProtocolError

__all__ = ["check_reply"]

#: field -> accepted types (``value``, ``args`` and ``kwargs`` are decoded later)
_FIELDS: dict[str, tuple[type, ...]] = {
    "ok": (bool,), "ready": (bool,), "pid": (int,),
    "kind": (str,), "type": (str,), "message": (str,), "traceback": (str,),
    "line": (str,), "name": (str,), "code": (str,), "stdout": (str,),
    "lineno": (int, type(None)), "seconds": (int, float),
    "mro": (list,), "warnings": (list,), "names": (list,),
}
#: longest text field kept (longer ones are cut; stdout is capped in the worker)
_MAX_TEXT = 40_000
_MAX_MRO = 64
_MAX_WARNINGS = 50
_MAX_NAMES = 100_000


def _strings(items: list, limit: int, what: str) -> None:
    if len(items) > limit or not all(isinstance(x, str) for x in items):
        raise ProtocolError(f"the reply's {what} is not a short list of names")


def _warnings(items: list) -> None:
    if len(items) > _MAX_WARNINGS:
        raise ProtocolError("the reply lists too many warnings")
    for w in items:
        ok = (isinstance(w, list) and 2 <= len(w) <= 4
              and all(isinstance(x, str) for x in w[:3])
              and (len(w) < 4 or (type(w[3]) is int)))
        if not ok:
            raise ProtocolError("the reply's warnings are malformed")


def check_reply(reply: dict) -> dict:
    """Check (and cut overlong text in) a reply; returns it.

    Raises
    ------
    ProtocolError
        For a field of the wrong type or an oversized list.
    """
    if not isinstance(reply, dict):
        raise ProtocolError("the reply is not an object")
    for key, types in _FIELDS.items():
        if key not in reply:
            continue
        value = reply[key]
        if not isinstance(value, types) or (bool in types) != (type(value) is bool):
            raise ProtocolError(f"the reply's {key!r} has the wrong type")
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            reply[key] = value[:_MAX_TEXT] + " ..."
    _strings(reply.get("mro", []), _MAX_MRO, "exception classes")
    _strings(reply.get("names", []), _MAX_NAMES, "names")
    _warnings(reply.get("warnings", []))
    return reply
