"""Benchmark of the one-definition spec against the previous release, side by side; prints JSON.

The rules written once (spec/steps.py, spec/invariants.py) are read by a
generic concrete and a generic Z3 interpreter; before, each reading was
written by hand.  This script measures both codes in ONE run, alternating
them (the machine is shared and noisy), each in a fresh subprocess:

- ``explore``: states/s of exhaustive exploration of the default cloud
  (every invariant and two-state property checked, as ``movecheck explore``);
- ``prove``: seconds of ``prove_all`` on 3 hosts x 3 instances and 8 x 8;
- ``conform``: conformance steps/s against the reference tracker (default
  cloud; the spec is the oracle of every step) and with the spec itself as
  the tracker (the driver's own cost), as ``bench/conform.py`` measures them.

The previous release's code is checked out with ``git worktree add`` (``--prev``,
default the commit before this work) into a temporary folder.  Medians of
``--repeat`` runs; ``ratio`` is new / previous for rates, previous / new for
seconds, so above 1 means the one-definition spec is faster.

    python bench/onespec.py [--repeat 3] [--prev 2b13391] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_EXPLORE = """
import json, time
from movecheck.spec import Spec, default_cloud
from movecheck.spec.engines.explore import explore
r, _ = explore(Spec(default_cloud({shape})))
print(json.dumps({{"states": r.states, "transitions": r.transitions, "seconds": r.seconds}}))
"""

_PROVE = """
import json, time
from movecheck.spec import default_cloud
from movecheck.spec.engines.prove import PROVED, prove_all
t0 = time.perf_counter()
res = prove_all(default_cloud({n}, {n}), timeout=120)
print(json.dumps({{"seconds": time.perf_counter() - t0,
                   "proved": all(r.status == PROVED for r in res)}}))
"""

_CONFORM = """
import json
from movecheck.conformance.adapters import resolve_tracker
from movecheck.conformance.adapters.spec import SpecTracker
from movecheck.conformance.driver import run_conformance
from movecheck.spec.cloudfile import default_cloud
cloud = default_cloud()
ref = run_conformance(resolve_tracker("reference"), cloud, examples={examples}, steps=15, seed={seed})
spec = run_conformance(SpecTracker, cloud, examples={examples}, steps=15, seed={seed})
print(json.dumps({{"reference_steps_per_second": ref.steps_per_second,
                   "spec_steps_per_second": spec.steps_per_second, "ok": ref.ok and spec.ok}}))
"""


def _run(tree: Path, code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--prev", default="2b13391", help="the previous release's commit")
    ap.add_argument("--examples", type=int, default=100)
    ap.add_argument("--quick", action="store_true",
                    help="a smaller explore cloud (2 hosts x 1 instance x 2) and prove 3x3 only")
    args = ap.parse_args()
    shape = (2, 1, 2) if args.quick else (2, 2, 2)
    sizes = (3,) if args.quick else (3, 8)
    with tempfile.TemporaryDirectory() as tmp:
        prev = Path(tmp) / "prev"
        subprocess.run(["git", "worktree", "add", "--detach", str(prev), args.prev], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            trees = {"previous": prev, "one_spec": ROOT}
            res: dict[str, dict[str, list]] = {k: {} for k in trees}
            jobs = [("explore", _EXPLORE.format(shape=", ".join(map(str, shape))))]
            jobs += [(f"prove_{n}x{n}", _PROVE.format(n=n)) for n in sizes]
            for k in range(args.repeat):
                jobs_k = jobs + [("conform", _CONFORM.format(examples=args.examples, seed=k))]
                for name, code in jobs_k:
                    for side, tree in trees.items():  # alternate: same load for both
                        res[side].setdefault(name, []).append(_run(tree, code))
                        # progress on stderr, so that an interrupted run still says something
                        print(json.dumps({"run": k, "job": name, "side": side,
                                          **res[side][name][-1]}), file=sys.stderr, flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(prev)], cwd=ROOT,
                           capture_output=True)

    def side(s: str) -> dict:
        r = res[s]
        ex = r["explore"]
        out = {"explore_states": ex[0]["states"], "explore_transitions": ex[0]["transitions"],
               "explore_states_per_second": round(ex[0]["states"] / _median(ex, "seconds"))}
        for n in sizes:
            out[f"prove_{n}x{n}_seconds"] = round(_median(r[f"prove_{n}x{n}"], "seconds"), 2)
            out[f"prove_{n}x{n}_proved"] = all(x["proved"] for x in r[f"prove_{n}x{n}"])
        out["conform_reference_steps_per_second"] = round(
            _median(r["conform"], "reference_steps_per_second"))
        out["conform_spec_steps_per_second"] = round(_median(r["conform"], "spec_steps_per_second"))
        return out

    old, new = side("previous"), side("one_spec")
    ratio = {"explore_states_per_second": new["explore_states_per_second"]
             / old["explore_states_per_second"],
             "conform_reference_steps_per_second": new["conform_reference_steps_per_second"]
             / old["conform_reference_steps_per_second"],
             "conform_spec_steps_per_second": new["conform_spec_steps_per_second"]
             / old["conform_spec_steps_per_second"]}
    for n in sizes:
        ratio[f"prove_{n}x{n}"] = old[f"prove_{n}x{n}_seconds"] / new[f"prove_{n}x{n}_seconds"]
    print(json.dumps({
        "benchmark": "onespec",
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0],
                    "platform": platform.platform(), "load": os.getloadavg()},
        "settings": {"repeat": args.repeat, "previous": args.prev,
                     "explore_cloud": dict(zip(("hosts", "instances", "max_migrations"), shape, strict=True)),
                     "conform_examples": args.examples},
        "previous": old, "one_spec": new,
        "ratio_one_spec_vs_previous": {k: round(v, 3) for k, v in ratio.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
