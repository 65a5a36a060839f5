"""Visited sets of 64-bit fingerprints, as TLC keeps them, and the odds of a missed state.

The explorer stores, per visited state, its 64-bit fingerprint and its
parent's (to rebuild a trace), not the state: 16 bytes in a shared table
(:class:`SharedTable`, used by parallel workers) or a dict entry (one
process).  Two distinct states with the same fingerprint would make the
second look visited and its successors might be missed; TLC reports the
probability of that, and so does :func:`collision_probability`.
``--full-states`` keeps whole states instead, for certainty.

A fingerprint is Python's hash of the canonical state (a tuple of tuples of
ints and strings: xxHash-style mixing in C), 64 bits.  Strings hash with a
per-run seed, so fingerprints differ between runs (as with TLC's ``-fp``
seeds), never between the workers of one run: they are forked from one
process.
"""

from __future__ import annotations

import mmap
import os
import tempfile

MASK = (1 << 64) - 1
STRIPES = 64  # sub-tables, each under its own lock; fingerprint bits 0-5 choose one
HEADER = STRIPES  # words before the slots: one entry count per stripe


def fingerprint(state) -> int:
    """The 64-bit fingerprint of a (canonical) state; never 0 (0 marks an empty slot)."""
    return (hash(state) & MASK) or 1


def collision_probability(distinct: int, generated: int) -> float:
    """TLC's "calculated (optimistic)" estimate: distinct x (generated - distinct) / 2^64.

    ``generated`` counts every successor looked up in the visited set
    (transitions plus the initial state), ``distinct`` the fingerprints stored.
    Each lookup of a state not yet seen could hit one of ``distinct`` stored
    fingerprints by chance.  (tlc2.tool.ModelChecker reports the same product.)
    """
    return distinct * max(generated - distinct, 0) / 2.0**64


class SharedTable:
    """Open-addressing table of (fingerprint, parent fingerprint) in shared memory.

    The memory is a file mapped by every worker (in /dev/shm where there is
    one); ``STRIPES`` sub-tables each have a lock, so two workers never insert
    into the same sub-table at once.  A lookup that finds its fingerprint does
    not lock: 8-byte aligned words are written whole, and a lookup that sees
    an empty slot retries under the lock before inserting.
    """

    def __init__(self, slots: int, locks, path: str | None = None):
        assert slots & (slots - 1) == 0 and slots >= STRIPES
        self.slots = slots
        self.locks = locks
        self.stripe_slots = slots // STRIPES
        size = 8 * (HEADER + 2 * slots)
        if path is None:
            where = "/dev/shm" if os.path.isdir("/dev/shm") else None
            fd, path = tempfile.mkstemp(prefix="movecheck-fp-", dir=where)
            os.ftruncate(fd, size)
            self.owner = True
        else:
            fd = os.open(path, os.O_RDWR)
            self.owner = False
        self.path = path
        self.map = mmap.mmap(fd, size)
        os.close(fd)
        self.words = memoryview(self.map).cast("Q")

    def insert(self, fp: int, parent: int) -> bool:
        """Add ``fp`` (reached from ``parent``); True if it was not there."""
        s = fp & (STRIPES - 1)
        w = self.words
        mask = self.stripe_slots - 1
        base = HEADER + 2 * s * self.stripe_slots
        i = (fp >> 6) & mask
        while True:  # lock-free look-up: most successors were seen before
            x = w[base + 2 * i]
            if x == fp:
                return False
            if x == 0:
                break
            i = (i + 1) & mask
        with self.locks[s]:
            while True:
                j = base + 2 * i
                x = w[j]
                if x == fp:
                    return False
                if x == 0:
                    if w[s] + 1 >= self.stripe_slots:
                        raise MemoryError("the fingerprint table is full")
                    w[j + 1] = parent
                    w[j] = fp
                    w[s] += 1
                    return True
                i = (i + 1) & mask

    def __contains__(self, fp: int) -> bool:
        s = fp & (STRIPES - 1)
        w = self.words
        mask = self.stripe_slots - 1
        base = HEADER + 2 * s * self.stripe_slots
        i = (fp >> 6) & mask
        while True:
            x = w[base + 2 * i]
            if x == fp:
                return True
            if x == 0:
                return False
            i = (i + 1) & mask

    def parent(self, fp: int) -> int | None:
        s = fp & (STRIPES - 1)
        w = self.words
        mask = self.stripe_slots - 1
        base = HEADER + 2 * s * self.stripe_slots
        i = (fp >> 6) & mask
        while True:
            x = w[base + 2 * i]
            if x == fp:
                return w[base + 2 * i + 1]
            if x == 0:
                return None
            i = (i + 1) & mask

    def __len__(self) -> int:
        return sum(self.words[:STRIPES])

    def fullest(self) -> float:
        """The load factor of the fullest sub-table (inserting fails at 1.0)."""
        return max(self.words[:STRIPES]) / self.stripe_slots

    def items(self):
        """Every (fingerprint, parent) stored."""
        w = self.words
        for j in range(HEADER, HEADER + 2 * self.slots, 2):
            if w[j]:
                yield w[j], w[j + 1]

    def close(self) -> None:
        self.words.release()
        self.map.close()
        if self.owner:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def bytes_per_state(slots: int, states: int) -> float:
    return 16 * slots / max(states, 1)


__all__ = ["SharedTable", "collision_probability", "fingerprint", "MASK", "STRIPES"]
