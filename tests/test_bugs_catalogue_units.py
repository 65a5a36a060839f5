"""Every catalogue bug is detectable: a short hand-written step sequence on the default
cloud where the buggy tracker agrees with the spec up to the last step and diverges
there (outcome or observation), while the reference tracker agrees all along."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from movecheck.model import ReferenceTracker, bugs
from movecheck.model.bugs import CATALOGUE, MODULES, PENDING, PENDING_CATALOGUE
from movecheck.spec import Spec
from movecheck.spec.cloudfile import default_cloud
from movecheck.spec.vocab import Step


def boot(i, h, f):
    return Step("boot", instance=i, host=h, flavor=f)


def mig(kind, m="m1"):
    return Step(kind, migration=m)


def host(kind, h):
    return Step(kind, host=h)


def resize(i, dest, f, m="m1"):
    return Step("resize_claim", migration=m, instance=i, dest=dest, flavor=f)


def live(i, dest, m="m1"):
    return Step("live_claim", migration=m, instance=i, dest=dest)


def evacuate(i, dest, m="m1"):
    return Step("evacuate_start", migration=m, instance=i, dest=dest)


LANDED = [mig("resize_migrate"), mig("resize_migrated")]
FINISHED = LANDED + [mig("finish_resize")]
EVACUATING = [boot("i1", "h1", "small"), host("host_down", "h1"), evacuate("i1", "h2"),
              mig("rebuild_claim")]
LIVE_RUNNING = [live("i1", "h2"), mig("live_queue"), mig("live_prepare"), mig("live_run")]

#: Booted small, resized to large and confirmed, then back down to small (a resize
#: below the boot flavor's root disk is refused, so this is how an instance gives
#: up devices in a resize).
BACK_TO_SMALL = [boot("i1", "h1", "small"), resize("i1", "h2", "large"), *FINISHED,
                 mig("confirm"), mig("confirm_finish"), resize("i1", "h1", "small", "m2"),
                 mig("resize_migrate", "m2"), mig("resize_migrated", "m2"),
                 mig("finish_resize", "m2"), mig("confirm", "m2"), mig("confirm_finish", "m2")]

#: The witness of each bug: the buggy tracker diverges exactly at the last step.
WITNESS: dict[str, list[Step]] = {
    "lp1417667_evacuate_no_claim": EVACUATING,
    "lp1518200_evacuated_not_cleaned": EVACUATING + [mig("finish_evacuation"),
                                                     host("host_up", "h1")],
    "lp1519001_double_counted_vcpus": [boot("i1", "h1", "small"), host("audit", "h1")],
    # failed after the claim (error at accepted is the conductor's, over already)
    "lp1543123_failed_in_progress": [boot("i1", "h1", "small"), live("i1", "h2"),
                                     mig("live_queue"), mig("fail"), live("i1", "h2", "m2")],
    "lp1549984_rejected_claim_keeps_devices": [boot("i1", "h1", "small"), boot("i2", "h1", "small"),
                                               resize("i1", "h1", "large")],
    "lp1583720_completed_in_progress": [boot("i1", "h1", "small"), *LIVE_RUNNING,
                                        mig("live_complete"), live("i1", "h1", "m2")],
    "lp1588378_cancelled_in_progress": [boot("i1", "h1", "small"), live("i1", "h2"),
                                        mig("live_queue"), mig("live_abort"), live("i1", "h2", "m2")],
    "lp1600304_stale_migration_counted": [boot("i1", "h1", "small"), host("host_down", "h1"),
                                          evacuate("i1", "h2"), host("audit", "h2")],
    "lp1607219_revert_keeps_new_devices": [boot("i1", "h1", "small"), resize("i1", "h2", "large"),
                                           *FINISHED, mig("revert"), mig("revert_finish")],
    "lp1641750_confirm_keeps_source_devices": BACK_TO_SMALL,
    "lp1647370_confirm_needs_audit": [boot("i1", "h1", "small"), resize("i1", "h2", "large"),
                                      *FINISHED, mig("confirm"), mig("confirm_finish")],
    "lp1707071_confirm_leaks_source_usage": [boot("i1", "h1", "small"),
                                             resize("i1", "h2", "large"), *FINISHED,
                                             mig("confirm"), mig("confirm_finish")],
    "lp1764883_restart_during_evacuation": EVACUATING + [host("host_up", "h1")],
    "lp1791075_audit_ignores_rebuilding": EVACUATING + [host("audit", "h2")],
    "lp1845146_audit_drops_live_claim": [boot("i1", "h1", "small"), live("i1", "h2"),
                                         host("audit", "h2")],
    "lp1879878_confirm_status_outside_lock": [boot("i1", "h1", "small"),
                                              resize("i1", "h2", "large"), *FINISHED,
                                              mig("confirm"), mig("confirm_finish")],
    "lp1896463_evacuation_outside_lock": EVACUATING + [mig("finish_evacuation")],
    "lp1944759_old_flavor_after_host_change": [boot("i1", "h1", "small"),
                                               resize("i1", "h2", "large"), *LANDED,
                                               host("audit", "h1")],
    "lp1953359_dest_audit_without_context": [boot("i1", "h1", "small"),
                                             resize("i1", "h2", "large"), *LANDED,
                                             host("audit", "h2")],
    "lp1368201_resize_claims_no_devices": [boot("i1", "h1", "small"), resize("i1", "h2", "large")],
    "lp1512880_context_dropped_at_revert": [boot("i1", "h1", "small"), resize("i1", "h2", "large"),
                                            *FINISHED, mig("revert"), mig("revert_finish")],
    "lp1585214_confirm_frees_new_devices": BACK_TO_SMALL,
    "lp1679750_local_delete_leaks_usage": [boot("i1", "h1", "small"), host("host_down", "h1"),
                                           Step("delete", instance="i1")],
    "lp1712045_live_migration_leaks_source": [boot("i1", "h1", "small"), *LIVE_RUNNING,
                                              mig("live_complete")],
    "lp1712850_failed_resize_keeps_dest_claim": [boot("i1", "h1", "small"),
                                                 resize("i1", "h2", "large"), mig("fail")],
    # The conductor finds no host: the record must end error, not stay accepted.
    "lp1713783_restart_destroys_unstarted_evacuation": [boot("i1", "h1", "small"),
                                                        host("host_down", "h1"),
                                                        evacuate("i1", "h2"), mig("fail")],
    # Two large instances do not fit on one host: the evacuation's claim fails.
    "lp1713786_failed_rebuild_claim_leaks": [boot("i1", "h1", "large"), boot("i2", "h2", "large"),
                                             host("host_down", "h1"), evacuate("i1", "h2"),
                                             mig("rebuild_claim")],
    "lp1825537_failed_finish_resize_leaks_source": [boot("i1", "h1", "small"),
                                                    resize("i1", "h2", "large"), *LANDED,
                                                    mig("fail")],
    "lp1834349_audit_without_old_flavor": [boot("i1", "h1", "small"),
                                           resize("i1", "h2", "large"), *FINISHED,
                                           mig("confirm"), mig("confirm_finish")],
    "lp1848343_delete_during_move_leaks": [boot("i1", "h1", "small"),
                                           resize("i1", "h2", "large"), *LANDED,
                                           Step("delete", instance="i1")],
    "lp1849165_dest_audit_uses_source_devices": [boot("i1", "h1", "small"),
                                                 resize("i1", "h2", "large"), host("audit", "h2")],
    # A same-host resize holds both flavors on h2, so a small one no longer fits
    # there by memory alone (no device needed): only the capacity test refuses it.
    "lp2153425_live_claim_without_limits": [boot("i1", "h1", "small"), boot("i2", "h2", "small"),
                                            resize("i2", "h2", "large"),
                                            live("i1", "h2", "m2")],
}


def first_divergence(tracker, steps) -> int | None:
    """Index of the first step where ``tracker`` differs from the spec, or None."""
    spec = Spec(default_cloud())
    state = spec.initial()
    tracker.reset(default_cloud())
    try:
        for k, step in enumerate(steps):
            reason = spec.why_rejected(state, step)
            try:
                out = tracker.apply(step)
            except Exception:  # noqa: BLE001 - a tracker that fails is a divergence
                return k
            if out.accepted != (reason is None):
                return k
            if out.accepted:
                if spec.pick_error(state, step, out.devices) is not None:
                    return k
                state = spec.next_state(state, step, out.devices)
            else:
                state = spec.after_rejection(state, step)
            if tracker.observe() != spec.observe(state):
                return k
        return None
    finally:
        tracker.close()


def test_catalogue_has_every_bug_of_the_issue():
    # Every bug written is in the catalogue run (tests/test_mutants_catalogue.py checks
    # that a default `movecheck mutants` catches each one): none is left pending.
    assert len(CATALOGUE) >= 30 and not PENDING_CATALOGUE
    wanted = {"1417667", "1519001", "1543123", "1583720", "1549984", "1600304", "1607219",
              "1641750", "1647370", "1818914", "1845146", "1879878", "1896463", "1944759",
              "1518200", "1707071",
              # restart, failure and delete paths (issue 14)
              "1679750", "1713783", "1825537", "1848343"}
    assert wanted <= {b for e in (CATALOGUE | PENDING_CATALOGUE).values() for b in e.bugs}


def test_the_catalogue_list_is_the_folder():
    """MODULES names every bug module in model/bugs/ once, in bug-number order."""
    folder = Path(bugs.__file__).parent
    on_disk = sorted(p.stem for p in folder.glob("lp*.py"))
    assert sorted(MODULES + PENDING) == on_disk
    assert len(set(MODULES + PENDING)) == len(MODULES + PENDING)
    for names in (MODULES, PENDING):
        numbers = [int(name[2:].split("_")[0]) for name in names]
        assert numbers == sorted(numbers)
    assert not [p.name for p in folder.glob("*.py") if not p.stem.startswith(("lp", "_"))]


def test_every_bug_has_a_witness():
    assert set(WITNESS) == set(CATALOGUE) | set(PENDING_CATALOGUE)


ALL = {**CATALOGUE, **PENDING_CATALOGUE}


@pytest.mark.parametrize("name", MODULES + PENDING)
def test_module_docstring_names_bug_and_fix(name):
    mod = importlib.import_module(f"movecheck.model.bugs.{name}")
    entry = ALL[name]
    doc = mod.__doc__
    assert doc.startswith("Bug")
    assert all(b in doc.splitlines()[0] for b in entry.bugs)
    # The fixing commit, or where it is not recorded, Nova's regression test for the bug.
    regression = [f"nova/tests/functional/regressions/test_bug_{b}.py" for b in entry.bugs]
    assert all(c in doc for c in entry.fixed_by) if entry.fixed_by else any(
        r in doc for r in regression)
    assert entry.description and "\n" not in entry.description
    assert isinstance(entry.factory(), ReferenceTracker)


@pytest.mark.parametrize("name", MODULES + PENDING)
def test_witness_separates_bug_from_reference(name):
    steps = WITNESS[name]
    assert first_divergence(ReferenceTracker(), steps) is None
    assert first_divergence(ALL[name].factory(), steps) == len(steps) - 1


def catalogue_table_rows() -> list[str]:
    """The catalogue table of docs/model.md, one row per bug module (pending ones marked)."""
    rows = []
    for name, entry in ALL.items():
        pending = " (pending)" if name in PENDING_CATALOGUE else ""
        rows.append(f"| `{name}`{pending} | {', '.join(entry.bugs)} | {entry.fix or '-'} | "
                    f"{entry.description} | {len(WITNESS[name])} |")
    return sorted(rows, key=lambda r: int(r.split("`lp")[1].split("_")[0]))


def test_the_catalogue_table_in_docs_model_md_is_the_catalogue():
    text = (Path(__file__).parent.parent / "docs" / "model.md").read_text()
    table = [ln for ln in text.splitlines() if ln.startswith("| `lp")]
    assert table == catalogue_table_rows(), "\n".join(catalogue_table_rows())
