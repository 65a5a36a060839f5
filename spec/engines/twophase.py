"""Two-phase commit, the yardstick model for the explorer's speed.

From Lamport's ``TwoPhase.tla`` (tlaplus/Examples,
``specifications/transaction_commit/TwoPhase.tla``) as Stateright's
``examples/2pc.rs`` writes it: with 3 resource managers the state space has
288 distinct states, the figure TLC and Stateright both report.  It is not
part of the spec of moves: it is a fixed, tiny model pushed through the same
search engine, so that states/s measured on two machines (or on one busy
machine at two moments) can be compared by their ratio to this model's.

A state is (resource manager states, transaction manager state, which
managers the TM knows prepared, which prepared messages were sent, commit
sent, abort sent).  Resource managers are interchangeable (the symmetry
hook sorts them).
"""

from __future__ import annotations

from math import factorial
from typing import NamedTuple

WORKING, PREPARED, COMMITTED, ABORTED = "working", "prepared", "committed", "aborted"
INIT = "init"


class TwoPhaseState(NamedTuple):
    rm: tuple[str, ...]  # per resource manager
    tm: str  # init | committed | aborted
    tm_prepared: tuple[bool, ...]  # the TM received Prepared from this RM
    msg_prepared: tuple[bool, ...]  # this RM sent Prepared
    msg_commit: bool
    msg_abort: bool


class TwoPhase:
    """TwoPhase.tla as a :class:`~movecheck.spec.engines.model.Model`."""

    def __init__(self, rms: int = 3, symmetry: bool = False):
        self.n = rms
        self.group_size = factorial(rms) if symmetry else 1
        if symmetry:
            self.canonical = self._canonical
            self.orbit_size = self._orbit_size

    def initial(self) -> TwoPhaseState:
        no = (False,) * self.n
        return TwoPhaseState((WORKING,) * self.n, INIT, no, no, False, False)

    def successors(self, s: TwoPhaseState):
        n = self.n
        for r in range(n):
            # TMRcvPrepared(r): the TM, still in init, receives r's Prepared message.
            if s.tm == INIT and s.msg_prepared[r] and not s.tm_prepared[r]:
                yield f"TMRcvPrepared({r})", s._replace(tm_prepared=_set(s.tm_prepared, r))
        # TMCommit: every RM prepared; the TM commits and says so.
        if s.tm == INIT and all(s.tm_prepared):
            yield "TMCommit", s._replace(tm=COMMITTED, msg_commit=True)
        # TMAbort: the TM may abort while in init.
        if s.tm == INIT:
            yield "TMAbort", s._replace(tm=ABORTED, msg_abort=True)
        for r in range(n):
            if s.rm[r] == WORKING:
                # RMPrepare(r): a working RM prepares and tells the TM.
                yield f"RMPrepare({r})", s._replace(rm=_put(s.rm, r, PREPARED),
                                                     msg_prepared=_set(s.msg_prepared, r))
                # RMChooseToAbort(r): a working RM may abort on its own.
                yield f"RMChooseToAbort({r})", s._replace(rm=_put(s.rm, r, ABORTED))
            # RMRcvCommitMsg(r) / RMRcvAbortMsg(r): an RM obeys the TM's decision.
            if s.msg_commit and s.rm[r] != COMMITTED:
                yield f"RMRcvCommitMsg({r})", s._replace(rm=_put(s.rm, r, COMMITTED))
            if s.msg_abort and s.rm[r] != ABORTED:
                yield f"RMRcvAbortMsg({r})", s._replace(rm=_put(s.rm, r, ABORTED))

    def state_violations(self, s: TwoPhaseState) -> dict[str, list[str]]:
        # TCConsistent: no RM has committed while another has aborted.
        if COMMITTED in s.rm and ABORTED in s.rm:
            return {"TCConsistent": ["one resource manager committed, another aborted"]}
        return {}

    def transition_violations(self, before, label, after) -> dict[str, list[str]]:
        return {}

    def canonical(self, s: TwoPhaseState) -> TwoPhaseState:
        return s

    def orbit_size(self, s: TwoPhaseState) -> int:
        return 1

    def _rows(self, s: TwoPhaseState):
        return sorted(zip(s.rm, s.tm_prepared, s.msg_prepared, strict=True))

    def _canonical(self, s: TwoPhaseState) -> TwoPhaseState:
        rows = self._rows(s)
        return TwoPhaseState(tuple(r[0] for r in rows), s.tm, tuple(r[1] for r in rows),
                             tuple(r[2] for r in rows), s.msg_commit, s.msg_abort)

    def _orbit_size(self, s: TwoPhaseState) -> int:
        rows = self._rows(s)
        size = factorial(self.n)
        for row in set(rows):
            size //= factorial(rows.count(row))
        return size


def _set(t: tuple[bool, ...], k: int) -> tuple[bool, ...]:
    return t[:k] + (True,) + t[k + 1:]


def _put(t: tuple[str, ...], k: int, v: str) -> tuple[str, ...]:
    return t[:k] + (v,) + t[k + 1:]


__all__ = ["TwoPhase", "TwoPhaseState"]
