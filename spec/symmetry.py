"""Symmetry of a cloud: which renamings of hosts and instances the spec cannot tell apart.

Two hosts are interchangeable when they have the same inventories, the same
number of devices and the same initial up flag; every instance slot is
interchangeable with every other (a cloud lists instance ids, nothing else).
Renaming interchangeable hosts (and their devices, by position: device ``k``
of one host becomes device ``k`` of the other) and instance ids maps every
step and every state of the spec to a step and a state of the spec, keeps the
initial state, and keeps every invariant's verdict: it is an automorphism of
the state graph, the symmetry sets of TLC (``Permutations``) and the
``symmetry`` of Stateright.  The explorer keeps one canonical representative
per orbit; the number of states the full search would visit is the sum of the
orbit sizes of the representatives.

Migration ids are not a symmetry of this spec: a new migration takes the next
unused id (``Cloud.migration_ids``), so the state with only ``m2`` behaves
differently from the one with only ``m1``, and a renaming of ids does not
commute with the steps that create migrations.

This is the one module that knows how to permute a state (the slot layout of
:mod:`movecheck.spec.state`: per instance slot one record holding the
instance, its MigrationContext and its latest migration; older terminal
migrations in ``retired`` as (creation number, Migration)); the explorer sees
only :meth:`Symmetry.canonical` and :meth:`Symmetry.orbit_size`.
"""

from __future__ import annotations

import math
from itertools import permutations, product
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from movecheck.spec import Spec


#: A state of the spec (images are built with the state's own class).
State = Any


def _fixing(keys: tuple) -> int:
    """How many instance permutations fix a state whose sorted instance keys are ``keys``:
    instances with equal records and no migrations are interchangeable."""
    same = run = 1
    for a, b in zip(keys, keys[1:], strict=False):
        if a == b:
            run += 1
            same *= run
        else:
            run = 1
    return same


def _host_class(host) -> tuple:
    return (host.inventories, len(host.devices), host.up)


class Symmetry:
    """The symmetry group of one spec's cloud, and canonical representatives of orbits.

    The group is (permutations of each class of interchangeable hosts) x
    (permutations of the instance slots).  The canonical representative of a
    state is the least image under the group, ordering hosts first by
    (up, usage) and instances by their records; it is found by trying only the
    host permutations that sort those host signatures and sorting instances
    for each, not by trying the whole group.
    """

    def __init__(self, spec: Spec):
        self.spec = spec
        cloud = spec.cloud
        hosts = cloud.hosts
        self.nhosts = len(hosts)
        classes: dict[tuple, list[int]] = {}
        for k, h in enumerate(hosts):
            classes.setdefault(_host_class(h), []).append(k)
        self.host_classes = [c for c in classes.values()]
        # Every host permutation of the group, as p[k] = position host k goes to.
        perms = []
        for choice in product(*(permutations(c) for c in self.host_classes)):
            p = list(range(self.nhosts))
            for cls, img in zip(self.host_classes, choice, strict=True):
                for a, b in zip(cls, img, strict=True):
                    p[a] = b
            perms.append(tuple(p))
        self.identity = tuple(range(self.nhosts))
        self.host_perms = perms
        self.instance_ids = cloud.instances
        self._last: tuple[Any, int] = (None, 1)
        self.group_size = len(perms) * math.factorial(len(cloud.instances))
        names = cloud.host_names
        # Per permutation: the inverse (new position -> old), the host renaming
        # and the device renaming (device k of a host -> device k of its image).
        self._inverse = {p: tuple(sorted(range(self.nhosts), key=lambda k: p[k])) for p in perms}
        self._host_map = {p: {names[k]: names[p[k]] for k in range(self.nhosts)} for p in perms}
        self._position = {p: {names[k]: p[k] for k in range(self.nhosts)} for p in perms}
        same_devices = all(len({hosts[k].devices for k in c}) == 1 for c in self.host_classes)
        self._device_map = None if same_devices else {
            p: {names[k]: dict(zip(hosts[k].devices, hosts[p[k]].devices, strict=True))
                for k in range(self.nhosts)}
            for p in perms
        }

    # ------------------------------------------------------------------ canonical form

    def canonical(self, s: State) -> State:
        """The least image of ``s`` under the group (``s`` itself when it is least)."""
        image, stab = self._canonical(s)
        # The explorer asks for the orbit size of the image it was just given
        # (when the image is new): remember its stabiliser.
        self._last = (image, stab)
        return image

    def orbit_size(self, s: State) -> int:
        """How many distinct states the group maps ``s`` to: |G| / |stabiliser of s|."""
        last, stab = self._last
        if last is not s:
            stab = self._canonical(s)[1]
        return self.group_size // stab

    def _candidates(self, s: State) -> list[tuple[int, ...]]:
        """The host permutations that sort the host signatures (up, usage) within classes."""
        if len(self.host_perms) == 1:
            return self.host_perms
        up, usage = s.up, s.usage
        sig = [(up[k], usage[k]) for k in range(self.nhosts)]
        p = list(range(self.nhosts))
        for cls in self.host_classes:
            if len(cls) == 1:
                continue
            ordered = sorted(cls, key=sig.__getitem__)
            for a, b in zip(ordered, ordered[1:], strict=False):
                if sig[a] == sig[b]:
                    return self._tied_candidates(sig)
            for pos, k in zip(cls, ordered, strict=True):
                p[k] = pos
        return [tuple(p)]

    def _tied_candidates(self, sig) -> list[tuple[int, ...]]:
        best = None
        out: list[tuple[int, ...]] = []
        for p in self.host_perms:
            inv = self._inverse[p]
            key = [sig[inv[j]] for j in range(self.nhosts)]
            if best is None or key < best:
                best, out = key, [p]
            elif key == best:
                out.append(p)
        return out

    def _canonical(self, s) -> tuple[object, int]:
        """(canonical image, size of the stabiliser of ``s``)."""
        cands = self._candidates(s)
        retired_of: dict[str, tuple[int, ...]] = {}
        for seq, m in s.retired:
            retired_of[m.instance] = retired_of.get(m.instance, ()) + (seq,)
        best = None
        hits = 0
        for p in cands:
            order, keys = self._slot_order(s, p, retired_of)
            if len(cands) == 1:
                return self._slot_build(s, p, order), _fixing(keys)
            pos = self._position[p]
            ids = self._slot_ids(s, order)
            key = (keys, tuple((seq, ids.get(m.instance, m.instance), m.migration_type,
                                pos[m.source], pos[m.dest], m.old_flavor, m.new_flavor, m.status)
                               for seq, m in s.retired))
            if best is None or key < best[0]:
                best, hits = (key, p, order), 1
            elif key == best[0]:
                hits += 1
        key, p, order = best
        return self._slot_build(s, p, order), hits * _fixing(key[0])

    def _devs(self, dmap, host, devs):
        if dmap is None or not devs:
            return devs
        out = tuple(dmap[host][d] for d in devs)
        return tuple(sorted(out)) if list(devs) == sorted(devs) else out

    def _slot_order(self, s, p, retired_of):
        pos = self._position[p]
        dmap = None if self._device_map is None else self._device_map[p]
        keyed = []
        for k, sl in enumerate(s.slots):
            if sl.vm == 0 and not sl.mx:
                keyed.append(((0,), k))
                continue
            keyed.append(((1, sl.vm, pos.get(sl.host, -1), sl.flavor or "", sl.oldf or "",
                           sl.newf or "", self._devs(dmap, sl.host, sl.dev), sl.mc,
                           self._devs(dmap, sl.msrc, sl.mco), self._devs(dmap, sl.mdst, sl.mcn),
                           sl.mx, sl.mid or "", sl.mseq, sl.mtype, sl.mst, pos.get(sl.msrc, -1),
                           pos.get(sl.mdst, -1), sl.mold or "", sl.mnew or "", sl.older,
                           sl.gone, sl.wx, pos.get(sl.wsrc, -1), sl.wflv or "",
                           self._devs(dmap, sl.wsrc, sl.wdev), sl.bootf or "",
                           retired_of.get(sl.iid, ())), k))
        keyed.sort()
        return [k for _, k in keyed], tuple(key for key, _ in keyed)

    def _slot_ids(self, s, order):
        ids = self.instance_ids
        return {ids[old]: ids[new] for new, old in enumerate(order) if new != old}

    def _slot_build(self, s, p, order):
        ident = p == self.identity
        id_map = self._slot_ids(s, order)
        if ident and not id_map:
            return s
        hmap = self._host_map[p]
        dmap = None if self._device_map is None or ident else self._device_map[p]
        ids = self.instance_ids
        slots = []
        for new, old in enumerate(order):
            sl = s.slots[old]
            if not ident:
                sl = sl._replace(
                    host=hmap.get(sl.host, sl.host), msrc=hmap.get(sl.msrc, sl.msrc),
                    mdst=hmap.get(sl.mdst, sl.mdst), dev=self._devs(dmap, sl.host, sl.dev),
                    mco=self._devs(dmap, sl.msrc, sl.mco), mcn=self._devs(dmap, sl.mdst, sl.mcn),
                    wsrc=hmap.get(sl.wsrc, sl.wsrc), wdev=self._devs(dmap, sl.wsrc, sl.wdev))
            if sl.iid != ids[new]:
                sl = sl._replace(iid=ids[new])
            slots.append(sl)
        retired = s.retired
        if retired and (id_map or not ident):
            retired = tuple((seq, m._replace(instance=id_map.get(m.instance, m.instance),
                                             source=hmap[m.source], dest=hmap[m.dest]))
                            for seq, m in retired)
        if ident:
            return type(s)(s.up, s.usage, tuple(slots), retired)
        inv = self._inverse[p]
        return type(s)(tuple(s.up[inv[j]] for j in range(self.nhosts)),
                       tuple(s.usage[inv[j]] for j in range(self.nhosts)), tuple(slots), retired)

    def apply(self, s, p: tuple[int, ...], order: tuple[int, ...]):
        """The image of ``s`` under host permutation ``p`` and instance slot permutation
        ``order`` (new slot k holds old slot order[k]); for tests of the canonical form."""
        hmap = self._host_map[p]
        dmap = None if self._device_map is None else self._device_map[p]
        ids = self.instance_ids
        id_map = {ids[old]: ids[new] for new, old in enumerate(order)}
        slots = tuple(
            s.slots[old]._replace(
                iid=ids[new], host=hmap.get(s.slots[old].host, s.slots[old].host),
                msrc=hmap.get(s.slots[old].msrc, s.slots[old].msrc),
                mdst=hmap.get(s.slots[old].mdst, s.slots[old].mdst),
                dev=self._devs(dmap, s.slots[old].host, s.slots[old].dev),
                mco=self._devs(dmap, s.slots[old].msrc, s.slots[old].mco),
                mcn=self._devs(dmap, s.slots[old].mdst, s.slots[old].mcn),
                wsrc=hmap.get(s.slots[old].wsrc, s.slots[old].wsrc),
                wdev=self._devs(dmap, s.slots[old].wsrc, s.slots[old].wdev))
            for new, old in enumerate(order))
        inv = self._inverse[p]
        return type(s)(tuple(s.up[inv[j]] for j in range(self.nhosts)),
                       tuple(s.usage[inv[j]] for j in range(self.nhosts)), slots,
                       tuple((seq, m._replace(instance=id_map[m.instance], source=hmap[m.source],
                                              dest=hmap[m.dest])) for seq, m in s.retired))


def symmetry_of(spec) -> Symmetry:
    """The symmetry of ``spec``'s cloud."""
    return Symmetry(spec)


__all__ = ["Symmetry", "symmetry_of"]
