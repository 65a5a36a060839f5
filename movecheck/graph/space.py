"""The explored state space of a small cloud, drawn or summarised.

The reachable graph comes from :func:`movecheck.spec.engines.explore.explore` with
``keep_graph``.  Even tiny clouds reach hundreds of states (2 hosts, 1
instance, 1 migration: 1,068), so a picture with more nodes than ``max_nodes``
is collapsed by an abstraction instead of drawing a hairball, the way
Alloy's visualiser projects over a signature:

- ``state``: every state is a node (only for the tiniest clouds);
- ``phase``: states with the same per-instance phase (never booted, active,
  resized, deleted, or the type and status of its in-progress migration)
  are one node;
- ``move``: as ``phase`` but only the kind of move in progress.

The finest abstraction that fits is used; if even ``move`` does not fit,
the ``max_nodes`` classes holding most states are drawn and the picture
says how many were left out.  Nodes are coloured by the kinds of move in
progress (none, resize, live, ... or several at once), with a legend.
Self-loops (an audit that changes nothing, a step inside one class) are
not drawn; each node's tooltip counts them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from movecheck.graph.drawing import INK, Drawing, Edge, LegendEntry, Node
from movecheck.spec import Spec, State
from movecheck.spec.describe import describe_state
from movecheck.spec.engines.explore import explore
from movecheck.spec.vocab import VM_DELETED, Cloud

ABSTRACTIONS = ("state", "phase", "move")

_SHORT = {"resize": "resize", "migration": "cold-migrate", "live-migration": "live",
          "evacuation": "evacuate"}

#: Fill colours for the kinds of move in progress (pale, so labels stay readable).
PALETTE = ("#ffffff", "#dbe9f6", "#fde2c4", "#d9f0d3", "#f6d6e6", "#e5dcf2", "#fff3b0",
           "#d4eeee", "#eeeeee", "#f2d7d5")


def instance_phase(spec: Spec, s: State, k: int, level: str) -> str:
    """The phase of instance slot ``k`` at abstraction ``level`` (phase or move)."""
    inst = s.instances[k]
    if inst is None:
        return "not booted"
    if inst.vm_state == VM_DELETED:
        return "deleted"
    m = spec.in_progress_of(s, inst.id)
    if m is None:
        return inst.vm_state if level == "phase" else "idle"
    kind = _SHORT.get(m.migration_type, m.migration_type)
    return f"{kind}: {m.status}" if level == "phase" else kind


def abstract(spec: Spec, s: State, level: str) -> tuple[str, ...]:
    return tuple(instance_phase(spec, s, k, level) for k in range(len(s.instances)))


def _state_lines(spec: Spec, s: State) -> list[str]:
    """Short lines that tell one state from its neighbours: instances, then host usage."""
    out = []
    for k, iid in enumerate(spec.cloud.instances):
        inst = s.instances[k]
        where = "" if inst is None or inst.vm_state == VM_DELETED else f" {inst.flavor}@{inst.host}"
        out.append(f"{iid}: {instance_phase(spec, s, k, 'phase')}{where}")
    for k, h in enumerate(spec.cloud.hosts):
        out.append(f"{h.name}: {'/'.join(map(str, s.usage[k]))}{'' if s.up[k] else ' DOWN'}")
    return out


def enabled_steps(spec: Spec, s: State) -> list[str]:
    """The enabled steps of ``s`` as text (with their device picks when they claim)."""
    out = []
    for step in spec.candidate_steps(s):
        if spec.why_rejected(s, step) is None:
            picks = spec.legal_picks(s, step)
            extra = "" if picks == [()] else " picks " + " | ".join(",".join(p) for p in picks)
            out.append(str(step) + extra)
    return out


def state_details(spec: Spec, s: State) -> list[str]:
    lines = describe_state(spec, s)
    steps = enabled_steps(spec, s)
    return lines + ["", f"enabled steps ({len(steps)}):"] + [f"  {x}" for x in steps]


@dataclass
class SpaceSummary:
    cloud: Cloud
    states: int
    transitions: int
    depth: int
    complete: bool
    abstraction: str
    nodes: int
    edges: int
    left_out: int  # classes not drawn (only when even the coarsest is too big)
    drawing: Drawing
    details: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"states": self.states, "transitions": self.transitions, "depth": self.depth,
                "complete": self.complete, "abstraction": self.abstraction,
                "nodes": self.nodes, "edges": self.edges, "classes_left_out": self.left_out}


def moves_in_progress(spec: Spec, s: State) -> str:
    """The colour class of a state: which kinds of move are in progress."""
    kinds = sorted({_SHORT.get(m.migration_type, m.migration_type) for m in s.migrations
                    if spec.in_progress_of(s, m.instance) == m})
    return " + ".join(kinds) + " in progress" if kinds else "no move in progress"


def _legend_for(moves: list[str], colour: dict) -> list[LegendEntry]:
    out = [LegendEntry("node", "initial state", double=True)]
    for mv in moves:
        out.append(LegendEntry("node", mv, fill=colour[mv]))
    return out


def space_drawing(cloud: Cloud, *, max_nodes: int = 40, max_states: int = 50_000,
                  abstraction: str | None = None) -> SpaceSummary:
    """Explore ``cloud`` and build the picture (collapsed above ``max_nodes``)."""
    spec = Spec(cloud)
    result, graph = explore(spec, max_states=max_states, check=False, keep_graph=True)
    states: list[State] = graph["states"]
    edges = graph["edges"]
    n = len(states)
    move_of = [moves_in_progress(spec, s) for s in states]
    moves = sorted(set(move_of), key=lambda m: (move_of.index(m)))
    colour = {mv: PALETTE[i % len(PALETTE)] for i, mv in enumerate(moves)}
    levels = [abstraction] if abstraction else list(ABSTRACTIONS)
    chosen, cls_of = levels[-1], None
    for level in levels:
        if level == "state":
            cls_of = [(str(k),) for k in range(n)]
        else:
            cls_of = [abstract(spec, s, level) for s in states]
        chosen = level
        if len(set(cls_of)) <= max_nodes:
            break
    # classes in order of first reach (the initial state's class first)
    first: dict[tuple[str, ...], int] = {}
    for k, c in enumerate(cls_of):
        first.setdefault(c, k)
    size = Counter(cls_of)
    classes = sorted(first, key=first.get)
    left_out = 0
    if len(classes) > max_nodes:
        # the initial state's class always stays: every picture starts there
        others = sorted((c for c in classes if c != cls_of[0]), key=lambda c: (-size[c], first[c]))
        keep = {cls_of[0], *others[: max_nodes - 1]}
        left_out = len(classes) - len(keep)
        classes = [c for c in classes if c in keep]
    ident = {c: f"c{j}" for j, c in enumerate(classes)}
    flows: dict[tuple[str, str], Counter] = defaultdict(Counter)
    loops: dict[str, Counter] = defaultdict(Counter)
    for src, dst, step, _picks in edges:
        a, b = ident.get(cls_of[src]), ident.get(cls_of[dst])
        if a is None or b is None:
            continue
        (loops[a] if a == b else flows[(a, b)])[step.kind] += 1
    title = (f"state space of {len(cloud.hosts)} host(s), {len(cloud.instances)} instance(s), "
             f"{cloud.max_migrations} migration(s): {n:,} states"
             + ("" if result.complete else " (incomplete: --max-states reached)"))
    d = Drawing(name="space", title=title)
    details: dict[str, dict] = {}
    for c in classes:
        key = ident[c]
        k0 = first[c]
        rep = states[k0]
        mv = move_of[k0]
        if chosen == "state":
            label = f"s{k0}\n" + "\n".join(_state_lines(spec, rep))
        else:
            label = "\n".join(f"{iid}: {p}" for iid, p in zip(cloud.instances, c, strict=True))
            label += f"\n({size[c]:,} states)"
        stays = ", ".join(f"{k} ×{v}" for k, v in sorted(loops[key].items()))
        d.nodes.append(Node(key, label, fill=colour[mv], double=k0 == 0, stroke=INK,
                            tooltip=f"{label.replace(chr(10), '; ')}"
                            + (f"; steps that stay: {stays}" if stays else "")))
        head = (f"state s{k0}" if chosen == "state"
                else f"{size[c]:,} states; the first reached (s{k0}) shown")
        details[key] = {"title": label.replace("\n", "; "),
                        "lines": [head, ""] + state_details(spec, rep)
                        + (["", f"steps that stay in this node: {stays}"] if stays else [])}
    for (a, b), kinds in flows.items():
        names = sorted(kinds)
        label = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")
        details[f"{a}>{b}"] = {"title": f"{a} -> {b}", "lines": [
            f"{k} x{v}" for k, v in sorted(kinds.items())]}
        d.edges.append(Edge(a, b, label=label if chosen != "state" else "",
                            tooltip=", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items())),
                            key=f"{a}>{b}", width=1.0))
    d.legend = _legend_for(moves, colour)
    d.notes.append(f"abstraction: {chosen}"
                   + (" (every state is a node)" if chosen == "state" else
                      f" ({len(set(cls_of)):,} classes of {n:,} states; limit --max-nodes "
                      f"{max_nodes})"))
    if left_out:
        d.notes.append(f"{left_out} smaller classes are left out (raise --max-nodes to see them)")
    return SpaceSummary(cloud, n, result.transitions, result.depth, result.complete, chosen,
                        len(d.nodes), len(d.edges), left_out, d, details)
