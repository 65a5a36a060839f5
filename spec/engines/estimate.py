"""How big a cloud's state space is likely to be, and whether searching it fits in memory.

The number of reachable states grows roughly exponentially in hosts,
instances and migrations, and their products.  :func:`estimate_states` is a
fit of ``ln(states)`` over ``1, H, I, M, HI, HM, IM`` to the exact counts of
the default cloud's family (hosts x instances x migrations, measured by
``movecheck explore``; table :data:`MEASURED`); it is within a factor of 2.5
of every measured count.  A cloud file with other flavors or capacities is
estimated by its shape alone: the figure says "about", and only decides
whether to start.
"""

from __future__ import annotations

import math
import os

from movecheck.spec.errors import InputError
from movecheck.spec.vocab import Cloud

#: Exact state counts (no symmetry) of default_cloud(hosts, instances, migrations),
#: measured on this release's spec (3 x 3 x 1 and 3 x 2 x 2 are left to the fit).
MEASURED = {
    (1, 1, 1): 50, (2, 1, 1): 1068, (1, 2, 1): 384, (3, 1, 1): 5816, (2, 2, 1): 17844,
    (2, 2, 2): 756100, (3, 2, 1): 144320, (1, 1, 2): 234, (2, 1, 2): 20160, (1, 2, 2): 2552,
    (1, 3, 1): 2294, (3, 1, 2): 196304, (1, 1, 3): 1138,
}

#: Coefficients of ln(states) ~ 1, H, I, M, H*I, H*M, I*M (least squares over the
#: previous release's counts; the estimate is about the order of magnitude).
_COEF = (2.0548, 0.3344, 0.201, -0.807, 0.6239, 1.169, 0.9459)

#: Bytes of memory per stored state: fingerprint and parent in the visited set, the
#: state itself while it waits in the queue (about a third of them at the widest
#: level), the cache of already canonicalised successors.  Measured: 649 MB for the
#: 763,186 states of 3 hosts x 2 instances x 2 migrations with two workers, both
#: interpreters included; whole states in the visited set cost several times more.
BYTES_FINGERPRINT = 850
BYTES_FULL_STATE = 2500


def estimate_states(cloud: Cloud) -> int:
    """About how many distinct states (without symmetry) the cloud reaches."""
    h, i, m = len(cloud.hosts), len(cloud.instances), cloud.max_migrations
    if (h, i, m) in MEASURED:
        return MEASURED[(h, i, m)]
    x = (1, h, i, m, h * i, h * m, i * m)
    return round(math.exp(min(sum(c * f for c, f in zip(_COEF, x, strict=True)), 700.0)))


def available_memory() -> int:
    """Bytes of memory available to start new work (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40  # unknown: do not refuse


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n < 1e15 else f"{n / 1e9:.0e} GB"


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"{n:.0e}"


def check_fits(cloud: Cloud, *, max_states: int | None = None, symmetry: bool = True,
               full_states: bool = False, workers: int = 1, **_: object) -> None:
    """Raise InputError (exit 2) if the search would not fit in the memory available."""
    from movecheck.spec import Spec
    from movecheck.spec.symmetry import Symmetry

    full = estimate_states(cloud)
    group = Symmetry(Spec(cloud)).group_size if symmetry else 1
    stored = max(1, full // group)
    per_state = BYTES_FULL_STATE if full_states else BYTES_FINGERPRINT
    bounded = stored if max_states is None else min(stored, max_states)
    need = bounded * per_state
    have = available_memory()
    if need <= have:
        return
    fits = max(1000, int(have * 0.8 / per_state))
    what = (f"the cloud has about {_count(full)} states" +
            (f" ({_count(stored)} up to symmetry)" if group > 1 else ""))
    raise InputError(
        f"{what}; exploring {_count(bounded)} of them needs about {_gb(need)} of memory and "
        f"{_gb(have)} is available: bound the search with --max-states {fits:,} (the report "
        f"then says it is not exhaustive) or explore a smaller cloud")


__all__ = ["estimate_states", "check_fits", "available_memory", "MEASURED"]
