"""The parametric proof: every invariant for ANY number of hosts and instances.

Compositional, with a cutoff (docs/proofs.md, "Parametric proof" has the
argument and why it is sound).  The obligations are the bounded ones of
:mod:`movecheck.spec.engines.prove`, on a cutoff cloud:

- two explicit instance slots: slot 0 acts (every other acting instance is
  slot 0 after a renaming), slot 1 is any passive instance (a per-instance
  or pairwise invariant broken at some passive instance is broken at slot 1
  after a renaming);
- every further instance is summarised: per host the usage it charges
  (a free natural vector), per device whether it holds it (a free Bool).
  A step of slot 0 cannot change them; ``host_up`` acts on every evacuation
  from the host, so there the summary releases a free amount
  0 <= R <= summary and gives back any devices — justified by the extra
  obligation ``host_up_releases_only`` (slot 0's host_up changes only
  release usage and devices), which by symmetry holds for every summarised
  instance too;
- :data:`CUTOFF_HOSTS` hosts with free capacities, each with as many
  devices as the cloud's largest host (a host with fewer devices is one
  whose extra devices the summary holds forever).

A counterexample here in a cloud of any size would give one in the cutoff
cloud, so "proved" holds for every cloud of the same flavors.
"""

from __future__ import annotations

import time

import z3

from movecheck.spec.engines.prove import COUNTEREXAMPLE, PROVED, UNKNOWN, InvariantResult, Obligation, Prover
from movecheck.spec.interpret.terms import AND, IMP
from movecheck.spec.interpret.z3 import RC, SymbolicSpec, SymState
from movecheck.spec.vocab import Cloud, Host

#: Hosts one obligation can tell apart: the acting instance's host, source and
#: destination, the step's host/dest parameter, the passive instance's host,
#: source and destination (docs/proofs.md).
CUTOFF_HOSTS = 7


def cutoff_cloud(cloud: Cloud, hosts: int = CUTOFF_HOSTS) -> Cloud:
    """The cloud's flavors on ``hosts`` uniform hosts with two instance slots."""
    ndev = max(len(h.devices) for h in cloud.hosts)
    proto = cloud.hosts[0]
    hs = tuple(Host(f"h{k}", proto.inventories, tuple(f"pci{j}" for j in range(ndev)))
               for k in range(1, hosts + 1))
    return Cloud(hs, cloud.flavors, ("i", "j"), cloud.max_migrations, cloud.options)


class ParametricProver(Prover):
    """Prover over the cutoff cloud with a summary of every other instance."""

    label = "parametric"

    def _fresh(self, tag: str) -> SymState:
        s = super()._fresh(tag)
        s.others_usage = [[z3.Int(f"{tag}_others_{h}_{r}") for r in range(RC)]
                          for h in range(self.P.H)]
        s.others_dev = [z3.Bool(f"{tag}_others_dev_{g}") for g in range(self.P.G)]
        return s

    def _summary_facts(self, s: SymState) -> list:
        return [u >= 0 for row in s.others_usage for u in row]

    def _transition(self, s: SymState, a, kind: str):
        tr = self.sym.transition(s, a)
        if kind != "host_up":
            return tr, None
        P = self.P
        rel = [[z3.Int(f"release_{h}_{r}") for r in range(RC)] for h in range(P.H)]
        dev2 = [z3.Bool(f"others_dev_after_{g}") for g in range(P.G)]
        post = tr.post
        post.usage = [[post.usage[h][r] - rel[h][r] for r in range(RC)] for h in range(P.H)]
        post.others_usage = [[s.others_usage[h][r] - rel[h][r] for r in range(RC)]
                             for h in range(P.H)]
        post.others_dev = dev2
        facts = [AND(x >= 0, x <= s.others_usage[h][r])
                 for h, row in enumerate(rel) for r, x in enumerate(row)]
        facts += [IMP(d2, d) for d2, d in zip(dev2, s.others_dev, strict=True)]
        tr.picks_ok = AND(tr.picks_ok, *facts)
        return tr, rel

    def releases_only(self) -> Obligation:
        """host_up changes slot 0 only by releasing usage and devices (the summary's licence)."""
        P, sym, s = self.P, self.sym, self.pre
        a = type(self)._host_up_args(P)
        tr = sym.transition(s, a)
        signs_ok = all(sg < 0 for dl in tr.slot_deltas.values() for _, _, _, sg in dl)
        x, y = s.slots[0], tr.post.slots[0]
        goal = AND(*[IMP(sym.slot_holds_dev(y, g), sym.slot_holds_dev(x, g)) for g in range(P.G)])
        solver = self._solver()
        solver.add(*self.hypothesis, a.host >= 0, a.host < P.H, tr.enabled)
        status, dt = self._check(solver, goal, "host_up__releases_only")
        solver.pop()
        if not signs_ok:
            status = COUNTEREXAMPLE
        return Obligation("host_up_releases_only", "host_up", status, dt)

    @staticmethod
    def _host_up_args(P):
        from movecheck.spec.interpret.z3 import StepArgs

        return StepArgs("host_up", host=z3.Int("arg_release_host"))


def prove_parametric(cloud: Cloud, timeout: float = 60.0,
                     sym_cls: type[SymbolicSpec] = SymbolicSpec, smt2_dir: str | None = None,
                     hosts: int = CUTOFF_HOSTS) -> list[InvariantResult]:
    """Every invariant for any number of hosts and instances (with ``cloud``'s flavors).

    The Python API behind the ``parametric`` part of ``movecheck prove``.
    """
    t0 = time.perf_counter()
    prover = ParametricProver(cutoff_cloud(cloud, hosts), sym_cls, timeout, smt2_dir=smt2_dir)
    results = prover.run()
    lic = prover.releases_only()
    if lic.status != PROVED:
        # Without the licence the summary is not sound: nothing is proved parametrically.
        for r in results:
            if r.status == PROVED:
                r.status = UNKNOWN
    results.append(InvariantResult(lic.invariant, "abstraction", lic.status, lic.seconds, [lic]))
    _ = time.perf_counter() - t0
    return results


__all__ = ["prove_parametric", "cutoff_cloud", "CUTOFF_HOSTS", "ParametricProver"]
