#!/usr/bin/env python3
"""bench_drain: how fast the loyalty jobs turn order blobs into exact counts.

The demo's pipeline end: both variants of customer-loyalty-job, two replicas
each, every replica with its ripstopd on deploy/local/resources (Redis state
and lock with the demo's password, cron every second, LIST_SIZE orders per
pass), draining a prepared set of N orders per variant (customer k = i % 10 + 1,
the frontend's totals). Per store and round:

- azurite: the orders are created as blobs through one seeder ripstopd with
  --seed-conns connections (Azurite's PUT rate alone, nothing else running: the
  ceiling to compare with; each order costs the job a Get and a Delete Blob
  plus its share of a List), then the four replicas start;
- localstorage: order-binding and order-binding-nolock are bindings.localstorage
  folders (the files written directly), the jobs run with NAME_METADATA=fileName.

Rate = N / (time of the last count - time of the first count), per variant,
both variants draining at once. Checked as the demo's verdict checks them: the
lock variant exact (every customer's orderCount and loyaltyPoints as prepared,
one processed marker per order), the no-lock variant at least every order, and
no order left in either container.

  python3 bench/system/bench_drain.py [--orders N] [--ls-orders N] [--rounds R] [--workers W] [--customer-lock 0|1]
                                      [--list-size L] [--stores azurite,localstorage]
Never asserts timings; prints a table and exits 1 when a count is wrong."""

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import ripstop_testlib as T  # noqa: E402
import services_fixtures as F  # noqa: E402

TOTALS = [13, 56, 22, 107, 89, 17, 168, 158, 74, 72]  # like the frontend: customer k pays TOTALS[k-1]
VARIANTS = (("lock", "customer-loyalty-job", "orders", "order-binding"),
            ("nolock", "customer-loyalty-job-nolock", "orders-nolock", "order-binding-nolock"))


def order(i, prefix):
    k = i % 10 + 1
    return {"customerId": k, "orderTotal": TOTALS[k - 1], "loyaltyPoints": 0, "orderCount": 0,
            "orderId": f"{prefix}-{i:06d}"}


class Bench(T.ProcTestCase):
    """Not a test: ProcTestCase only for track() and the stop-everything teardown."""

    def runTest(self):  # noqa: N802 - unittest API
        pass


def seed_azurite(seeder, n, prefix, conns):
    """Creates n order blobs in each container through the seeder; returns creates per second."""
    jobs = [(b, order(i, prefix)) for _, _, _, b in VARIANTS for i in range(n)]
    lock, errors = threading.Lock(), []

    def worker():
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", seeder.port, timeout=60)
        while True:
            with lock:
                if not jobs:
                    break
                binding, o = jobs.pop()
            body = json.dumps({"operation": "create", "data": o, "metadata": {"blobName": o["orderId"]}})
            c.request("POST", f"/v1.0/bindings/{binding}-seed", body=body, headers={"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        c.close()

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} creates failed: {errors[:5]}")
    return 2 * n / (time.monotonic() - t0)


class RedisConn:
    """A minimal RESP client on one connection: polling with redis-cli would spawn a process per key."""

    def __init__(self, redis):
        self.s = socket.create_connection(("127.0.0.1", redis.port), timeout=30)
        self.f = self.s.makefile("rb")
        if redis.password:
            self.cmds([("AUTH", redis.password)])

    def cmds(self, cmds):
        out = b"".join(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x)
                                                       for x in (str(a).encode() for a in c)) for c in cmds)
        self.s.sendall(out)
        return [self._reply() for _ in cmds]

    def _reply(self):
        line = self.f.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            raise RuntimeError(rest.decode())
        return rest

    def close(self):
        self.s.close()


def records(rc, app_id):
    """[record or None] for customers 1..10."""
    return [json.loads(v) if v else None for v in rc.cmds([("HGET", f"{app_id}||{k}", "data") for k in range(1, 11)])]


def counted(rc, app_id):
    recs = [r for r in records(rc, app_id) if r]
    return sum(r["orderCount"] for r in recs), sum(r["loyaltyPoints"] for r in recs)


def run_round(bc, store, n, a, rnd):
    redis = bc.track(T.Redis(password=F.secret("redis-password")))
    config = F.private_nameres_config()
    logdir = tempfile.mkdtemp(prefix="ripstop-drain-")
    infra_env = {"RIPSTOP_REDIS_HOST": redis.addr, "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE,
                 "LOYALTY_SCHEDULE": "*/1 * * * * *"}
    job_env = {"LIST_SIZE": str(a.list_size), "LOYALTY_WORKERS": str(a.workers), "CUSTOMER_LOCK": str(a.customer_lock)}
    prefix = f"r{rnd}"
    put_rate = None
    if store == "azurite":
        az = bc.track(F.Azurite())
        infra_env["RIPSTOP_BLOB_ENDPOINT"] = az.endpoint
        resources = F.RESOURCES
        seed_res = T.write_resources({f"{b}.yaml": F.blob_yaml(f"{b}-seed", c, az) for _, _, c, b in VARIANTS})
        seeder = bc.track(T.Sidecar("drain-seeder", resources=seed_res, config=config, logdir=logdir))
        put_rate = seed_azurite(seeder, n, prefix, a.seed_conns)

        def left(v):
            r = seeder.req("POST", f"/v1.0/bindings/{v[3]}-seed", {"operation": "list", "data": {"maxResults": 1}})
            return len(r.json() or [])
    else:
        root = tempfile.mkdtemp(prefix="ripstop-drain-ls-")
        resources = os.path.join(root, "resources")
        shutil.copytree(F.RESOURCES, resources)
        for _, _, c, b in VARIANTS:
            os.makedirs(os.path.join(root, c))
            with open(os.path.join(resources, f"{b}.yaml"), "w") as f:
                f.write(T.localstorage_yaml(b, os.path.join(root, c)))
            for i in range(n):
                o = order(i, prefix)
                with open(os.path.join(root, c, o["orderId"]), "w") as f:
                    json.dump(o, f)
        job_env["NAME_METADATA"] = "fileName"

        def left(v):
            return len(os.listdir(os.path.join(root, v[2])))

    instances = []
    for mode, app_id, _, _ in VARIANTS:
        for _ in range(2):
            instances.append(bc.track(F.Instance(bc, app_id, "customer-loyalty-job", env={"LOYALTY_MODE": mode, **job_env},
                                                 infra_env=infra_env, config=config, resources=resources,
                                                 logdir=logdir)))
    rc = RedisConn(redis)
    # Poll the counts (not a synchronisation of the system under test: a stopwatch).
    first, last, seen = {}, {}, {}
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        now = time.monotonic()
        for mode, app_id, _, _ in VARIANTS:
            c, _ = counted(rc, app_id)
            if c and mode not in first:
                first[mode] = now
            if c != seen.get(mode):
                seen[mode], last[mode] = c, now
        if all(seen.get(m, 0) >= n for m, _, _, _ in VARIANTS) and all(left(v) == 0 for v in VARIANTS):
            break
        time.sleep(0.05)
    res = {"store": store, "put_rate": put_rate, "ok": True, "notes": []}
    for v in VARIANTS:
        mode, app_id = v[0], v[1]
        c, pts = counted(rc, app_id)
        remaining = left(v)
        span = last.get(mode, 0) - first.get(mode, 0)
        res[mode] = {"counted": c, "left": remaining, "rate": (n - 1) / span if span > 0 else float("nan")}
        exp_pts = sum(TOTALS[i % 10] for i in range(n))
        if remaining:
            res["ok"] = False
            res["notes"].append(f"{mode}: {remaining}+ orders left")
        if mode == "lock":
            markers = int(redis.cli("EVAL", "return #redis.call('KEYS', ARGV[1])", 0, f"{app_id}||processed:*"))
            per = [(r or {}).get("orderCount", 0) for r in records(rc, app_id)]
            exp = [sum(1 for i in range(n) if i % 10 + 1 == k) for k in range(1, 11)]
            if per != exp or pts != exp_pts or markers != n:
                res["ok"] = False
                res["notes"].append(f"lock not exact: counts {per} (expected {exp}), points {pts}/{exp_pts}, "
                                    f"markers {markers}")
        elif c < n:
            res["ok"] = False
            res["notes"].append(f"nolock counted {c} < {n}")
        res[mode]["over"] = c - n
    rc.close()
    for inst in reversed(instances):
        inst.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1000, help="orders per variant with Azurite")
    ap.add_argument("--ls-orders", type=int, default=3000, help="orders per variant with localstorage")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=4, help="LOYALTY_WORKERS of every replica")
    ap.add_argument("--list-size", type=int, default=1000)
    ap.add_argument("--seed-conns", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--stores", default="azurite,localstorage")
    ap.add_argument("--customer-lock", type=int, choices=(0, 1), default=1,
                    help="CUSTOMER_LOCK of the lock variant (1, the demo's: a per-customer lock around the count)")
    a = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]}; workers {a.workers}, list size {a.list_size}, "
              f"customer lock {a.customer_lock}")
    ok = True
    for rnd in range(a.rounds):
        for store in a.stores.split(","):
            bc = Bench()
            bc.setUp()
            try:
                n = a.orders if store == "azurite" else a.ls_orders
                r = run_round(bc, store, n, a, rnd)
            finally:
                bc.tearDown()
            ok = ok and r["ok"]
            put = f", Azurite creates alone {r['put_rate']:.0f}/s" if r["put_rate"] else ""
            print(f"round {rnd + 1} {store:12s} N={n}: lock {r['lock']['rate']:.0f} orders/s "
                  f"(counted {r['lock']['counted']}), nolock {r['nolock']['rate']:.0f} orders/s "
                  f"(counted {r['nolock']['counted']}, over {r['nolock']['over']:+d}){put}; "
                  f"{'exact, nothing left' if r['ok'] else 'WRONG: ' + '; '.join(r['notes'])}", flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
