"""movecheck.spec: the vocabulary and the spec of move resource tracking.

- :mod:`.vocab` — Cloud, Host, Flavor, Instance, Migration, MigrationContext,
  Step, Outcome, Observation (docs/spec.md, "State");
- :mod:`.steps` — every step's whole definition (prose, Nova function, guard, effect);
  :mod:`.invariants` — every invariant; both written once (docs/one-spec.md);
- :mod:`.state` — the state the rules read; :mod:`.statuses` — the status machine of
  each migration type (networkx);
- :mod:`.interpret` — the two readings of the rules: :mod:`.interpret.concrete`
  (:class:`Spec`, plain Python) and :mod:`.interpret.z3` (Z3 terms);
- :mod:`.engines` — explore, prove, parametric, bmc, vacuity, spec mutants, smt2,
  agreement; :mod:`.describe` — states and traces in domain words;
- :mod:`.cloudfile`, :mod:`.schemas`, :mod:`.docgen` — cloud files, JSON Schemas, doc tables.

The spec never imports the reference tracker (movecheck.model).
"""

from movecheck.spec.cloudfile import default_cloud, load_cloud, resolve_cloud
from movecheck.spec.errors import CloudError, InputError
from movecheck.spec.interpret.concrete import REFUSED, Refusal, Rejection, Spec
from movecheck.spec.invariants import INVARIANTS, transition_violations, violations
from movecheck.spec.state import State
from movecheck.spec.statuses import FINISHED, STATUS_MACHINES, TERMINAL
from movecheck.spec.steps import STEPS, make_step, step_from_json
from movecheck.spec.vocab import (
    CAPABILITIES,
    RESOURCE_CLASSES,
    Cloud,
    Flavor,
    Host,
    Instance,
    Inventory,
    Migration,
    MigrationContext,
    Observation,
    Outcome,
    Step,
)

__all__ = [
    "REFUSED", "Refusal",
    "CAPABILITIES", "FINISHED", "RESOURCE_CLASSES", "INVARIANTS", "STATUS_MACHINES", "STEPS",
    "TERMINAL",
    "Cloud", "CloudError", "Flavor", "Host", "InputError", "Instance", "Inventory", "Migration",
    "MigrationContext", "Observation", "Outcome", "Rejection", "Spec", "State", "Step", "default_cloud",
    "load_cloud", "make_step", "resolve_cloud", "step_from_json", "transition_violations",
    "violations",
]
