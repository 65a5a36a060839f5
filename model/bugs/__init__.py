"""The bug catalogue: buggy trackers, each one historical Nova bug put back into the reference.

One module per bug, in the spirit of CrossHair's ``bugs_detected/``: the module
docstring names the Launchpad bug, the Nova commit that fixed it (or, where
the commit is not recorded, Nova's regression test for the bug) and what went
wrong; the module's ``Tracker`` is the reference tracker with
one small, recognisable change (one overridden method or one status list) and
``factory()`` builds it.  ``movecheck mutants`` runs conformance against each
and must catch every one; tests/test_bugs_catalogue_units.py pins a short step
sequence per bug where it diverges from the spec and the reference does not.

Race bugs (1834349, 1879878, 1896463) are made deterministic: the module runs the
periodic audit inside the window that the bug report describes, so a
sequential conformance run sees the effect of the interleaving.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

#: Module names, in catalogue order (by bug number).
MODULES = (
    "lp1368201_resize_claims_no_devices",
    "lp1417667_evacuate_no_claim",
    "lp1512880_context_dropped_at_revert",
    "lp1518200_evacuated_not_cleaned",
    "lp1519001_double_counted_vcpus",
    "lp1543123_failed_in_progress",
    "lp1549984_rejected_claim_keeps_devices",
    "lp1583720_completed_in_progress",
    "lp1585214_confirm_frees_new_devices",
    "lp1588378_cancelled_in_progress",
    "lp1600304_stale_migration_counted",
    "lp1607219_revert_keeps_new_devices",
    "lp1641750_confirm_keeps_source_devices",
    "lp1647370_confirm_needs_audit",
    "lp1679750_local_delete_leaks_usage",
    "lp1707071_confirm_leaks_source_usage",
    "lp1712045_live_migration_leaks_source",
    "lp1712850_failed_resize_keeps_dest_claim",
    "lp1713783_restart_destroys_unstarted_evacuation",
    "lp1713786_failed_rebuild_claim_leaks",
    "lp1764883_restart_during_evacuation",
    "lp1791075_audit_ignores_rebuilding",
    "lp1825537_failed_finish_resize_leaks_source",
    "lp1834349_audit_without_old_flavor",
    "lp1845146_audit_drops_live_claim",
    "lp1848343_delete_during_move_leaks",
    "lp1849165_dest_audit_uses_source_devices",
    "lp1879878_confirm_status_outside_lock",
    "lp1896463_evacuation_outside_lock",
    "lp1944759_old_flavor_after_host_change",
    "lp1953359_dest_audit_without_context",
    "lp2153425_live_claim_without_limits",
)

#: Bug modules written and witnessed (tests/test_bugs_catalogue_units.py) but not
#: in the catalogue run, because a default conformance run does not reliably
#: generate their situation (``movecheck mutants`` would report them escaped).
#: Empty: every bug written is caught by a default run.
PENDING: tuple[str, ...] = ()


class CatalogueEntry(NamedTuple):
    """``factory`` builds the buggy tracker; ``bugs`` are Launchpad IDs; ``description``
    says in one sentence what goes wrong; ``fixed_by`` are the fixing Nova commits."""

    factory: Callable[[], object]
    bugs: tuple[str, ...]
    description: str
    fixed_by: tuple[str, ...] = ()

    @property
    def fix(self) -> str:
        """The fixing commits as one string (``"dc0221d724, 4ee4f9f2ec"``)."""
        return ", ".join(self.fixed_by)


def _load(names: tuple[str, ...] = MODULES) -> dict[str, CatalogueEntry]:
    out = {}
    for name in names:
        mod = importlib.import_module(f"{__name__}.{name}")
        out[name] = CatalogueEntry(mod.factory, mod.BUGS, mod.SUMMARY, mod.FIXED_BY)
    return out


#: {name: CatalogueEntry(factory, bugs, description, fixed_by)}, in bug order.
CATALOGUE: dict[str, CatalogueEntry] = _load()

#: The pending bugs, built the same way (not run by ``movecheck mutants``).
PENDING_CATALOGUE: dict[str, CatalogueEntry] = _load(PENDING)

__all__ = ["CATALOGUE", "MODULES", "PENDING", "PENDING_CATALOGUE", "CatalogueEntry"]
