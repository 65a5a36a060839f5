"""The two readings of the one spec (docs/one-spec.md).

The rules (:mod:`movecheck.spec.steps`, :mod:`movecheck.spec.invariants`) are
Python functions written over the operations of :mod:`.terms`; they are run
with plain Python values by :mod:`.concrete` (the oracle of explore and
conformance) and with Z3 terms by :mod:`.z3` (proofs and bounded model
checking).  Neither module holds a step- or invariant-specific line.
"""
