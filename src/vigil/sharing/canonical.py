"""RFC 8785 (JSON Canonicalization Scheme) serialisation, fast for the records Vigil signs.

The reference implementation (``rfc8785``, pure Python) spends ~70 µs on one observation envelope; this
one uses the C string escaper of the standard library and formats numbers the ECMAScript way
(RFC 8785 §3.2.2.3: ``Number.prototype.toString``, ECMA-262 §6.1.6.1.20) from Python's shortest
round-trip ``repr`` (the same digits: both are the shortest that read back to the same double, ties to
the closer). Anything outside the plain JSON types it handles (other types, non-finite floats, integers
beyond ±2**53, lone surrogates) is handed to ``rfc8785``, which either canonicalises it or raises its
``CanonicalizationError`` (a ValueError), so the two never disagree; tests compare them on random trees.
"""

from __future__ import annotations

import json.encoder
from typing import Any

import rfc8785

_escape = json.encoder.encode_basestring  # C; ensure_ascii=False: \" \\ \b \f \n \r \t, \u00xx (lower hex)
MAX_EXACT_INT = 2**53  # RFC 8785 §3.2.2.3 / I-JSON (RFC 7493 §2.2): integers are IEEE 754 doubles
FIXED_MAX_DIGITS = 21  # ECMA-262 Number::toString: positional notation for 1e-7 < |x| < 1e21
FIXED_MIN_EXPONENT = -6


class _Fallback(Exception):
    """A value this encoder leaves to ``rfc8785``."""


def _number(x: float) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        raise _Fallback
    if x.is_integer() and -MAX_EXACT_INT < x < MAX_EXACT_INT:
        return str(int(x))  # exact below 2**53; also "-0.0" -> "0", as ECMAScript
    text = repr(x)
    if "e" not in text:  # repr is positional for 1e-4 <= |x| < 1e16, inside ECMAScript's positional range
        return text.removesuffix(".0")  # integral values in [2**53, 1e16): same digits, no fraction
    mantissa, exp = text.split("e")
    sign = "-" if mantissa[0] == "-" else ""
    digits = mantissa.lstrip("-").replace(".", "")
    n = int(exp) + 1  # ECMA-262: x = 0.digits × 10**n
    k = len(digits)
    if k <= n <= FIXED_MAX_DIGITS:
        return sign + digits + "0" * (n - k)
    if 0 < n <= FIXED_MAX_DIGITS:
        return sign + digits[:n] + "." + digits[n:]
    if FIXED_MIN_EXPONENT < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{head}e{'+' if e > 0 else '-'}{abs(e)}"


def _encode(obj: Any, out: list[str]) -> None:
    t = type(obj)
    if t is str:
        out.append(_escape(obj))
    elif t is float:
        out.append(_number(obj))
    elif t is dict:
        keys = list(obj)
        if not all(type(k) is str and k.isascii() for k in keys):
            raise _Fallback  # UTF-16 code-unit order of non-ASCII keys: left to rfc8785
        keys.sort()
        out.append("{")
        for i, key in enumerate(keys):
            out.append(',"' if i else '"')
            out.append(_escape(key)[1:])
            out.append(":")
            _encode(obj[key], out)
        out.append("}")
    elif t is list or t is tuple:
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif t is int and -MAX_EXACT_INT < obj < MAX_EXACT_INT:
        out.append(str(obj))
    else:
        raise _Fallback


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of ``obj`` as UTF-8; raises ``rfc8785.CanonicalizationError`` (a ValueError)
    for NaN, infinities and integers beyond ±2**53 (not representable in JSON numbers)."""
    out: list[str] = []
    try:
        _encode(obj, out)
        return "".join(out).encode("utf-8")
    except (_Fallback, UnicodeEncodeError):
        return rfc8785.dumps(obj)
