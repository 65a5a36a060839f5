"""Your first tracker: boot, delete and audit only, over the jsonl protocol (docs/adapters.md).

    movecheck conform --tracker "jsonl:python3 conformance/examples/first_tracker.py"

It keeps per-host usage the way Nova's ResourceTracker does for a plain boot
(``instance_claim``: the flavor's VCPU, MEMORY_MB and DISK_GB, plus free
devices when the flavor asks for some) and frees it on delete; its audit
(``update_available_resource``) has nothing to correct.  Every other
step is declared unsupported in the reset reply, so movecheck never generates
it, and the verdict says on how many of the spec's steps the tracker was
checked.  Anything unexpected (an unknown step, host, flavor or instance) is
rejected, as the spec does.
"""

import json
import sys

RESOURCES = ("VCPU", "MEMORY_MB", "DISK_GB")
SUPPORTED = ("boot", "delete", "audit")
#: Every step of the spec (docs/adapters.md, "Your first tracker"); all but three unsupported.
ALL_STEPS = (
    "boot", "delete", "reset_state", "resize_claim", "resize_migrate", "resize_migrated",
    "finish_resize",
    "confirm", "confirm_finish", "revert", "revert_finish", "live_claim", "live_queue",
    "live_prepare", "live_run", "live_complete", "live_abort", "evacuate_start",
    "rebuild_claim", "finish_evacuation", "fail", "host_down", "host_up", "audit",
)


class FirstTracker:
    def reset(self, cloud):
        self.hosts = {h["name"]: h for h in cloud["hosts"]}
        self.flavors = {f["name"]: f for f in cloud["flavors"]}
        self.known = set(cloud["instances"])
        self.usage = {h: dict.fromkeys(RESOURCES, 0) for h in self.hosts}
        self.holder = {h: dict.fromkeys(self.hosts[h].get("devices", []), None)
                       for h in self.hosts}
        self.instances = {}  # id -> (host, flavor name); deleted ones stay as None
        return {"ok": True, "capabilities": ["usage", "devices"],
                "unsupported_steps": [s for s in ALL_STEPS if s not in SUPPORTED]}

    def capacity(self, host, rc):
        inv = self.hosts[host]["inventories"][rc]
        return (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]

    def apply(self, step):
        kind = step.get("step")
        if kind == "boot":
            return self.boot(step.get("instance"), step.get("host"), step.get("flavor"))
        if kind == "delete":
            return self.delete(step.get("instance"))
        if kind == "audit":
            # Usage is kept exact on every boot and delete: nothing to recompute.
            ok = step.get("host") in self.hosts
            return {"result": "accepted"} if ok else {"result": "rejected",
                                                      "reason": "unknown host"}
        return {"result": "rejected", "reason": f"unsupported step {kind}"}

    def boot(self, inst, host, flavor):
        if inst not in self.known or inst in self.instances:
            return {"result": "rejected", "reason": f"{inst} cannot be booted"}
        if host not in self.hosts or flavor not in self.flavors:
            return {"result": "rejected", "reason": "unknown host or flavor"}
        if not self.hosts[host].get("up", True):
            return {"result": "rejected", "reason": f"{host} is down"}
        f = self.flavors[flavor]
        want = {"VCPU": f["vcpus"], "MEMORY_MB": f["memory_mb"], "DISK_GB": f["disk_gb"]}
        if any(self.usage[host][rc] + want[rc] > self.capacity(host, rc) for rc in RESOURCES):
            return {"result": "rejected", "reason": f"{flavor} does not fit on {host}"}
        free = [d for d, who in self.holder[host].items() if who is None]
        if len(free) < f.get("devices", 0):
            return {"result": "rejected", "reason": f"not enough free devices on {host}"}
        picked = free[:f.get("devices", 0)]
        for rc in RESOURCES:
            self.usage[host][rc] += want[rc]
        for d in picked:
            self.holder[host][d] = inst
        self.instances[inst] = (host, flavor)
        return {"result": "accepted", "devices": picked}

    def delete(self, inst):
        if self.instances.get(inst) is None:
            return {"result": "rejected", "reason": f"{inst} does not exist"}
        host, flavor = self.instances[inst]
        f = self.flavors[flavor]
        for rc, v in zip(RESOURCES, (f["vcpus"], f["memory_mb"], f["disk_gb"]), strict=True):
            self.usage[host][rc] -= v
        for d, who in self.holder[host].items():
            if who == inst:
                self.holder[host][d] = None
        self.instances[inst] = None
        return {"result": "accepted"}

    def observe(self):
        return {"usage": self.usage, "devices": self.holder}


def main():
    tracker = FirstTracker()
    for line in sys.stdin:
        req = json.loads(line)
        op = req.get("op")
        if op == "reset":
            reply = tracker.reset(req["cloud"])
        elif op == "apply":
            reply = tracker.apply(req["step"])
        elif op == "observe":
            reply = tracker.observe()
        elif op == "close":
            return
        else:
            reply = {"error": f"unknown op {op!r}"}
        # One line per reply, flushed at once: movecheck waits for it (a reply stuck in
        # the buffer is a timeout).
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
