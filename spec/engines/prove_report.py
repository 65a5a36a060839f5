"""Counterexamples to induction in domain words (issue 3 item 2).

A CTI is a pre-state that satisfies every invariant, a step, and a post-state
that breaks one.  It is printed the way ``describe_state`` prints any state
(hosts with usage of capacity, instances with host/flavor/vm_state,
migrations with status), with the lines the step changed marked, the broken
invariant's own messages from the concrete checker, and whether a small BMC
reaches the pre-state: reachable means a real bug in the spec; unreachable
(within the depth) suggests a missing strengthening invariant.
"""

from __future__ import annotations

from movecheck.spec import Spec
from movecheck.spec.engines.bmc import BMC
from movecheck.spec.engines.prove import CTI
from movecheck.spec.interpret.terms import AND, EQ
from movecheck.spec.interpret.z3 import Slot, SymbolicSpec, encode_state
from movecheck.spec.invariants import INVARIANTS


def cti_lines(cti: CTI) -> list[str]:
    from movecheck.spec.describe import describe_state

    spec = Spec(cti.cloud)
    after = describe_state(spec, cti.after)
    out = []
    if cti.before is not None:
        before = describe_state(spec, cti.before)
        out.append("before (satisfies every invariant):")
        out += [f"    {line}" for line in before]
        picks = f" picking {', '.join(cti.picks)}" if cti.picks else ""
        out.append(f"step: {cti.step}{picks}")
        out.append("after (changed lines marked *):")
        out += [f"  {'*' if line not in before else ' '} {line}" for line in after]
    else:
        out.append("an initial state:")
        out += [f"    {line}" for line in after]
    out.append(f"breaks {cti.invariant}: {_messages(spec, cti)}")
    if cti.reachable is not None:
        out.append("the pre-state is REACHABLE (a real bug in the spec)" if cti.reachable else
                   "the pre-state is not reachable within the BMC depth "
                   "(likely a missing strengthening invariant)")
    return out


def _messages(spec: Spec, cti: CTI) -> str:
    inv = INVARIANTS.get(cti.invariant)
    if inv is None:
        return "(an abstraction invariant, see docs/proofs.md)"
    try:
        if inv.kind == "state":
            msgs = inv.check(spec, cti.after)
        else:
            msgs = inv.check(spec, cti.before, cti.step, cti.after)
    except Exception:  # noqa: BLE001 - a decoded state may not be a concrete one
        msgs = []
    return "; ".join(msgs) or inv.statement


def mark_reachability(cti: CTI, depth: int, sym_cls: type[SymbolicSpec] = SymbolicSpec
                      ) -> bool | None:
    """Search for the CTI's pre-state from the initial states of its cloud (BMC, ``depth``)."""
    if cti.before is None or depth <= 0:
        return None
    spec = Spec(cti.cloud)
    try:
        target = encode_state(spec, cti.before)
    except (ValueError, KeyError):
        return None
    b = BMC(cti.cloud, sym_cls, symmetry=False)  # a given state: instance names matter

    def same(bm):
        s = bm.last_state()
        conds = [x == y for x, y in zip(s.up, target.up, strict=True)]
        conds += [x == y for r1, r2 in zip(s.usage, target.usage, strict=True)
                  for x, y in zip(r1, r2, strict=True)]
        for x, y in zip(s.slots, target.slots, strict=True):
            conds += [EQ(getattr(x, n), getattr(y, n)) for n in Slot.SCALARS
                      if n not in ("mid", "older")]
            conds += [EQ(p, q) for n in Slot.VECTORS
                      for p, q in zip(getattr(x, n), getattr(y, n), strict=True)]
        return AND(*conds)

    found = b.reach({"pre": same}, depth)
    cti.reachable = found["pre"] is not None
    return cti.reachable


__all__ = ["cti_lines", "mark_reachability"]
