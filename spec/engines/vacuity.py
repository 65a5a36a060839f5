"""Vacuity and reachability checks (issue 3 item 6), reported by ``movecheck prove``.

A proof is only as good as the behaviours it covers.  With one incremental
BMC (the cloud's hosts and flavors, one instance — every step concerns one
instance, and a trace of a one-instance cloud is a trace of any larger one
whose other instances are never booted), this finds a shortest witness trace
for:

- every step: some reachable state enables it (the trace ends by taking it);
- every status of every migration type (from its status machine);
- every invariant: a reachable state (or transition) where its premise is
  met, so that it does not hold vacuously (e.g. ``exactly_once`` needs an
  in-progress migration of a live instance).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from movecheck.spec.engines.bmc import BMC, BMCResult
from movecheck.spec.interpret.terms import AND, EQ, NOT, OR
from movecheck.spec.state import ST, TY, VM_DEL
from movecheck.spec.statuses import NEW, STATUS_MACHINES
from movecheck.spec.steps import STEPS, alive, in_progress
from movecheck.spec.vocab import Cloud


def _any_slot(fn):
    return lambda b: OR(*[fn(b, sl) for sl in b.last_state().slots])


def _takes(kind: str):
    return lambda b: b.last_action_is(kind)


def _has_status(mtype: str, status: str):
    return _any_slot(lambda b, sl: AND(sl.mx, EQ(sl.mtype, TY[mtype]), EQ(sl.mst, ST[status])))


def _premises() -> dict:
    """Per invariant: a term saying its premise is met at the last state/transition."""
    ip_alive = _any_slot(lambda b, sl: AND(in_progress(sl), alive(sl)))
    used = lambda b: OR(*[u > 0 for row in b.last_state().usage for u in row])  # noqa: E731
    return {
        "capacity": used,
        "conservation": used,
        "non_negative": used,
        "exactly_once": ip_alive,
        "single_move": ip_alive,
        "devices_exclusive": _any_slot(lambda b, sl: AND(alive(sl), OR(*sl.dev))),
        "no_ghosts": _any_slot(lambda b, sl: OR(EQ(sl.vm, VM_DEL),
                                                AND(sl.mx, NOT(in_progress(sl))))),
        "context_matches": _any_slot(lambda b, sl: AND(alive(sl), sl.mc)),
        "evacuation_source_down": _any_slot(lambda b, sl: AND(in_progress(sl),
                                                              EQ(sl.mtype, TY["evacuation"]))),
        "moves_change_host": _any_slot(lambda b, sl: AND(sl.mx, EQ(sl.msrc, sl.mdst))),
        "status_graph": lambda b: OR(*[b.last_action_is(k) for k in ("resize_migrate", "confirm")]),
        "confirm_frees_source": lambda b: b.last_action_is("confirm_finish"),
        "revert_frees_dest": lambda b: b.last_action_is("revert_finish"),
        "evacuation_source_hold": _any_slot(lambda b, sl: AND(
            sl.mx, EQ(sl.mtype, TY["evacuation"]), EQ(sl.mst, ST["completed"]))),
    }


@dataclass
class Witness:
    kind: str  # step | status | invariant
    name: str
    found: bool
    length: int | None
    trace: list[dict]

    def to_json(self):
        return {"kind": self.kind, "name": self.name, "found": self.found, "length": self.length,
                "trace": self.trace}


def vacuity(cloud: Cloud, depth: int = 8, budget: float = 120.0) -> tuple[list[Witness], float]:
    """Witness traces for every step, every status and every invariant premise."""
    t0 = time.perf_counter()
    one = Cloud(cloud.hosts, cloud.flavors, cloud.instances[:1], max(cloud.max_migrations, 1),
                cloud.options)
    b = BMC(one)
    targets: dict = {}
    kinds: dict[str, tuple[str, str]] = {}
    for k in STEPS:
        targets[f"step:{k}"] = _takes(k)
        kinds[f"step:{k}"] = ("step", k)
    for t, g in STATUS_MACHINES.items():
        for st in g.nodes:
            if st == NEW:
                continue
            name = f"status:{t}:{st}"
            targets[name] = _has_status(t, st)
            kinds[name] = ("status", f"{t} {st}")
    for n, fn in _premises().items():
        targets[f"invariant:{n}"] = fn
        kinds[f"invariant:{n}"] = ("invariant", n)
    found = b.reach(targets, depth, budget)
    out = []
    for key, res in found.items():
        kind, name = kinds[key]
        out.append(_witness(kind, name, res))
    return out, time.perf_counter() - t0


def _witness(kind: str, name: str, res: BMCResult | None) -> Witness:
    if res is None:
        return Witness(kind, name, False, None, [])
    return Witness(kind, name, True, len(res.trace), res.trace_json())


__all__ = ["vacuity", "Witness"]
