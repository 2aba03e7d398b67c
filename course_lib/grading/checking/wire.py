"""The wire format between the grader and a student's worker: data only.

Arguments and results cross in a restricted, data-only format (never pickle, in
either direction): ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
``bytes``; ``tuple``, ``list``, ``set``, ``dict`` of those; numpy arrays and
scalars of numeric, boolean, string or datetime dtype; :class:`Fn` and
:class:`Rng` references; and remote handles. A message is framed as two
lengths, the buffers' lengths, a JSON header (the tree) and the binary buffers
(the arrays' bytes), see :func:`pack` and :class:`Reader`.

The worker runs the student's code, which can reach its reply channel and write
any bytes there. Everything the trusted side reads is therefore bounded before
and while it is decoded (:class:`DecodeLimits`): the message's size, the number
of elements and buffers, the nesting depth, the bytes of every array (a buffer
referenced many times is counted every time) and the time, which is the call's
own time limit. A message that breaks a bound raises :class:`DecodeLimitError`.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DEFAULT_LIMITS", "NO_LIMITS", "DecodeLimitError", "DecodeLimits", "Fn",
           "ProtocolError", "Reader", "Rng", "decode", "decode_fields", "encode",
           "pack", "write_all"]

#: largest message (header + buffers) the parent accepts from the worker, in bytes
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: largest JSON part of a message (nested lists, dicts...; arrays travel as buffers)
MAX_HEADER_BYTES = 16 * 1024 * 1024
_MAX_DEPTH = 64
_ARRAY_KINDS = frozenset("biufcSUmM")
_PREFIX = struct.Struct("<II")
_LEN = struct.Struct("<Q")


@dataclass(frozen=True)
class Fn:
    """A named reference to a function in :mod:`course_lib.grading.checking.testfns`.

    The worker resolves ``Fn("quadratic")`` to
    ``course_lib.grading.checking.testfns.quadratic``
    so that graded tests can pass callables (e.g. to ``numerical_gradient``) without
    sending code across the process boundary.
    """

    name: str

    def __post_init__(self):
        from course_lib.grading.checking import testfns

        fn = None if self.name.startswith("_") else getattr(testfns, self.name, None)
        if not callable(fn):
            raise ValueError(
                f"course_lib.grading.checking.testfns has no function {self.name!r}")


#: largest seed entry an :class:`Rng` may carry (it crosses as a JSON integer)
_MAX_SEED = 2**63


def _check_seed(seed) -> int | tuple[int, ...]:
    """``seed`` as a non-negative int or a non-empty tuple of them, else ValueError."""
    items = seed if isinstance(seed, (list, tuple)) else (seed,)
    if not items or len(items) > 16 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
            and 0 <= s < _MAX_SEED for s in items):
        raise ValueError(
            f"an Rng seed must be an int in [0, 2**63) or a short tuple of such "
            f"ints, got {seed!r}")
    items = tuple(int(s) for s in items)
    return items if isinstance(seed, (list, tuple)) else items[0]


@dataclass(frozen=True)
class Rng:
    """A random generator for student code, sent as its seed.

    A ``numpy.random.Generator`` cannot cross the process boundary (and its
    seed cannot be read back from it), so a graded test passes ``Rng(7)``
    where the exercise expects an ``rng``; the worker hands the student's
    function a **new** ``np.random.default_rng(7)``, which draws exactly what
    ``np.random.default_rng(7)`` draws in the test. Two calls with ``Rng(7)``
    therefore see the same numbers (how tests check reproducibility).

    Parameters
    ----------
    seed : int or tuple of int
        What ``np.random.default_rng`` is called with: an int in
        ``[0, 2**63)`` or a tuple of such ints (an entropy sequence).

    Examples
    --------
    >>> W = ch06.he_init(4, 6, Rng(2))                        # doctest: +SKIP
    >>> expected = np.random.default_rng(2).normal(size=(4, 6))
    """

    seed: int | tuple

    def __post_init__(self):
        object.__setattr__(self, "seed", _check_seed(self.seed))

    def generator(self) -> np.random.Generator:
        """The ``np.random.default_rng(seed)`` that the worker will build."""
        return np.random.default_rng(self.seed)


class ProtocolError(Exception):
    """A message broke the wire format (too large, malformed, forbidden dtype)."""


def encode(obj, bufs: list, on_other: Callable[[Any], dict], depth: int = 0,
           _stack: set | None = None):
    """Turn ``obj`` into a JSON-able tree, appending binary payloads to ``bufs``.

    Parameters
    ----------
    obj : object
        The value to send.
    bufs : list of bytes
        Receives array and bytes payloads; the tree refers to them by index.
    on_other : callable
        Called with any object the format cannot carry; returns its tree node
        (a remote handle in the worker) or raises ``TypeError`` (in the parent).
    """
    t = type(obj)
    if obj is None or t is bool or t is str:
        return obj
    if t is int:
        return obj if -(2**63) <= obj < 2**63 else {"I": hex(obj)}
    if t is float:
        return obj
    if t is np.ndarray:
        return _encode_array(obj, bufs, "a")
    if isinstance(obj, np.ndarray):
        # a subclass (np.matrix, a masked array, a student's class overriding
        # __eq__...) travels as its plain data: what the grader compares is the
        # numbers, never the subclass's methods. The base-class view runs no
        # method of the subclass.
        return _encode_array(np.ndarray.view(obj, np.ndarray), bufs, "a")
    if isinstance(obj, np.generic):
        return _encode_array(np.asarray(obj), bufs, "s")
    if t is Fn:
        return {"f": obj.name}
    if t is Rng:
        return {"g": list(obj.seed) if isinstance(obj.seed, tuple) else obj.seed}
    if t is complex:
        return {"c": [obj.real, obj.imag]}
    if t is bytes or t is bytearray:
        bufs.append(bytes(obj))
        return {"b": len(bufs) - 1}
    if t in (list, tuple, set, frozenset, dict):
        return _encode_container(obj, bufs, on_other, depth, _stack)
    return _encode_plain_subclass(obj, bufs, on_other, depth, _stack)


def _encode_container(obj, bufs: list, on_other, depth: int, _stack: set | None):
    """A list, tuple, set, frozenset or dict, item by item; one nested too deep or
    holding itself goes to ``on_other``."""
    t = type(obj)
    if depth >= _MAX_DEPTH:
        return on_other(obj)
    _stack = set() if _stack is None else _stack
    if id(obj) in _stack:
        return on_other(obj)
    _stack.add(id(obj))
    try:
        d = depth + 1
        if t is dict:
            return {"d": [[encode(k, bufs, on_other, d, _stack),
                           encode(v, bufs, on_other, d, _stack)]
                          for k, v in obj.items()]}
        items = [encode(v, bufs, on_other, d, _stack) for v in obj]
        tag = {list: "l", tuple: "t", set: "S", frozenset: "F"}[t]
        return {tag: items}
    finally:
        _stack.discard(id(obj))


def _encode_plain_subclass(obj, bufs: list, on_other, depth: int, _stack: set | None):
    """A subclass of a plain type travels as the plain type (a namedtuple as a
    tuple); anything else goes to ``on_other``."""
    for base in (bool, int, float, str, complex, bytes, tuple, list, dict):
        if isinstance(obj, base) and not isinstance(obj, np.generic):
            try:
                plain = base(obj.items()) if base is dict else base(obj)
            except Exception:
                return on_other(obj)
            if type(plain) is base:
                return encode(plain, bufs, on_other, depth, _stack)
    return on_other(obj)


def _encode_array(arr: np.ndarray, bufs: list, tag: str) -> dict:
    dt = arr.dtype
    if dt.hasobject or dt.fields is not None or dt.kind not in _ARRAY_KINDS:
        raise ProtocolError(
            f"an array of dtype {dt} cannot be sent (only numeric, boolean and string "
            "dtypes); did you build an array from a list of mixed objects?")
    bufs.append(np.ascontiguousarray(arr).tobytes())
    node = {tag: len(bufs) - 1, "dt": dt.str}
    if tag == "a":
        node["sh"] = list(arr.shape)
    return node


class DecodeLimitError(ProtocolError):
    """A message broke one of the :class:`DecodeLimits`; the text says which,
    for the student (``"it holds more than 100,000 values"``)."""


@dataclass(frozen=True)
class DecodeLimits:
    """What the trusted side will decode from one message.

    Attributes
    ----------
    max_bytes : int
        Array and bytes payload, summed over every reference (a buffer that the
        tree names ``k`` times counts ``k`` times).
    max_array_bytes : int
        Payload of any one array or bytes value.
    max_elements : int
        Values of every kind (containers, their items, leaves), estimated from
        the header's text before it is parsed, then counted while decoding.
    max_buffers : int
        Binary buffers in one message.
    max_depth : int
        Nesting of containers.
    max_int_digits : int
        Hexadecimal digits of an integer too large for 64 bits.
    """

    max_bytes: int = MAX_MESSAGE_BYTES
    max_array_bytes: int = MAX_MESSAGE_BYTES
    max_elements: int = 100_000
    max_buffers: int = 100_000
    max_depth: int = _MAX_DEPTH + 2
    max_int_digits: int = 1024


#: the limits used when a caller gives none (messages from a student's worker)
DEFAULT_LIMITS = DecodeLimits()
#: for messages from the trusted side (the worker reading the grader's requests)
NO_LIMITS = DecodeLimits(max_bytes=1 << 62, max_array_bytes=1 << 62,
                         max_elements=1 << 62, max_buffers=1 << 32)
#: the deadline is looked at every this many values (and at every set or dict
#: insertion, whose cost an attacker can raise with colliding hashes)
_CHECK_EVERY = 256


class _Budget:
    """Counts what one decode has produced against its limits and deadline."""

    def __init__(self, limits: DecodeLimits, deadline: float | None):
        self.limits = limits
        self.deadline = deadline
        self.elements = 0
        self.bytes = 0

    def element(self) -> None:
        self.elements += 1
        if self.elements > self.limits.max_elements:
            raise DecodeLimitError(
                f"it holds more than {self.limits.max_elements:,} values")
        if self.elements % _CHECK_EVERY == 0:
            self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DecodeLimitError("reading it back took longer than the call's "
                                   "time limit")

    def payload(self, buf) -> None:
        n = len(buf)
        if n > self.limits.max_array_bytes:
            raise DecodeLimitError(f"one array in it is {n / 1e6:.0f} MB")
        self.bytes += n
        if self.bytes > self.limits.max_bytes:
            raise DecodeLimitError(
                f"its arrays add up to more than {self.limits.max_bytes / 1e6:.0f} "
                "MB (counting each time one is repeated)")


def decode(node, bufs: Sequence, on_handle: Callable[[dict], Any],
           on_fn: Callable[[str], Any], depth: int = 0, *,
           on_rng: Callable[[Any], Any] | None = None,
           limits: DecodeLimits | None = None, deadline: float | None = None):
    """Inverse of :func:`encode`; ``on_handle``/``on_fn`` rebuild references.

    ``on_rng`` turns an :class:`Rng` seed into what the receiver wants (the
    worker: a fresh ``np.random.default_rng(seed)``); by default it is
    rebuilt as an :class:`Rng` (a malformed seed is a :class:`ProtocolError`).
    ``limits`` (default :data:`DEFAULT_LIMITS`) and ``deadline`` (a
    ``time.monotonic()`` value) bound the work; breaking one raises
    :class:`DecodeLimitError`.
    """
    budget = _Budget(limits or DEFAULT_LIMITS, deadline)
    return _Decoder(bufs, on_handle, on_fn, on_rng, budget).node(node, depth)


def decode_fields(header: dict, keys, bufs: Sequence, on_handle, on_fn, *,
                  limits: DecodeLimits | None = None,
                  deadline: float | None = None) -> dict:
    """``header`` with the fields in ``keys`` decoded, all under one budget (so
    that a message cannot spread past a limit over several fields)."""
    budget = _Budget(limits or DEFAULT_LIMITS, deadline)
    decoder = _Decoder(bufs, on_handle, on_fn, None, budget)
    return {k: decoder.node(v, 0) if k in keys else v for k, v in header.items()}


class _Decoder:
    """One decode: the buffers, the callbacks and the budget it runs under."""

    def __init__(self, bufs, on_handle, on_fn, on_rng, budget: _Budget):
        self.bufs = bufs
        self.on_handle = on_handle
        self.on_fn = on_fn
        self.on_rng = on_rng
        self.budget = budget

    def node(self, node, depth: int):
        self.budget.element()
        if depth > self.budget.limits.max_depth:
            raise DecodeLimitError("it is nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not node:
            raise ProtocolError(f"unexpected node {type(node).__name__}")
        if "r" in node or "h" in node:
            return self.on_handle(node)
        if "a" in node or "s" in node:
            return self.array(node)
        for tag in ("l", "t", "d", "S", "F"):
            if tag in node:
                return self.container(tag, node[tag], depth + 1)
        return self.leaf(node)

    def items(self, raw, depth: int) -> list:
        if not isinstance(raw, list):
            raise ProtocolError("a container's items are not a list")
        return [self.node(v, depth) for v in raw]

    def container(self, tag: str, raw, depth: int):
        if tag == "l":
            return self.items(raw, depth)
        if tag == "t":
            return tuple(self.items(raw, depth))
        if tag == "d":
            return self.mapping(raw, depth)
        out: set = set()
        for item in self.items(raw, depth):
            self.budget.check_time()
            try:
                out.add(item)
            except TypeError as exc:
                raise ProtocolError(f"unhashable set item: {exc}") from None
        return out if tag == "S" else frozenset(out)

    def mapping(self, raw, depth: int) -> dict:
        if not isinstance(raw, list):
            raise ProtocolError("a dict's items are not a list")
        out = {}
        for pair in raw:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ProtocolError("a dict item is not a key and a value")
            key = self.node(pair[0], depth)
            value = self.node(pair[1], depth)
            self.budget.check_time()
            try:
                out[key] = value
            except TypeError as exc:
                raise ProtocolError(f"unhashable dict key: {exc}") from None
        return out

    def buffer(self, index):
        if type(index) is not int or not 0 <= index < len(self.bufs):
            raise ProtocolError("a value names a buffer the message does not have")
        buf = self.bufs[index]
        self.budget.payload(buf)
        return buf

    def array(self, node: dict):
        scalar = "s" in node
        dt = np.dtype(str(node["dt"]))
        if dt.hasobject or dt.fields is not None or dt.kind not in _ARRAY_KINDS:
            raise ProtocolError(f"forbidden dtype {dt}")
        buf = self.buffer(node["s" if scalar else "a"])
        arr = np.frombuffer(buf, dtype=dt) if len(buf) else np.empty(0, dt)
        if scalar:
            if arr.size != 1:
                raise ProtocolError("bad scalar payload")
            return arr[0]
        shape = tuple(int(s) for s in node["sh"])
        if int(np.prod(shape, dtype=np.int64)) != arr.size or min(shape, default=0) < 0:
            raise ProtocolError("array payload does not match its shape")
        return arr.reshape(shape)

    def leaf(self, node: dict):
        if "c" in node:
            re_, im = node["c"]
            return complex(float(re_), float(im))
        if "b" in node:
            return bytes(self.buffer(node["b"]))
        if "I" in node:
            digits = str(node["I"])
            if len(digits) > self.budget.limits.max_int_digits:
                raise DecodeLimitError("it holds an integer with too many digits")
            return int(digits, 16)
        if "f" in node:
            return self.on_fn(str(node["f"]))
        if "g" in node:
            raw = node["g"]
            try:
                seed = _check_seed(tuple(raw) if isinstance(raw, list) else raw)
            except (ValueError, TypeError) as exc:
                raise ProtocolError(str(exc)) from None
            return Rng(seed) if self.on_rng is None else self.on_rng(seed)
        raise ProtocolError(f"unknown node {sorted(node)[:3]}")


def pack(header: dict, bufs: Sequence[bytes]) -> bytes:
    """Frame a message: lengths, a JSON header, then the binary buffers."""
    head = json.dumps(header, separators=(",", ":")).encode()
    parts = [_PREFIX.pack(len(head), len(bufs))]
    parts += [_LEN.pack(len(b)) for b in bufs]
    parts.append(head)
    parts += bufs
    return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _tokens(header: bytes) -> int:
    """An upper bound on the values a JSON text holds, found without parsing it
    (every value but the first follows a comma or opens a container)."""
    return header.count(b",") + header.count(b"[") + header.count(b"{") + 1


class Reader:
    """Reads framed messages from a file descriptor, with a deadline and a size cap.

    ``limits`` bounds what :meth:`read` will parse (buffers, values); the
    values are counted again, exactly, by :func:`decode`.
    """

    def __init__(self, fd: int, limit: int, limits: DecodeLimits | None = None):
        self.fd = fd
        self.limit = limit
        self.limits = limits or DEFAULT_LIMITS
        self.buf = bytearray()

    def _read(self, n: int, deadline: float | None) -> bytearray:
        buf = self.buf
        while len(buf) < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                ready, _, _ = select.select([self.fd], [], [], left)
                if not ready:
                    raise TimeoutError
            chunk = os.read(self.fd, max(n - len(buf), 1 << 16))
            if not chunk:
                raise EOFError
            buf += chunk
        out = buf[:n]
        del buf[:n]
        return out

    def _lengths(self, deadline: float | None) -> tuple[int, list[int]]:
        hlen, nbufs = _PREFIX.unpack(self._read(_PREFIX.size, deadline))
        if hlen > min(self.limit, MAX_HEADER_BYTES):
            raise ProtocolError("message too large")
        if nbufs > self.limits.max_buffers:
            raise DecodeLimitError(f"it holds more than {self.limits.max_buffers:,} "
                                   "arrays")
        raw = self._read(_LEN.size * nbufs, deadline) if nbufs else b""
        lens = [_LEN.unpack_from(raw, i * _LEN.size)[0] for i in range(nbufs)]
        if hlen + sum(lens) > self.limit:
            raise ProtocolError(
                f"message of {(hlen + sum(lens)) / 1e6:.0f} MB exceeds the "
                f"{self.limit / 1e6:.0f} MB limit")
        return hlen, lens

    def _header(self, raw: bytes, deadline: float | None) -> dict:
        # bound the parse's cost before paying it: json.loads cannot be stopped
        if _tokens(raw) > 4 * self.limits.max_elements:
            raise DecodeLimitError(
                f"it holds more than {self.limits.max_elements:,} values")
        try:
            header = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError(f"malformed header: {exc}") from None
        if deadline is not None and time.monotonic() > deadline:
            raise DecodeLimitError("reading it back took longer than the call's "
                                   "time limit")
        if not isinstance(header, dict):
            raise ProtocolError("the header is not an object")
        return header

    def read(self, deadline: float | None = None):
        """One message: ``(header, buffers)``; raises ``TimeoutError`` at the
        deadline, ``EOFError`` when the pipe closes, :class:`ProtocolError`
        (or :class:`DecodeLimitError`) for a message out of bounds."""
        hlen, lens = self._lengths(deadline)
        header = self._header(bytes(self._read(hlen, deadline)), deadline)
        bufs = [self._read(n, deadline) for n in lens]
        return header, bufs
