"""The explorer on several cores: worker processes sharing one fingerprint table.

Breadth-first, level by level, as in one process.  Each worker owns part of
the frontier (states whose fingerprint falls to it) and expands it; every
successor's canonical fingerprint goes into the shared
:class:`~movecheck.spec.engines.fingerprints.SharedTable`, whose insert says
whether it is new.  A new state is checked by the worker that found it and
sent to the worker that owns it, which expands it at the next level.  The
coordinator (this process) starts each level when every worker has finished
the last, so depths and shortest traces are those of the one-process search,
and the counts are the same whatever the number of workers.

Processes, not threads: the search is pure Python and the interpreter lock
would serialise threads.  Workers are forked (they inherit the model and the
table's memory), ignore Ctrl-C and stop when the coordinator tells them or
dies; the coordinator catches Ctrl-C, stops them within a second and raises
:class:`~movecheck.spec.errors.Interrupted` with the counts so far.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Callable

from movecheck.spec.engines.explore import ALIASES, _successor_violations
from movecheck.spec.engines.fingerprints import STRIPES, SharedTable, fingerprint

END = None  # marks the end of one worker's batches for a level
BATCH = 256
POLL = 64  # states expanded between looks at the inbox, the stop flag and the clock
MIN_SLOTS = 1 << 20
LOAD = 0.6  # grow the table before a level could fill it beyond this


def explore_parallel(model, *, workers: int, max_states: int | None, check: bool,
                     progress: Callable | None):
    from movecheck.spec.engines.explore import (
        COMPLETE,
        STATE_LIMIT,
        VIOLATION,
        ExploreResult,
        Progress,
        _done,
        _interrupted,
        _violation,
    )

    try:
        ctx = mp.get_context("fork")
    except ValueError:  # no fork (Windows): one process
        from movecheck.spec.engines.explore import _explore_one

        return _explore_one(model, max_states=max_states, stop_at_first=True, check=check,
                            progress=progress, full_states=False)
    t0 = time.perf_counter()
    locks = [ctx.Lock() for _ in range(STRIPES)]
    table = SharedTable(_slots_for(max_states), locks)
    init = model.canonical(model.initial())
    fp0 = fingerprint(init)
    table.insert(fp0, 0)
    res = ExploreResult(states=0, transitions=0, depth=0, seconds=0.0,
                        symmetry=model.group_size > 1, group_size=model.group_size,
                        workers=workers)
    found = []
    if check:
        found = [(n, m, fp0, None, None) for n, m in model.state_violations(init).items()]
    totals = {"new": 1, "full_new": model.orbit_size(init), "transitions": 0, "full_trans": 0,
              "expanded": 0}
    procs = []
    pipes = []
    stop = ctx.Event()
    results = ctx.Queue()
    inboxes = [ctx.Queue() for _ in range(workers)]
    level = 0
    stopped = COMPLETE
    live: dict[int, dict] = {}
    gc.disable()
    try:
        if not found:
            for w in range(workers):
                here, there = ctx.Pipe()
                p = ctx.Process(target=_worker, daemon=True, name=f"movecheck-explore-{w}",
                                args=(w, workers, model, table, there, results, inboxes, stop,
                                      [(init, fp0, totals["full_new"])] if w == 0 else [], check, max_states,
                                      os.getpid()))
                p.start()
                there.close()
                procs.append(p)
                pipes.append(here)
        frontier = 1
        last = t0
        while procs and frontier:
            for here in pipes:
                here.send(("level", level))
            done = 0
            frontier = 0
            live.clear()
            while done < workers:
                try:
                    msg = results.get(timeout=0.25)
                except queue.Empty:
                    if any(not p.is_alive() for p in procs):
                        raise RuntimeError("an explore worker died") from None
                    continue
                kind = msg[0]
                if kind == "violation":
                    found.append(msg[1])
                elif kind == "progress":
                    live[msg[1]] = msg[2]
                    now = time.perf_counter()
                    if progress is not None and now - last > 0.5:
                        last = now
                        progress(_progress(Progress, totals, live, level, now - t0))
                elif kind == "level":
                    done += 1
                    live.pop(msg[1], None)
                    for k, v in msg[2].items():
                        if k != "queue":
                            totals[k] += v
                    frontier += msg[2]["queue"]
            now = time.perf_counter()
            if progress is not None and now - last > 0.5:
                last = now
                p = _progress(Progress, totals, {}, level, now - t0)
                p.queue = frontier
                progress(p)
            if found:
                stopped = VIOLATION
                break
            if max_states is not None and len(table) >= max_states:
                stopped = STATE_LIMIT
                break
            if frontier:
                level += 1
                table = _maybe_grow(table, locks, totals, frontier, pipes)
        if found:
            stopped = VIOLATION
        for here in pipes:
            here.send(("quit",))
        _join(procs)
    except KeyboardInterrupt:
        stop.set()
        for here in pipes:
            try:
                here.send(("quit",))  # a worker that halted waits for the next command
            except OSError:
                pass
        _join(procs, grace=1.0)
        for v in live.values():
            for f in ("new", "full_new", "transitions", "full_trans"):
                totals[f] += v.get(f, 0)
        table.close()
        raise _interrupted(res, t0, _counts(totals), level) from None
    finally:
        gc.enable()
        for p in procs:
            if p.is_alive():
                p.kill()
    res = _done(res, t0, _counts(totals), level, stopped,
                lambda: [_violation(model, table.parent, fingerprint, found[0])] if found else [])
    table.close()
    return res


def _counts(totals: dict[str, int]) -> tuple[int, int, int, int]:
    return totals["new"], totals["full_new"], totals["transitions"], totals["full_trans"]


def _slots_for(max_states: int | None) -> int:
    slots = MIN_SLOTS
    if max_states is not None:
        while slots * LOAD < max_states * 1.2 and slots < (1 << 30):
            slots *= 2
    return slots


def _progress(Progress, totals, live, level, seconds):
    states = totals["new"] + sum(v.get("new", 0) for v in live.values())
    full = totals["full_new"] + sum(v.get("full_new", 0) for v in live.values())
    trans = totals["transitions"] + sum(v.get("transitions", 0) for v in live.values())
    q = sum(v.get("queue", 0) for v in live.values())
    return Progress(states, full, trans, level, q, seconds)


def _maybe_grow(table: SharedTable, locks, totals, frontier: int, pipes) -> SharedTable:
    """A bigger table before the next level could fill this one (rehashed here)."""
    outdegree = totals["transitions"] / max(totals["expanded"], 1)
    bound = len(table) + frontier * outdegree * 1.2
    if bound <= table.slots * LOAD:
        return table
    slots = table.slots
    while slots * LOAD < bound:
        slots *= 2
    bigger = SharedTable(slots, locks)
    for fp, parent in table.items():
        bigger.insert(fp, parent)
    table.close()
    for here in pipes:
        here.send(("table", bigger.path, slots))
    return bigger


def _join(procs, grace: float = 5.0) -> None:
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(0.5)
        if p.is_alive():
            p.kill()
            p.join()


def _worker(me: int, n: int, model, table: SharedTable, conn, results, inboxes, stop,
            frontier, check: bool, max_states: int | None, coordinator: int) -> None:
    """One worker: expand its part of each level when told, until told to quit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        signal.set_wakeup_fd(-1)  # the parent's wake-up socket is not ours
    except (ValueError, OSError):
        pass
    gc.disable()
    table.owner = False  # the coordinator removes the table's file
    canonical = model.canonical
    orbit = model.orbit_size
    successors = model.successors
    new_violations = _successor_violations(model, True)
    trans_violations = model.transition_violations
    inbox = inboxes[me]
    aliases: set[int] = set()  # as in explore._explore_one
    while True:
        while not conn.poll(0.5):
            if os.getppid() != coordinator:
                os._exit(1)  # the coordinator is gone: no orphans
        cmd = conn.recv()
        if cmd[0] == "quit":
            return
        if cmd[0] == "table":
            table.close()
            table = SharedTable(cmd[2], table.locks, path=cmd[1])
            continue
        insert = table.insert
        nxt: list = []
        out: list[list] = [[] for _ in range(n)]
        stats = {"new": 0, "full_new": 0, "transitions": 0, "full_trans": 0, "expanded": 0}
        ends = 0
        last = time.monotonic()
        halted = False
        for i, (s, fs, os_) in enumerate(frontier):
            deg = 0
            for label, t in successors(s):
                deg += 1
                if check:
                    for name, msgs in trans_violations(s, label, t).items():
                        results.put(("violation", (name, msgs, fs, label,
                                                   fingerprint(canonical(t)))))
                        stop.set()
                h = fingerprint(t)
                if h in aliases or h in table:
                    continue
                c = canonical(t)
                if c is t:
                    fc = h
                else:
                    fc = fingerprint(c)
                    if len(aliases) < ALIASES:
                        aliases.add(h)
                if insert(fc, fs):
                    stats["new"] += 1
                    o = orbit(c)
                    stats["full_new"] += o
                    if check:
                        for name, msgs in new_violations(s, t, c).items():
                            results.put(("violation", (name, msgs, fc, None, None)))
                            stop.set()
                    owner = (fc >> 32) % n
                    if owner == me:
                        nxt.append((c, fc, o))
                    else:
                        box = out[owner]
                        box.append((c, fc, o))
                        if len(box) >= BATCH:
                            inboxes[owner].put(box)
                            out[owner] = []
            stats["transitions"] += deg
            stats["full_trans"] += deg * os_
            stats["expanded"] += 1
            if not i & (POLL - 1):
                ends += _drain(inbox, nxt)
                if stop.is_set() or (max_states is not None and len(table) >= max_states):
                    halted = True
                    stop.set()
                    break
                now = time.monotonic()
                if now - last > 0.5:
                    last = now
                    if os.getppid() != coordinator:
                        os._exit(1)
                    results.put(("progress", me, {**stats, "queue": len(frontier) - i + len(nxt)}))
        for owner, box in enumerate(out):
            if box:
                inboxes[owner].put(box)
        for owner in range(n):
            if owner != me:
                inboxes[owner].put(END)
        while ends < n - 1:
            item = inbox.get()
            if item is END:
                ends += 1
            else:
                nxt.extend(item)
        frontier = [] if halted else nxt
        results.put(("level", me, {**stats, "queue": len(frontier)}))


def _drain(inbox, nxt: list) -> int:
    """Take whatever other workers sent so far; how many of them said they are done."""
    ends = 0
    while True:
        try:
            item = inbox.get_nowait()
        except queue.Empty:
            return ends
        if item is END:
            ends += 1
        else:
            nxt.extend(item)
