"""RFC 8785 (JCS) canonical JSON for the values audit events use.

Standard library only. Strings, integers, finite floats, booleans, null,
lists and dicts with string keys. Refused (ValueError), never reshaped:
NaN/Infinity, lone surrogates, non-string keys, other types. Numbers follow
ECMAScript Number::toString (RFC 8785 section 3.2.2.3); integers outside
+-2**53 are refused because a verifier reading them as doubles would see
another number. Object keys are sorted by their UTF-16 code units (section
3.2.3), which differs from Python's code-point order for characters above
U+FFFF.
"""

import json
import math

MAX_SAFE = 2**53 - 1


def canonical_bytes(value) -> bytes:
    return _ser(value, 0).encode("utf-8")


def _ser(v, depth):
    if depth > 64:
        raise ValueError("nested too deeply")
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        if abs(v) > MAX_SAFE:
            raise ValueError(f"integer {v} is not exact in a double")
        return str(v)
    if isinstance(v, float):
        return _number(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_ser(x, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        for k in v:
            if not isinstance(k, str):
                raise ValueError("object keys must be strings")
        keys = sorted(v.keys(), key=_utf16_key)
        return "{" + ",".join(_string(k) + ":" + _ser(v[k], depth + 1) for k in keys) + "}"
    raise ValueError(f"{type(v).__name__} has no JSON form")


def _utf16_key(k):
    _string(k)  # refuses lone surrogates before they could sort
    return k.encode("utf-16-be")


def _string(s):
    for ch in s:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("string contains a lone surrogate")
    # json.dumps escapes exactly '"', '\\' and U+0000-U+001F (short forms for
    # \b \t \n \f \r, else \u00xx lowercase) with ensure_ascii=False: JCS's set.
    return json.dumps(s, ensure_ascii=False)


def _number(x):
    if not math.isfinite(x):
        raise ValueError(f"{x} has no JSON form")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-trip digits, as ECMAScript does; re-format them.
    r = repr(abs(x))
    if "e" in r:
        mant, exp = r.split("e")
        exp = int(exp)
    else:
        mant, exp = r, 0
    if "." in mant:
        intpart, frac = mant.split(".")
    else:
        intpart, frac = mant, ""
    digits = (intpart + frac).lstrip("0")
    # position of the decimal point relative to the first significant digit
    lead_zeros = len(intpart + frac) - len((intpart + frac).lstrip("0"))
    n = len(intpart) + exp - lead_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    return sign + out
