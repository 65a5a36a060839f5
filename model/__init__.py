"""movecheck.model: a reference resource tracker built the way Nova's is.

- :mod:`.records`          instance and migration records (``nova/objects``)
- :mod:`.store`            the records in SQLite (``nova/db``)
- :mod:`.resource_tracker` per-host ResourceTracker, claims, the audit
  (``nova/compute/resource_tracker.py``, ``nova/compute/claims.py``)
- :mod:`.compute`          API / conductor / compute manager, one method per step
- :mod:`.tracker`          the conformance adapter (:func:`reference_factory`)
- :mod:`.bugs`             the catalogue of historical Nova bugs, one tracker each

It does not import the spec's step functions (``movecheck.spec.steps``,
``movecheck.spec.invariants``), so that conformance between the two means
something.
"""

from movecheck.model.tracker import ReferenceTracker, reference_factory, reference_file_factory

__all__ = ["ReferenceTracker", "reference_factory", "reference_file_factory"]
