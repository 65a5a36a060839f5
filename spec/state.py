"""The state of one cloud, laid out the way the spec's rules read it (docs/one-spec.md).

A :class:`State` holds, per host, an up flag and a usage vector (the tracker's
counters), and per instance slot one :class:`Slot`: the instance's fields,
its MigrationContext and its LATEST migration record.  Older migration
records are terminal (an instance has at most one in-progress migration, and
a new one is only created when the latest is terminal), so they never change
again: they are kept apart in ``retired``, only so that their statuses stay
observable.  The Z3 reading has the same slots (:mod:`movecheck.spec.interpret.z3`)
and summarises ``retired`` by the per-slot count ``older``.

Values are the ones a rule compares and passes around: host, flavor,
instance and migration names and device-name tuples (sorted) here; integers
and Bools per device in the Z3 reading.  vm_state, migration type and status
are small integer codes in both (:data:`VM_CODE`, :data:`TY`, :data:`ST`).

``State.instances`` and ``State.migrations`` give the records in the
vocabulary's terms (:class:`~movecheck.spec.vocab.Instance`,
:class:`~movecheck.spec.vocab.Migration`), for reports and adapters.
"""

from __future__ import annotations

from typing import NamedTuple

from movecheck.spec.statuses import ALL_STATUSES
from movecheck.spec.vocab import (
    MIGRATION_TYPES,
    VM_ACTIVE,
    VM_DELETED,
    VM_ERROR,
    VM_RESIZED,
    Instance,
    Migration,
    MigrationContext,
)

Vector = tuple[int, ...]

# vm_state codes; VM_NONE = the slot was never booted.
VM_NONE, VM_ACT, VM_RSZ, VM_DEL, VM_ERR = 0, 1, 2, 3, 4
VM_CODE = {VM_ACTIVE: VM_ACT, VM_RESIZED: VM_RSZ, VM_DELETED: VM_DEL, VM_ERROR: VM_ERR}
VM_NAME = {v: k for k, v in VM_CODE.items()}

#: Status codes (alphabetical) and migration type codes (vocabulary order).
STATUSES: tuple[str, ...] = tuple(sorted(ALL_STATUSES))
ST = {s: k for k, s in enumerate(STATUSES)}
TY = {t: k for k, t in enumerate(MIGRATION_TYPES)}


class _SlotFields(NamedTuple):

    iid: str  # the instance's id (fixed per slot)
    vm: int  # VM_NONE, VM_ACT, VM_RSZ, VM_DEL or VM_ERR
    host: str | None
    flavor: str | None
    oldf: str | None  # old/new flavor while resizing
    newf: str | None
    dev: tuple[str, ...]  # devices the instance holds on its host
    mc: bool  # it has a MigrationContext (for its latest migration)
    mco: tuple[str, ...]  # the context's old devices (on the source)
    mcn: tuple[str, ...]  # the context's new devices (on the dest)
    mx: bool  # a migration record exists
    mid: str | None  # its id
    mseq: int  # its creation number (1 = the cloud's first migration)
    mtype: int
    mst: int
    msrc: str | None
    mdst: str | None
    mold: str | None
    mnew: str | None
    older: int  # retired records still in progress (0 in every reachable state)
    # An evacuation whose source restarted before the instance landed: the source
    # dropped the instance (``_destroy_evacuated_instances``), which charges nothing
    # there; the rebuild on the destination is still to finish.
    gone: bool = False
    # Waiting for the source's clean-up: an evacuated instance's dead source still
    # holds its old flavor and devices (in the instance's Placement allocation) until
    # that host restarts, whatever the instance does meanwhile.
    wx: bool = False
    wsrc: str | None = None  # the source that still holds the instance
    wflv: str | None = None  # the flavor it holds there
    wdev: tuple[str, ...] = ()  # the devices it holds there
    # The flavor it was booted with: its root disk is the instance's image_min_disk
    # (nova/utils.py get_system_metadata_from_image, max(image min_disk, root_gb)),
    # below which API.resize refuses a flavor (FlavorDiskSmallerThanMinDisk).
    bootf: str | None = None


class Slot(_SlotFields):
    """One instance slot: the instance and its latest migration record.

    Unlike the fields, which are the tuple, a slot's ``__dict__`` only memoises what
    the rules derive from it (``in_progress``, the holds, ...): slots never change,
    and most of them are shared by a state and its successors.
    """

    def __reduce__(self):  # pickle the fields, not the memo
        return (Slot, tuple(self))

    @staticmethod
    def empty(iid: str) -> Slot:
        return Slot(iid, VM_NONE, None, None, None, None, (), False, (), (), False, None, 0,
                    0, 0, None, None, None, None, 0)

    def instance(self) -> Instance | None:
        """The instance record (None: never booted)."""
        if self.vm == VM_NONE:
            return None
        mc = MigrationContext(self.mid, self.mco, self.mcn) if self.mc else None
        return Instance(self.iid, VM_NAME[self.vm], self.host, self.flavor, self.oldf, self.newf,
                        self.dev, mc)

    def migration(self) -> Migration | None:
        """The latest migration record (None: the instance never moved)."""
        if not self.mx:
            return None
        return Migration(self.mid, self.iid, MIGRATION_TYPES[self.mtype], self.msrc, self.mdst,
                         self.mold, self.mnew, STATUSES[self.mst])


class State(NamedTuple):
    """One state of the cloud; hashable and compact (the explorer stores millions)."""

    up: tuple[bool, ...]  # per host, in cloud order
    usage: tuple[Vector, ...]  # per host: one int per resource class
    slots: tuple[Slot, ...]  # per instance slot, in cloud order
    retired: tuple[tuple[int, Migration], ...] = ()  # (creation number, record), in order

    @property
    def instances(self) -> tuple[Instance | None, ...]:
        """Per instance slot: the instance record, None if never booted."""
        return tuple(sl.instance() for sl in self.slots)

    @property
    def migrations(self) -> tuple[Migration, ...]:
        """Every migration record, in creation order."""
        latest = [(sl.mseq, sl.migration()) for sl in self.slots if sl.mx]
        if not self.retired:
            return tuple(m for _, m in sorted(latest, key=lambda p: p[0]))
        return tuple(m for _, m in sorted(list(self.retired) + latest, key=lambda p: p[0]))

    @property
    def nmig(self) -> int:
        """How many migration records exist."""
        return len(self.retired) + sum(1 for sl in self.slots if sl.mx)


__all__ = ["STATUSES", "ST", "TY", "VM_ACT", "VM_CODE", "VM_DEL", "VM_ERR", "VM_NAME", "VM_NONE",
           "VM_RSZ", "Slot", "State", "Vector"]
