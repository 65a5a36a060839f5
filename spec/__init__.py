"""movecheck.spec: the vocabulary and the spec of move resource tracking.

- :mod:`.vocab` — Cloud, Host, Flavor, Instance, Migration, MigrationContext,
  Step, Outcome, Observation (docs/spec.md, "State");
- :mod:`.steps` — the one list of steps; :mod:`.invariants` — the one list of invariants;
- :mod:`.statuses` — the status machine of each migration type (networkx);
- :mod:`.concrete` — the concrete interpretation (:class:`Spec`); :mod:`.explore` —
  exhaustive search; :mod:`.describe` — states and traces in domain words;
- :mod:`.symbolic`, :mod:`.sym_invariants` — the Z3 interpretation; :mod:`.agreement` —
  the check that the two interpretations agree;
- :mod:`.prove`, :mod:`.parametric`, :mod:`.vacuity`, :mod:`.prove_report`, :mod:`.smt2` —
  induction proofs, the parametric proof, reachability witnesses, readable
  counterexamples to induction, the SMT-LIB re-check with a second solver;
- :mod:`.bmc` — bounded model checking; :mod:`.spec_mutants` — deliberately broken specs;
- :mod:`.cloudfile`, :mod:`.schemas`, :mod:`.docgen` — cloud files, JSON Schemas, doc tables.

The spec never imports the reference tracker (movecheck.model).
"""

from movecheck.spec.cloudfile import default_cloud, load_cloud, resolve_cloud
from movecheck.spec.concrete import Spec, State
from movecheck.spec.errors import CloudError, InputError
from movecheck.spec.invariants import INVARIANTS, transition_violations, violations
from movecheck.spec.statuses import STATUS_MACHINES, TERMINAL
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
    "CAPABILITIES", "RESOURCE_CLASSES", "INVARIANTS", "STATUS_MACHINES", "STEPS", "TERMINAL",
    "Cloud", "CloudError", "Flavor", "Host", "InputError", "Instance", "Inventory", "Migration",
    "MigrationContext", "Observation", "Outcome", "Spec", "State", "Step", "default_cloud",
    "load_cloud", "make_step", "resolve_cloud", "step_from_json", "transition_violations",
    "violations",
]
