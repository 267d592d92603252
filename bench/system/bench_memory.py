#!/usr/bin/env python3
"""bench_memory: what a ripstopd costs in memory and start-up time, per component set.

Starts Redis (with deploy/local's password), Azurite and kafka-mock, then, for each
component set below, R times: a fresh ripstopd loading deploy/local/resources
(scopes removed, so one sidecar holds every component the demo uses), the time
from spawn to the first 204 from /v1.0/healthz, and after --idle seconds its
memory from /proc/<pid>/smaps_rollup (private vs shared pages), its threads, and
per mapped file (smaps, summed per path) what each library costs.

Sets: "none" is the baseline (no resources folder); "secrets" the secret store
alone; every other set is the secret store plus one component kind; "all" is
the demo's whole set (Kafka pub/sub + subscription, two blob bindings, two Redis
state stores, Redis lock, two cron bindings, secrets).

Then, on an "all" sidecar: saturation (--threads client threads doing state
save/get, lock/unlock and publish back to back for --seconds), and --idle-conns
idle keep-alive connections held open; VmHWM (peak RSS) and RSS after each.

  python3 bench/system/bench_memory.py [--rounds R] [--idle S] [--seconds S] [--threads N]
                                       [--idle-conns N] [--ripstopd PATH] [--maps N]
Never asserts timings; prints tables."""

import argparse
import collections
import glob
import http.client
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import ripstop_testlib as T  # noqa: E402
import services_fixtures as F  # noqa: E402

SETS = {
    "none": [],
    "secrets": ["secretstore.yaml"],
    "state.redis": ["secretstore.yaml", "loyalty-store.yaml"],
    "lock.redis": ["secretstore.yaml", "loyalty-lock.yaml"],
    "bindings.cron": ["secretstore.yaml", "checkorders.yaml"],
    "bindings.azure.blobstorage": ["secretstore.yaml", "order-binding.yaml"],
    "pubsub.kafka": ["secretstore.yaml", "pubsub.yaml", "subscription.yaml"],
    "all": None,  # every file of deploy/local/resources
}
ROLLUP = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Anonymous")


def resources_for(files, into):
    """Copies deploy/local/resources files (all when files is None) without their scopes."""
    os.makedirs(into, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(F.RESOURCES, "*.yaml"))) if files is None else \
        [os.path.join(F.RESOURCES, f) for f in files]
    for p in paths:
        with open(p) as f:
            text = f.read()
        text = re.sub(r"\nscopes:\n(?:- .*\n?)+", "\n", text)
        with open(os.path.join(into, os.path.basename(p)), "w") as f:
            f.write(text)
    return into


def rollup(pid):
    r = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[2] == "kB":
                r[p[0].rstrip(":")] = int(p[1])
    return r




def per_mapping(pid):
    """{path: [rss, private]} in kB, summed over the path's mappings; anonymous ones by their tag."""
    agg = collections.defaultdict(lambda: [0, 0])
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            p = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = os.path.basename(p[5]) if len(p) > 5 and p[5].startswith("/") else (p[5] if len(p) > 5 else "[anon]")
            elif p[0] == "Rss:":
                agg[name][0] += int(p[1])
            elif p[0] in ("Private_Clean:", "Private_Dirty:"):
                agg[name][1] += int(p[1])
    return agg


def start(argv_extra, res, env, ripstopd):
    port = T.free_port()
    argv = [ripstopd, "--app-id", "membench", "--dapr-http-port", str(port), "--dapr-grpc-port", str(T.free_port()),
            "--metrics-port", str(T.free_port()), "--log-level", "warn"] + argv_extra
    if res:
        argv += ["--resources-path", res]
    t0 = time.monotonic()
    p = T.Proc(f"ripstopd-{port}", argv, env=env)
    wait_healthy(p, port, "ripstopd")
    return p, port, (time.monotonic() - t0) * 1000


def wait_healthy(p, port, what):
    """Polls GET /v1.0/healthz on a fresh connection every millisecond until process p answers 204."""
    def healthy():
        if not p.alive():
            raise RuntimeError(f"{what} exited:\n{p.log()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 204")
        except OSError:
            return False

    T.wait_for(healthy, 30, interval=0.001, what=f"{what} healthy")


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def saturate(port, seconds, threads):
    """Client threads on keep-alive connections: state save, get, lock, unlock, publish, back to back."""
    stop = time.monotonic() + seconds
    counts, errors = [0] * threads, [0] * threads
    value = json.dumps({"customerId": 1, "orderTotal": 12.5, "loyaltyPoints": 0, "orderCount": 0})

    def worker(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        calls = [
            ("POST", "/v1.0/state/loyalty-store", json.dumps([{"key": f"k{i}", "value": json.loads(value)}])),
            ("GET", f"/v1.0/state/loyalty-store/k{i}", None),
            ("POST", "/v1.0-alpha1/lock/loyalty-lock",
             json.dumps({"resourceId": f"r{i}", "lockOwner": f"o{i}", "expiryInSeconds": 10})),
            ("POST", "/v1.0-alpha1/unlock/loyalty-lock", json.dumps({"resourceId": f"r{i}", "lockOwner": f"o{i}"})),
            ("POST", "/v1.0/publish/order-queue/membench", value),
        ]
        n = 0
        while time.monotonic() < stop:
            m, path, body = calls[n % len(calls)]
            try:
                c.request(m, path, body=body, headers={"Content-Type": "application/json"} if body else {})
                r = c.getresponse()
                r.read()
                if r.status >= 300:
                    errors[i] += 1
                counts[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            n += 1
        c.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts), sum(errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle", type=float, default=1.0, help="seconds after healthy before memory is read")
    ap.add_argument("--seconds", type=float, default=5.0, help="saturation phase length")
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--idle-conns", type=int, default=1000)
    ap.add_argument("--maps", type=int, default=25, help="largest mappings listed for 'none' and 'all'")
    ap.add_argument("--ripstopd", default=None)
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated subset of: " + ",".join(SETS))
    a = ap.parse_args()
    ripstopd = a.ripstopd or T.binary("ripstopd")

    redis = T.Redis(password=F.secret("redis-password"))
    az = T.Azurite()
    km = T.KafkaMock(topics=("order", "membench"))
    env = {"RIPSTOP_REDIS_HOST": redis.addr, "RIPSTOP_BLOB_ENDPOINT": az.endpoint,
           "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE, "RIPSTOP_KAFKA_BROKERS": km.bootstrap,
           "LOYALTY_SCHEDULE": "0 0 0 1 1 *", "RIPSTOP_NAMERES_DB": os.path.join(tempfile.mkdtemp(), "n.db")}
    base = tempfile.mkdtemp(prefix="ripstop-membench-")
    procs = []
    try:
        with open("/proc/loadavg") as f:
            print(f"ripstopd: {ripstopd}\nload average at start: {f.read().split()[0]}\n")
        rows, maps = {}, {}
        names = [s for s in a.sets.split(",") if s]
        for rnd in range(a.rounds):
            for name in names:  # interleaved, so drifting load hits every set alike
                res = resources_for(SETS[name], os.path.join(base, name)) if SETS[name] != [] else None
                p, _, ms = start([], res, env, ripstopd)
                procs.append(p)
                time.sleep(a.idle)  # idle: what it holds once started, not a synchronisation
                ro, st = rollup(p.pid), T.proc_status(p.pid)
                rows.setdefault(name, []).append((ms, ro, int(st["Threads"])))
                if rnd == 0:
                    maps[name] = per_mapping(p.pid)
                p.stop()
        print("start to healthy and idle memory (kB; median of rounds; Rss = Shared + Private)")
        hdr = ["set", "healthy ms", "threads"] + list(ROLLUP)
        print(" | ".join(hdr))
        for name in names:
            r = rows[name]
            vals = [f"{med([x[0] for x in r]):.0f}", f"{med([x[2] for x in r]):.0f}"] + \
                [f"{med([x[1].get(k, 0) for x in r]):.0f}" for k in ROLLUP]
            print(" | ".join([name] + vals))
        print("\nstart to healthy per round (ms): " + "; ".join(
            f"{n} " + "/".join(f"{x[0]:.0f}" for x in rows[n]) for n in names))

        if "none" in maps:
            print("\nwhat each set adds to 'none' per mapping (kB Rss / private, first round; > 16 kB only)")
            for name in names:
                if name == "none":
                    continue
                d = []
                for path, (rss, priv) in maps[name].items():
                    o = maps["none"].get(path, [0, 0])
                    if rss - o[0] > 16 or priv - o[1] > 16:
                        d.append((rss - o[0], priv - o[1], path))
                d.sort(reverse=True)
                print(f"{name}: " + ", ".join(f"{p} +{r}/{q}" for r, q, p in d[:12]))
            for name in ("none", "all"):
                if name in maps:
                    print(f"\nlargest mappings, {name} (kB Rss / private)")
                    for path, (rss, priv) in sorted(maps[name].items(), key=lambda x: -x[1][0])[:a.maps]:
                        print(f"  {rss:6d} {priv:6d}  {path}")

        if "all" in names:
            res = resources_for(None, os.path.join(base, "all"))
            p, port, _ = start([], res, env, ripstopd)
            procs.append(p)
            time.sleep(a.idle)
            before = T.rss_kib(p.pid)
            n, errs = saturate(port, a.seconds, a.threads)
            st, ro = T.proc_status(p.pid), rollup(p.pid)
            print(f"\nsaturation ('all', {a.threads} client threads, {a.seconds:.0f} s): {n} calls "
                  f"({n / a.seconds:.0f}/s), {errs} errors; RSS {before} -> {T.proc_kib(st, 'VmRSS')} kB, "
                  f"peak (VmHWM) {T.proc_kib(st, 'VmHWM')} kB; private {ro['Private_Clean'] + ro['Private_Dirty']} kB, "
                  f"threads {st['Threads']}")
            socks = []
            for _ in range(a.idle_conns):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"GET /v1.0/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
            for s in socks:
                s.recv(256)
            st = T.proc_status(p.pid)
            after = T.proc_kib(st, "VmRSS")
            print(f"{a.idle_conns} idle keep-alive connections (each answered once): RSS {after} kB, peak "
                  f"{T.proc_kib(st, 'VmHWM')} kB")
            for s in socks:
                s.close()
            p.stop()
    finally:
        for p in procs:
            p.stop()
        km.stop()
        az.stop()
        redis.stop()


if __name__ == "__main__":
    main()
