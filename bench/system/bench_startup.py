#!/usr/bin/env python3
"""bench_startup: start-to-healthy of ripstopd against the least any program pays on this machine.

Per round, in an order that rotates each round (drifting load hits every kind alike):
  - listener: build/bench/bench_listener, a C program that only listens and answers 204 (the baseline:
    fork, exec, the dynamic loader, libc, one socket);
  - none: ripstopd with no resources;
  - all: ripstopd with the demo's whole component set (deploy/local/resources without scopes: Kafka pub/sub
    and subscription, two blob bindings, two Redis state stores, the Redis lock, two cron bindings, secrets)
    with Redis, Azurite and kafka-mock up, as bench_memory.py runs it.
Each start is timed from spawn to the first 204 from GET /v1.0/healthz (the listener answers any request),
polled every millisecond on a fresh connection; "own" = the median minus the listener's median in the same run.

  python3 bench/system/bench_startup.py [--rounds R] [--ripstopd PATH] [--before PATH] [--sets listener,none,all]

--before PATH adds none and all of another ripstopd binary (e.g. main's before a change) to every round, so the
two builds are compared under the same load. Beside the wall time, "cpu" is the CPU time the process (all its
threads) had used when it first answered, from /proc/<pid>/task/*/schedstat: it moves much less with the
machine's other load than the wall time, which is mostly run-queue wait on a busy machine.
Never asserts timings; prints min / median per kind."""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_memory as M  # noqa: E402  (its resources, environment and ripstopd start)

T, F = M.T, M.F


def cpu_ms(pid):
    """CPU time of every thread of pid so far (schedstat's first field, ns), in ms."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return total / 1e6


def start_listener(path):
    port = T.free_port()
    t0 = time.monotonic()
    p = T.Proc(f"listener-{port}", [path, str(port)])
    M.wait_healthy(p, port, "listener")
    return p, (time.monotonic() - t0) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--ripstopd", default=None)
    ap.add_argument("--sets", default="listener,none,all")
    ap.add_argument("--before", default=None, help="another ripstopd binary to time in the same rounds")
    a = ap.parse_args()
    if not 1 <= a.rounds <= 1000:
        ap.error("--rounds takes 1..1000")
    kinds = [k for k in a.sets.split(",") if k]
    if not kinds or any(k not in ("listener", "none", "all") for k in kinds):
        ap.error("--sets takes a comma-separated subset of listener,none,all")
    ripstopd = a.ripstopd or T.binary("ripstopd")
    binary = {"none": ripstopd, "all": ripstopd}
    if a.before:
        kinds += [k + "@before" for k in kinds if k != "listener"]
        binary.update({"none@before": a.before, "all@before": a.before})
    listener = os.path.join(T.BUILD, "bench", "bench_listener")

    redis = az = km = None
    env = {}
    if any(k.startswith("all") for k in kinds):
        redis = T.Redis(password=F.secret("redis-password"))
        az = T.Azurite()
        km = T.KafkaMock(topics=("order",))
        env = {"RIPSTOP_REDIS_HOST": redis.addr, "RIPSTOP_BLOB_ENDPOINT": az.endpoint,
               "RIPSTOP_SECRETS_FILE": F.SECRETS_FILE, "RIPSTOP_KAFKA_BROKERS": km.bootstrap,
               "LOYALTY_SCHEDULE": "0 0 0 1 1 *", "RIPSTOP_NAMERES_DB": os.path.join(tempfile.mkdtemp(), "n.db")}
    res_all = M.resources_for(None, os.path.join(tempfile.mkdtemp(prefix="ripstop-startbench-"), "all"))
    times = {k: [] for k in kinds}
    cpus = {k: [] for k in kinds}
    try:
        print(f"ripstopd: {ripstopd}\nload average at start: {os.getloadavg()[0]:.2f}")
        for rnd in range(a.rounds):
            for i in range(len(kinds)):
                k = kinds[(i + rnd) % len(kinds)]
                if k == "listener":
                    p, ms = start_listener(listener)
                else:
                    p, _, ms = M.start([], res_all if k.startswith("all") else None, env, binary[k])
                times[k].append(ms)
                cpus[k].append(cpu_ms(p.pid))
                p.stop()
        print(f"load average at end: {os.getloadavg()[0]:.2f}\n")
        base = statistics.median(times["listener"]) if "listener" in times else None
        print(f"start to healthy, {a.rounds} rounds (ms)")
        print(f"  {'kind':<12} {'min':>7} {'median':>7} {'max':>7}   {'own':>7}   cpu median (min-max)")
        for k in kinds:
            xs, cs = times[k], cpus[k]
            own = f"{statistics.median(xs) - base:7.1f}" if base is not None and k != "listener" else f"{'':7}"
            print(f"  {k:<12} {min(xs):7.1f} {statistics.median(xs):7.1f} {max(xs):7.1f}   {own}   "
                  f"{statistics.median(cs):6.1f} ({min(cs):.1f}-{max(cs):.1f})")
        print("  (own = median - listener's; cpu = ms on a CPU, all threads, at the first answer)")
        print("\nper round: " + "; ".join(f"{k} " + "/".join(f"{x:.0f}" for x in times[k]) for k in kinds))
    finally:
        for x in (km, az, redis):
            if x:
                x.stop()


if __name__ == "__main__":
    main()
