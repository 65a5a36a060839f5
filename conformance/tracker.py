"""The tracker adapter contract (docs/adapters.md, "The contract").

A tracker is anything with these four methods and a ``capabilities`` set.
Conformance drives it step by step and compares it with the spec; it compares
only the observation parts the tracker declares.

- ``reset(cloud)`` starts a fresh scenario (all hosts as configured, nothing booted);
- ``apply(step)`` performs one step atomically and returns an :class:`Outcome`:
  accepted (with the device names a claim picked) or rejected (with a reason);
  a tracker must reject exactly the steps the spec rejects;
- ``observe()`` returns an :class:`Observation` (usage, and where it can tell:
  devices, migrations, instances, allocations per consumer);
- ``close()`` releases resources (processes, databases).

``usage_level`` (optional attribute, :data:`movecheck.spec.allocations.USAGE_LEVELS`)
says what its usage counts: ``"placement"`` (the default; the sum of the
allocations, compared after every step) or ``"compute_node"`` (Nova's
ComputeNode counters, which catch up only at an audit: a host's usage is
compared only right after that host's ``audit``).

Steps a tracker cannot express at all are listed in ``unsupported_steps``
(optional attribute): the driver does not generate them and reports that
they were left out.  A factory ``() -> Tracker`` is what the command line
names (``package.module:factory`` or a built-in name).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from movecheck.spec.vocab import Cloud, Observation, Outcome, Step


@runtime_checkable
class Tracker(Protocol):
    capabilities: frozenset[str]

    def reset(self, cloud: Cloud) -> None: ...

    def apply(self, step: Step) -> Outcome: ...

    def observe(self) -> Observation: ...

    def close(self) -> None: ...
