"""The operations a rule is written with: one function, two readings.

Every rule of the spec is a Python function over values that are either plain
Python values (the concrete reading) or Z3 terms (the Z3 reading).  Python's
own ``==``, ``!=``, ``<=``, ``+`` already work on both; what does not is
``and``/``or``/``not`` and ``x if c else y`` (Z3 terms have no truth value), so
rules use :func:`AND`, :func:`OR`, :func:`NOT`, :func:`ite` instead.  With
Python values these short-circuit and return Python values, so the concrete
reading computes exactly what plain Python would; with a Z3 term anywhere they
build the formula.  A rule that branches on a state value with ``if`` fails
loudly in the Z3 reading (a Z3 term refuses ``bool()``), so the mistake is
caught by the first proof or agreement test.
"""

from __future__ import annotations

from typing import Any

_z3: Any = None


def z3mod():
    """The z3 module, imported on first symbolic use (the concrete reading never needs it)."""
    global _z3
    if _z3 is None:
        import z3

        _z3 = z3
    return _z3


def is_py(x) -> bool:
    return isinstance(x, (bool, int, str)) or x is None


def ite(c, a, b):
    """``a if c else b``; for lists (device vectors) and symbolic slots, field by field."""
    if c is True:
        return a
    if c is False:
        return b
    if a is b:
        return a
    if isinstance(a, list):
        return [ite(c, x, y) for x, y in zip(a, b, strict=True)]
    merge = getattr(a, "merge", None)
    if merge is not None:
        return merge(c, b)
    return z3mod().If(c, a, b)


def AND(*xs):
    out = []
    for x in xs:
        if x is True:
            continue
        if x is False:
            return False
        out.append(x)
    if not out:
        return True
    return out[0] if len(out) == 1 else z3mod().And(*out)


def OR(*xs):
    out = []
    for x in xs:
        if x is False:
            continue
        if x is True:
            return True
        out.append(x)
    if not out:
        return False
    return out[0] if len(out) == 1 else z3mod().Or(*out)


def NOT(x):
    if x is True:
        return False
    if x is False:
        return True
    return z3mod().Not(x)


def IMP(a, b):
    if a is False or b is True:
        return True
    if a is True:
        return b
    return OR(NOT(a), b)


def EQ(a, b):
    return a == b


def NE(a, b):
    return a != b


def IN(x, codes):
    """x is one of the (Python) ``codes``."""
    if type(x) is int:
        return x in codes
    return OR(*[x == c for c in codes])


def SUM(xs):
    xs = [x for x in xs if not (type(x) is int and x == 0)]
    if not xs:
        return 0
    if len(xs) == 1:
        return xs[0]
    if all(type(x) is int for x in xs):
        return sum(xs)
    return z3mod().Sum(xs)


def COUNT(bools) -> Any:
    """How many of ``bools`` are true."""
    return SUM([ite(b, 1, 0) for b in bools])


def sel(values, idx):
    """values[idx] for a Python or Z3 index (an If-chain)."""
    if type(idx) is int:
        return values[idx] if 0 <= idx < len(values) else values[0]
    out = values[-1]
    for k in range(len(values) - 2, -1, -1):
        out = ite(idx == k, values[k], out)
    return out


class Codes:
    """A set of (type, status) code pairs, tested as one combined code symbolically."""

    def __init__(self, pairs, nstatus: int):
        self.pairs = frozenset(pairs)
        self.n = nstatus
        self.combined = sorted({a * nstatus + b for a, b in self.pairs})

    def has(self, t, s):
        if type(t) is int and type(s) is int:
            return (t, s) in self.pairs
        return IN(t * self.n + s, self.combined)


__all__ = ["AND", "COUNT", "Codes", "EQ", "IMP", "IN", "NE", "NOT", "OR", "SUM", "ite", "is_py",
           "sel", "z3mod"]
