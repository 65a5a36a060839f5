"""Benchmark: steps/s of the reference tracker alone (issue 4, "Performance").

Generates a long random sequence of enabled steps with the spec (seeded walk,
weighted towards the moves' later steps, restarted from a fresh cloud when a
walk has used its migrations), then times only the reference tracker's
``apply`` over it - once with the records in memory, once in a SQLite file -
and also ``apply`` + ``observe``.  Prints one JSON object, with the machine.

    python bench/model.py [--steps N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time

from movecheck.model import ReferenceTracker
from movecheck.spec import Spec
from movecheck.spec.cloudfile import DEFAULT_FLAVORS, default_host
from movecheck.spec.vocab import Cloud

WEIGHT = {"host_down": 1, "host_up": 2, "audit": 2, "fail": 1, "delete": 1, "boot": 3,
          "resize_claim": 3, "live_claim": 3, "evacuate_start": 4}


def bench_cloud() -> Cloud:
    return Cloud(hosts=(default_host("h1", 2), default_host("h2", 2), default_host("h3", 1)),
                 flavors=DEFAULT_FLAVORS, instances=("i1", "i2", "i3"), max_migrations=32)


def episodes(cloud: Cloud, total: int, seed: int) -> list[list]:
    """Lists of enabled steps, each from the initial state of ``cloud``."""
    rng = random.Random(seed)
    spec = Spec(cloud)
    out, n = [], 0
    while n < total:
        state, steps = spec.initial(), []
        while n < total and len(steps) < 400:
            enabled = [s for s in spec.candidate_steps(state) if spec.why_rejected(state, s) is None]
            kinds = sorted({s.kind for s in enabled})
            kind = rng.choices(kinds, [WEIGHT.get(k, 6) for k in kinds])[0]
            step = rng.choice([s for s in enabled if s.kind == kind])
            state = spec.next_state(state, step)
            steps.append(step)
            n += 1
            if all(i is not None and i.vm_state == "deleted" for i in state.instances):
                break  # only host steps are left: start a fresh cloud
        out.append(steps)
    return out


def run(cloud: Cloud, eps: list[list], db_path: str | None, observe: bool) -> dict:
    tracker = ReferenceTracker(db_path)
    elapsed, n, rejected = 0.0, 0, 0
    for steps in eps:
        tracker.reset(cloud)
        apply = tracker.apply
        t0 = time.perf_counter()
        for step in steps:
            if not apply(step).accepted:
                rejected += 1
            if observe:
                tracker.observe()
        elapsed += time.perf_counter() - t0
        n += len(steps)
    tracker.close()
    return {"steps": n, "seconds": round(elapsed, 3), "steps_per_second": round(n / elapsed),
            "rejected": rejected}


def mix(eps: list[list]) -> dict[str, int]:
    """How many steps of each kind the sequence has."""
    out: dict[str, int] = {}
    for steps in eps:
        for s in steps:
            out[s.kind] = out.get(s.kind, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cloud = bench_cloud()
    t0 = time.perf_counter()
    eps = episodes(cloud, args.steps, args.seed)
    gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        results = {
            "memory_apply": run(cloud, eps, None, observe=False),
            "memory_apply_observe": run(cloud, eps, None, observe=True),
            "file_apply": run(cloud, eps, os.path.join(d, "model.db"), observe=False),
        }
    print(json.dumps({
        "benchmark": "model",
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "sqlite": __import__("sqlite3").sqlite_version},
        "cloud": {"hosts": len(cloud.hosts), "instances": len(cloud.instances),
                  "max_migrations": cloud.max_migrations},
        "sequence": {"steps": args.steps, "episodes": len(eps), "seed": args.seed,
                     "generation_seconds": round(gen, 2), "step_kinds": mix(eps)},
        "target_memory_steps_per_second": 20000,
        **results,
    }, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
