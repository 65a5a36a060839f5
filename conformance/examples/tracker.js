#!/usr/bin/env node
// A movecheck tracker in JavaScript, speaking the jsonl protocol (docs/adapters.md):
// one JSON request per line on stdin, one JSON reply per line on stdout.
//
//   movecheck conform --tracker "jsonl:node conformance/examples/tracker.js"
//
// It keeps Nova's ResourceTracker bookkeeping (nova/compute/resource_tracker.py)
// in plain objects: per-host usage counters changed step by step, instances
// with a MigrationContext, migration records with statuses, and an audit
// (update_available_resource) that recomputes a host's usage from the records.
// It declares every observation part; pass --usage-only to declare only usage.
"use strict";

const readline = require("readline");
const RCS = ["VCPU", "MEMORY_MB", "DISK_GB"];
const FIELD = { VCPU: "vcpus", MEMORY_MB: "memory_mb", DISK_GB: "disk_gb" };
// Statuses in which a move is over (Nova 34's audit leaves them out, plus error).
const FINISHED = {
  resize: ["confirmed", "reverted", "error", "failed"], migration: ["confirmed", "reverted", "error", "failed"],
  "live-migration": ["completed", "cancelled", "error", "failed"], evacuation: ["done", "completed", "error", "failed"],
};
const LANDED = {
  resize: ["post-migrating", "finished", "confirming", "reverting"],
  migration: ["post-migrating", "finished", "confirming", "reverting"],
  "live-migration": [], evacuation: [],
};
const DEST_CLAIMED = {
  resize: ["pre-migrating", "migrating"], migration: ["pre-migrating", "migrating"],
  "live-migration": ["accepted", "queued", "preparing", "running"], evacuation: ["pre-migrating"],
};
const RES = ["resize", "migration"];
// The status a failure writes: error before the destination's claim (the conductor)
// and for a resize or cold migration; failed after the claim of a live migration or
// an evacuation.
const failureStatus = (m) => (RES.includes(m.type) || m.status === "accepted") ? "error" : "failed";
const PARAMS = {
  boot: ["instance", "host", "flavor"], delete: ["instance"], reset_state: ["instance"],
  resize_claim: ["migration", "instance", "dest", "flavor"], live_claim: ["migration", "instance", "dest"],
  evacuate_start: ["migration", "instance", "dest"], host_down: ["host"], host_up: ["host"], audit: ["host"],
};
for (const k of ["resize_migrate", "resize_migrated", "finish_resize", "confirm", "confirm_finish",
  "revert", "revert_finish", "live_queue", "live_prepare", "live_run", "live_complete", "live_abort",
  "rebuild_claim", "finish_evacuation", "fail"]) PARAMS[k] = ["migration"];

const usageOnly = process.argv.includes("--usage-only");
let cloud, hosts, flavors, inst, migs, maxMigrations;

function reset(c) {
  cloud = c;
  hosts = {};
  for (const h of c.hosts) hosts[h.name] = { up: h.up !== false, usage: [0, 0, 0], devices: h.devices || [], inv: h.inventories };
  flavors = {};
  for (const f of c.flavors) flavors[f.name] = f;
  inst = {};
  migs = [];
  maxMigrations = c.max_migrations;
}

const vec = (f) => RCS.map((rc) => flavors[f][FIELD[rc]]);
const finished = (m) => FINISHED[m.type].includes(m.status);
const findMig = (id) => migs.find((m) => m.id === id);
const latestOf = (iid) => { let l = null; for (const m of migs) if (m.instance === iid) l = m; return l; };
// An evacuation whose source came back before the instance landed: the source dropped
// the instance (i.gone names it); the rebuild on the destination is still to finish.
const gone = (m) => { const i = inst[m.instance]; return !!i && i.gone === m.id; };
const inProgress = (m) => !finished(m) || gone(m);
const inProgressOf = (iid) => migs.find((m) => m.instance === iid && inProgress(m));
const alive = (iid) => inst[iid] && inst[iid].vm_state !== "deleted";

function charge(host, flavor, sign) {
  const v = vec(flavor);
  hosts[host].usage = hosts[host].usage.map((u, k) => u + sign * v[k]);
}

// An allocation ratio as an exact fraction [numerator, denominator] of BigInts, read
// from its shortest decimal form (what JSON carries: 1.15 is 115/100, not the
// binary double nearest to it), as Placement's capacity is meant.
function ratioFraction(r) {
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i.exec(String(r === undefined ? 1 : r));
  if (!m) throw new Error(`allocation ratio ${r} is not a decimal number`);
  const frac = m[2] || "";
  const exp = Number(m[3] || 0) - frac.length;
  let num = BigInt(m[1] + frac), den = 1n;
  if (exp >= 0) num *= 10n ** BigInt(exp); else den = 10n ** BigInt(-exp);
  return [num, den];
}

// Claim test of Placement's _check_capacity_exceeded, exactly:
// used + requested <= (total - reserved) x allocation_ratio, in integers
// ((used + requested) x den <= (total - reserved) x num). In floating point
// (40 - 0) x 1.15 is 45.99999999999999, and a claim that just fits is refused.
function fits(host, k, amount) {
  const i = hosts[host].inv[RCS[k]];
  const [num, den] = ratioFraction(i.allocation_ratio);
  return BigInt(amount) * den <= BigInt(i.total - (i.reserved || 0)) * num;
}

// What a migration holds apart from its instance (nova/compute/resource_tracker.py _update_usage_from_migration).
function migrationHold(m) {
  if (!inProgress(m)) return null;
  if (LANDED[m.type].includes(m.status)) return [m.source, m.old];
  if (DEST_CLAIMED[m.type].includes(m.status)) return [m.dest, m.new];
  const i = inst[m.instance];
  if (gone(m) && i.mc && i.mc.mid === m.id) return [m.dest, m.new];
  return null;
}

function chargedFlavor(i) {
  if (i.vm_state === "deleted" || i.gone) return null;
  if (i.mc && i.new_flavor) {
    const m = findMig(i.mc.mid);
    if (m && m.status === "post-migrating") return i.new_flavor;
  }
  return i.flavor;
}

// update_available_resource: recompute a host's usage from instances and migrations.
function recomputed(host) {
  let u = [0, 0, 0];
  const add = (f) => { const v = vec(f); u = u.map((x, k) => x + v[k]); };
  for (const i of Object.values(inst)) {
    const f = chargedFlavor(i);
    if (f && i.host === host) add(f);
  }
  for (const m of migs) {
    const h = migrationHold(m);
    if (h && h[0] === host) add(h[1]);
  }
  // A dead source still holds an evacuated instance until it restarts.
  for (const i of Object.values(inst)) if (i.wait && i.wait.src === host) add(i.wait.flv);
  return u;
}

function deviceHolds() {
  const out = [];
  for (const i of Object.values(inst)) {
    if (i.vm_state !== "deleted" && !i.gone) for (const d of i.devices) out.push([i.host, d, i.id]);
    if (i.wait) for (const d of i.wait.dev) out.push([i.wait.src, d, i.id]);
  }
  for (const m of migs) {
    const h = migrationHold(m);
    const i = inst[m.instance];
    if (!h || !i || !i.mc || i.mc.mid !== m.id) continue;
    const devs = LANDED[m.type].includes(m.status) ? i.mc.old : i.mc.new;
    for (const d of devs) out.push([h[0], d, m.instance]);
  }
  return out;
}

function freeDevices(host) {
  const held = new Set(deviceHolds().filter((x) => x[0] === host).map((x) => x[1]));
  return hosts[host].devices.filter((d) => !held.has(d));
}

function claimCheck(host, flavor) {
  const v = vec(flavor);
  for (let k = 0; k < 3; k++) if (!fits(host, k, hosts[host].usage[k] + v[k])) return `flavor ${flavor} does not fit on ${host}`;
  if (freeDevices(host).length < (flavors[flavor].devices || 0)) return `not enough free devices on ${host}`;
  return null;
}

function fresh(mid) {
  if (findMig(mid)) return `migration ${mid} already exists`;
  if (migs.length >= maxMigrations) return "too many migrations";
  return null;
}

function movable(s, needHostUp, destUp = true) {
  if (!alive(s.instance)) return `instance ${s.instance} does not exist`;
  const i = inst[s.instance];
  if (inProgressOf(i.id)) return `instance ${i.id} is already moving`;
  if (needHostUp && !hosts[i.host].up) return `host ${i.host} is down`;
  if (destUp && !hosts[s.dest].up) return `host ${s.dest} is down`;
  return fresh(s.migration);
}

// What Nova's scheduler and conductor check after the record is written: a refusal
// here still rejects the step, and leaves the migration "error".
function schedulable(host, flavor) {
  if (!hosts[host].up) return `host ${host} is down`;
  return claimCheck(host, flavor);
}

const SCHEDULE = {
  resize_claim: (s) => schedulable(s.dest, s.flavor),
  live_claim: (s) => {
    const i = inst[s.instance];
    if (s.dest === i.host) return "a live migration must change host";
    return schedulable(s.dest, i.flavor);
  },
};

SCHEDULE.rebuild_claim = (s) => { const m = findMig(s.migration); return claimCheck(m.dest, m.new); };

const REFUSED = {
  // The conductor's NoValidHost: error on the accepted record and the instance ERROR
  // (a record the source's restart completed is not found and stays).
  rebuild_claim: (s) => {
    const m = findMig(s.migration);
    if (m.status === "accepted") { m.status = "error"; inst[m.instance].vm_state = "error"; }
  },
  resize_claim: (s) => { const i = inst[s.instance]; create(s, s.flavor !== i.flavor ? "resize" : "migration", i.flavor, s.flavor, "error"); },
  live_claim: (s) => { const i = inst[s.instance]; create(s, "live-migration", i.flavor, i.flavor, "error"); },
};

function statusGuard(s, types, statuses, up) {
  const m = findMig(s.migration);
  if (!m) return `unknown migration ${s.migration}`;
  if (!types.includes(m.type)) return `migration ${m.id} is a ${m.type}`;
  if (!statuses.includes(m.status)) return `migration ${m.id} is ${m.status}`;
  for (const side of up) if (!hosts[m[side]].up) return `host ${m[side]} is down`;
  return null;
}

const GUARDS = {
  boot: (s) => inst[s.instance] ? "already booted" : !hosts[s.host].up ? "host down" : claimCheck(s.host, s.flavor),
  delete: (s) => alive(s.instance) ? null : `instance ${s.instance} does not exist`,
  reset_state: (s) => !alive(s.instance) ? `instance ${s.instance} does not exist`
    : inst[s.instance].vm_state === "error" ? null : `instance ${s.instance} is not in error`,
  resize_claim: (s) => {
    const r = movable(s, true, false); if (r) return r;
    const i = inst[s.instance];
    if (i.vm_state !== "active") return "not active";
    if (s.dest === i.host && s.flavor === i.flavor) return "a cold migration must change host";
    // Nova's API refuses a root disk below the image's min_disk, raised to the boot flavor's.
    if (flavors[s.flavor].disk_gb < i.min_disk) return `flavor ${s.flavor}'s root disk is smaller than the image min_disk`;
    return null;
  },
  live_claim: (s) => {
    const r = movable(s, true, false); if (r) return r;
    return inst[s.instance].vm_state !== "active" ? "not active" : null;
  },
  evacuate_start: (s) => {
    const r = movable(s, false); if (r) return r;
    const i = inst[s.instance];
    if (hosts[i.host].up) return "the host is up";
    if (s.dest === i.host) return "an evacuation must change host";
    if (i.wait) return `instance ${i.id} still waits for ${i.wait.src} to clean up an earlier evacuation`;
    return null;
  },
  resize_migrate: (s) => statusGuard(s, RES, ["pre-migrating"], ["source"]),
  resize_migrated: (s) => statusGuard(s, RES, ["migrating"], ["source"]),
  finish_resize: (s) => statusGuard(s, RES, ["post-migrating"], ["dest"]),
  confirm: (s) => statusGuard(s, RES, ["finished"], []),
  confirm_finish: (s) => statusGuard(s, RES, ["confirming"], ["source"]),
  revert: (s) => statusGuard(s, RES, ["finished"], []),
  revert_finish: (s) => statusGuard(s, RES, ["reverting"], ["dest", "source"]),
  live_queue: (s) => statusGuard(s, ["live-migration"], ["accepted"], ["source"]),
  live_prepare: (s) => statusGuard(s, ["live-migration"], ["queued"], ["source", "dest"]),
  live_run: (s) => statusGuard(s, ["live-migration"], ["preparing"], ["source"]),
  live_complete: (s) => statusGuard(s, ["live-migration"], ["running"], ["source", "dest"]),
  live_abort: (s) => statusGuard(s, ["live-migration"], ["queued", "preparing", "running"], ["source", "dest"]),
  // Also over completed when the source came back early: the destination is not told.
  rebuild_claim: (s) => {
    const r = statusGuard(s, ["evacuation"], ["accepted", "completed"], ["dest"]); if (r) return r;
    const m = findMig(s.migration);
    const i = inst[m.instance];
    if (m.status === "completed" && !(gone(m) && !i.mc)) return `migration ${m.id} is completed`;
    return null;
  },
  finish_evacuation: (s) => {
    const r = statusGuard(s, ["evacuation"], ["pre-migrating", "completed"], ["dest"]); if (r) return r;
    const m = findMig(s.migration);
    if (m.status === "completed" && !(gone(m) && inst[m.instance].mc)) return `migration ${m.id} is completed`;
    return null;
  },
  fail: (s) => {
    const m = findMig(s.migration);
    if (!m) return "unknown migration";
    if (finished(m)) return "finished";
    if (gone(m)) return "its source has already dropped the instance";
    return null;
  },
  host_down: (s) => hosts[s.host].up ? null : "already down",
  host_up: (s) => hosts[s.host].up ? "already up" : null,
  audit: (s) => hosts[s.host].up ? null : "host down",
};

function whyRejected(s) {
  const params = PARAMS[s.step];
  if (!params) return `unknown step ${s.step}`;
  for (const p of params) if (typeof s[p] !== "string") return `missing ${p}`;
  for (const p of ["host", "dest"]) if (s[p] !== undefined && !hosts[s[p]]) return `unknown host ${s[p]}`;
  if (s.flavor !== undefined && !flavors[s.flavor]) return `unknown flavor ${s.flavor}`;
  if (s.instance !== undefined && !cloud.instances.includes(s.instance)) return `unknown instance ${s.instance}`;
  return GUARDS[s.step](s);
}

function releaseHold(m) { const h = migrationHold(m); if (h) charge(h[0], h[1], -1); }

function failMove(m) {
  releaseHold(m);
  const i = inst[m.instance];
  if (LANDED[m.type].includes(m.status)) i.flavor = m.new;
  // _error_out_instance_on_exception: ERROR for a resize, cold migration or
  // evacuation (before its claim: the conductor's NoValidHost); a live-migration
  // rollback keeps the vm_state.
  const errorOut = m.type !== "live-migration";
  const vm = errorOut ? "error" : i.vm_state === "resized" ? "active" : i.vm_state;
  Object.assign(i, { vm_state: vm, old_flavor: null, new_flavor: null, mc: null });
  m.status = failureStatus(m);
}

function endMove(m, status) {
  releaseHold(m);
  Object.assign(inst[m.instance], { old_flavor: null, new_flavor: null, mc: null, vm_state: "active", gone: null });
  m.status = status;
}

function claimMove(m, picks) {
  charge(m.dest, m.new, +1);
  inst[m.instance].mc = { mid: m.id, old: inst[m.instance].devices, new: picks };
}

function land(m) { const i = inst[m.instance]; i.host = m.dest; i.devices = i.mc.new; }

function claimTarget(s) {
  if (s.step === "boot") return [s.host, s.flavor];
  if (s.step === "resize_claim") return [s.dest, s.flavor];
  if (s.step === "live_claim") return [s.dest, inst[s.instance].flavor];
  if (s.step === "rebuild_claim") { const m = findMig(s.migration); return [m.dest, m.new]; }
  return null;
}

function create(s, type, old, nw, status) {
  const i = inst[s.instance];
  const m = { id: s.migration, instance: i.id, type, source: i.host, dest: s.dest, old, new: nw, status };
  migs.push(m);
  return m;
}

const EFFECTS = {
  boot: (s, p) => { charge(s.host, s.flavor, +1); inst[s.instance] = { id: s.instance, vm_state: "active", host: s.host, flavor: s.flavor, old_flavor: null, new_flavor: null, devices: p, mc: null, gone: null, wait: null, min_disk: flavors[s.flavor].disk_gb }; },
  // API._delete: a RESIZED instance's resize is confirmed first
  // (_confirm_resize_on_deleting); any other move fails; the instance's whole
  // allocation goes, a waiting source's share included.
  delete: (s) => {
    const i = inst[s.instance];
    const m = inProgressOf(s.instance);
    if (m && gone(m)) releaseHold(m);
    else if (m && RES.includes(m.type) && ["finished", "confirming"].includes(m.status)) endMove(m, "confirmed");
    else if (m) failMove(m);
    if (!i.gone) charge(i.host, i.flavor, -1);
    if (i.wait) charge(i.wait.src, i.wait.flv, -1);
    Object.assign(i, { vm_state: "deleted", devices: [], old_flavor: null, new_flavor: null, mc: null, gone: null, wait: null });
  },
  reset_state: (s) => { inst[s.instance].vm_state = "active"; },
  resize_claim: (s, p) => {
    const i = inst[s.instance];
    const m = create(s, s.flavor !== i.flavor ? "resize" : "migration", i.flavor, s.flavor, "pre-migrating");
    i.old_flavor = i.flavor; i.new_flavor = s.flavor;
    claimMove(m, p);
  },
  resize_migrate: (s) => { findMig(s.migration).status = "migrating"; },
  resize_migrated: (s) => { const m = findMig(s.migration); m.status = "post-migrating"; land(m); },
  finish_resize: (s) => { const m = findMig(s.migration); m.status = "finished"; Object.assign(inst[m.instance], { flavor: m.new, vm_state: "resized" }); },
  confirm: (s) => { findMig(s.migration).status = "confirming"; },
  confirm_finish: (s) => endMove(findMig(s.migration), "confirmed"),
  revert: (s) => { findMig(s.migration).status = "reverting"; },
  revert_finish: (s) => {
    const m = findMig(s.migration);
    const i = inst[m.instance];
    charge(m.dest, m.new, -1);
    Object.assign(i, { host: m.source, flavor: m.old, old_flavor: null, new_flavor: null, devices: i.mc.old, mc: null, vm_state: "active" });
    m.status = "reverted";
  },
  live_claim: (s, p) => { const i = inst[s.instance]; claimMove(create(s, "live-migration", i.flavor, i.flavor, "accepted"), p); },
  live_queue: (s) => { findMig(s.migration).status = "queued"; },
  live_prepare: (s) => { findMig(s.migration).status = "preparing"; },
  live_run: (s) => { findMig(s.migration).status = "running"; },
  live_complete: (s) => {
    const m = findMig(s.migration);
    charge(m.source, m.old, -1);
    land(m);
    inst[m.instance].mc = null;
    m.status = "completed";
  },
  live_abort: (s) => endMove(findMig(s.migration), "cancelled"),
  evacuate_start: (s) => { const i = inst[s.instance]; create(s, "evacuation", i.flavor, i.flavor, "accepted"); },
  rebuild_claim: (s, p) => { const m = findMig(s.migration); m.status = "pre-migrating"; claimMove(m, p); },
  finish_evacuation: (s) => {
    const m = findMig(s.migration);
    const i = inst[m.instance];
    // Unless the source came back already, it keeps the old flavor and devices
    // until it restarts: the instance waits for its clean-up.
    const wait = i.gone ? null : { src: m.source, flv: m.old, dev: i.mc.old };
    land(m);
    Object.assign(i, { mc: null, gone: null, wait, vm_state: "active" });
    m.status = "done";
  },
  fail: (s) => failMove(findMig(s.migration)),
  host_down: (s) => { hosts[s.host].up = false; },
  host_up: (s) => {
    hosts[s.host].up = true;
    // init_host: _destroy_evacuated_instances takes the evacuations from this host
    // that are accepted, pre-migrating or done: the source's share goes and the
    // instance's latest record says completed; the destination carries on.
    for (const i of Object.values(inst)) {
      if (i.wait && i.wait.src === s.host) { charge(i.wait.src, i.wait.flv, -1); i.wait = null; }
      const m = latestOf(i.id);
      if (!m || m.type !== "evacuation" || m.source !== s.host || !alive(i.id) || i.gone) continue;
      if (!["accepted", "pre-migrating", "done"].includes(m.status)) continue;
      if (m.status !== "done") { charge(i.host, chargedFlavor(i), -1); i.gone = m.id; }
      m.status = "completed";
    }
  },
  audit: (s) => {
    hosts[s.host].usage = recomputed(s.host);
    // _cleanup_incomplete_migrations: a deleted instance's error migration on this
    // host, the instance's host being another, becomes failed.
    for (const i of Object.values(inst)) {
      const m = latestOf(i.id);
      if (i.vm_state === "deleted" && m && m.status === "error" && i.host !== s.host
          && (m.source === s.host || m.dest === s.host)) m.status = "failed";
    }
  },
};

function apply(s) {
  const reason = whyRejected(s);
  if (reason !== null) return { result: "rejected", reason };
  const refused = SCHEDULE[s.step] ? SCHEDULE[s.step](s) : null;
  if (refused !== null) { REFUSED[s.step](s); return { result: "rejected", reason: refused }; }
  const target = claimTarget(s);
  const picks = target ? freeDevices(target[0]).slice(0, flavors[target[1]].devices || 0) : [];
  EFFECTS[s.step](s, picks);
  return picks.length ? { result: "accepted", devices: picks } : { result: "accepted" };
}

function observe() {
  const usage = {};
  for (const [h, v] of Object.entries(hosts)) usage[h] = Object.fromEntries(RCS.map((rc, k) => [rc, v.usage[k]]));
  if (usageOnly) return { usage };
  const devices = {};
  for (const [h, v] of Object.entries(hosts)) devices[h] = Object.fromEntries(v.devices.map((d) => [d, null]));
  for (const [h, d, holder] of deviceHolds()) devices[h][d] = holder;
  const migrations = Object.fromEntries(migs.map((m) => [m.id, m.status]));
  const instances = {};
  for (const i of Object.values(inst)) if (i.vm_state !== "deleted") instances[i.id] = i.host;
  return { usage, devices, migrations, instances };
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let reply;
  try {
    const req = JSON.parse(line);
    if (req.op === "reset") {
      reset(req.cloud);
      reply = { ok: true, capabilities: usageOnly ? ["usage"] : ["usage", "devices", "migrations", "instances"] };
    } else if (req.op === "apply") reply = apply(req.step);
    else if (req.op === "observe") reply = observe();
    else if (req.op === "close") process.exit(0);
    else reply = { error: `unknown op ${req.op}` };
  } catch (e) {
    process.stderr.write(`${e.stack}\n`);
    reply = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
