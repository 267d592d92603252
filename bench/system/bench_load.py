#!/usr/bin/env python3
"""bench_load: the order system at load, through Dapr and directly.

Starts the whole order system (`ripstop run -f deploy/local/dapr.yaml`, with
Redis, Azurite and kafka-mock) and drives each frontend alone, open-loop
(`ripstop load`), at rising rates: per rate and round one phase against
frontend-dapr (frontend-dapr → its ripstopd → the order service's ripstopd →
customer-order-service → publish through its ripstopd) and one against the
plain frontend (frontend → customer-order-service → publish through its
ripstopd), in alternating order. Per phase: orders/s accepted (200), p50/p99
of the latency of every request, errors (not 200, or no answer within
--timeout), and the CPU the sidecars on the path used (from /proc/<pid>/stat:
frontend-dapr's, the order service's and the audit service's ripstopd), in
mCPU. The highest rate at which a path stays at p99 < 50 ms with no error in
every round, and the ratio of the Dapr path's to the direct one's.

--chaos: then `ripstop demo --scenario deploy/local/scenario-load.yaml` (its
own run of the system): the load on both frontends with the Kafka latency
chaos, sampling every 0.5 s the RSS of frontend-dapr's and the order service's
ripstopd; afterwards the most requests in flight at once per frontend (from the
recording) and the demo's verdict (nothing lost: every order accepted by
frontend-dapr counted exactly by the lock variant).

  python3 bench/system/bench_load.py [--rates 20,50,100,200,400] [--seconds S] [--rounds R]
                                     [--timeout S] [--chaos] [--chaos-only]
Never asserts timings; prints tables."""

import argparse
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import ripstop_testlib as T  # noqa: E402

RUN_FILE = os.path.join(T.SRC, "deploy", "local", "dapr.yaml")
SCENARIO = os.path.join(T.SRC, "deploy", "local", "scenario-load.yaml")
TICK = os.sysconf("SC_CLK_TCK")
SIDECARS = ("frontend-dapr", "customer-order-service", "customer-audit-service")
SHORT = {"frontend-dapr": "frontend", "customer-order-service": "order", "customer-audit-service": "audit"}


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            p = f.read().rsplit(")", 1)[1].split()
        return (int(p[11]) + int(p[12])) / TICK
    except OSError:
        return 0.0




def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def start_system(logdir):
    run = T.Proc("ripstop-run", [T.binary("ripstop"), "run", "-f", RUN_FILE, "--quiet", "--log-dir", logdir,
                                 "--env", "LOYALTY_SCHEDULE=*/1 * * * * *", "--env", "LIST_SIZE=1000"],
                 logdir=logdir)
    T.wait_for(lambda: "instance(s) ready" in run.log() or not run.alive(), 180, interval=0.2,
               what="ripstop run: every instance ready")
    if not run.alive():
        raise RuntimeError("ripstop run exited:\n" + run.log()[-3000:])
    T.wait_for(lambda: len(re.findall(r"^\[ripstop\]\s+\S+#\d+\s+app port", run.log(), re.M)) >= 8, 10,
               what="the instance summary")
    inst = {}
    for m in re.finditer(r"^\[ripstop\]\s+(\S+)#(\d+)\s+app port (\d+)\s+dapr http port (\d+)\s+app pid (\d+)\s+"
                         r"daprd pid (\d+)", run.log(), re.M):
        inst[(m.group(1), int(m.group(2)))] = {"app_port": int(m.group(3)), "daprd_pid": int(m.group(6))}
    return run, inst


def load_phase(name, port, rate, seconds, timeout, outdir):
    out = os.path.join(outdir, f"load-{name}-{rate}-{time.monotonic_ns()}.json")
    p = T.Proc("load", [T.binary("ripstop"), "load", "--url", f"{name}=http://127.0.0.1:{port}/", "--rate", str(rate),
                        "--duration", str(seconds), "--timeout", str(timeout), "--out", out], logdir=outdir)
    T.wait_for(lambda: not p.alive(), seconds + timeout + 60, interval=0.05, what="ripstop load")
    with open(out) as f:
        recs = json.load(f)["records"]
    ok = [r for r in recs if r["ok"] and r["status"] == 200]
    return {"accepted": len(ok) / seconds, "errors": len(recs) - len(ok), "sent": len(recs),
            "p50": pct([r["latency_ms"] for r in ok], 0.50), "p99": pct([r["latency_ms"] for r in ok], 0.99)}


def rising(a, outdir):
    logdir = os.path.join(outdir, "logs")
    os.makedirs(logdir)
    run, inst = start_system(logdir)
    try:
        ports = {"dapr": inst[("frontend-dapr", 1)]["app_port"], "direct": inst[("frontend", 1)]["app_port"]}
        pids = {s: inst[(s, 1)]["daprd_pid"] for s in SIDECARS}
        for name, port in ports.items():  # warm-up: both paths answer once
            T.wait_for(lambda: T.request("GET", port, "/", timeout=30).status == 200, 60, interval=0.5,
                       what=f"{name} frontend answering")
        results = {}
        rates = [int(x) for x in a.rates.split(",")]
        for rnd in range(a.rounds):
            for rate in rates:
                order = ("dapr", "direct") if (rnd + rates.index(rate)) % 2 == 0 else ("direct", "dapr")
                for name in order:
                    c0 = {s: cpu_s(p) for s, p in pids.items()}
                    t0 = time.monotonic()
                    r = load_phase(name, ports[name], rate, a.seconds, a.timeout, outdir)
                    dt = time.monotonic() - t0
                    r["mcpu"] = {s: 1000 * (cpu_s(p) - c0[s]) / dt for s, p in pids.items()}
                    results.setdefault((name, rate), []).append(r)
                    mc = " ".join(f"{SHORT[s]} {v:.0f}" for s, v in r["mcpu"].items())
                    print(f"round {rnd + 1} {name:6s} {rate:5d}/s: accepted {r['accepted']:7.1f}/s  p50 {r['p50']:5.0f} ms "
                          f" p99 {r['p99']:6.0f} ms  errors {r['errors']:4d}/{r['sent']}  sidecar mCPU {mc}", flush=True)
        print("\nper rate (median over rounds; p99 the worst round):")
        best = {}
        for rate in rates:
            line = [f"{rate:5d}/s"]
            for name in ("dapr", "direct"):
                rs = results[(name, rate)]
                acc = sorted(x["accepted"] for x in rs)[len(rs) // 2]
                p50 = sorted(x["p50"] for x in rs)[len(rs) // 2]
                p99 = max(x["p99"] for x in rs)
                err = sum(x["errors"] for x in rs)
                if p99 < 50 and err == 0:
                    best[name] = rate
                cpu = sum(sorted(x["mcpu"][s] for x in rs)[len(rs) // 2] for s in SIDECARS[:2])
                line.append(f"{name}: {acc:.1f}/s p50 {p50:.0f} p99 {p99:.0f} ms err {err}"
                            + (f" (frontend+order sidecars {cpu:.0f} mCPU)" if name == "dapr" else ""))
            print("  " + " | ".join(line))
        bd, bx = best.get("dapr"), best.get("direct")
        print(f"\nhighest rate with p99 < 50 ms and no error in every round: dapr {bd}/s, direct {bx}/s"
              + (f", ratio {bd / bx:.2f}" if bd and bx else "")
              + (" (direct met it at the highest rate tried: raise --rates)" if bx == rates[-1] else ""))
    finally:
        run.stop(timeout=60)


def chaos(a, outdir):
    out = os.path.join(outdir, "demo")
    p = T.Proc("demo", [T.binary("ripstop"), "demo", "--scenario", SCENARIO, "--out", out], logdir=outdir)
    peak = {}
    t_end = time.monotonic() + a.chaos_timeout
    while p.alive() and time.monotonic() < t_end:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if not argv[0].endswith(b"ripstopd") or b"--app-id" not in argv:
                continue
            app = argv[argv.index(b"--app-id") + 1].decode()
            # only the demo's sidecars: their log folder or resources live under our out dir
            if app in SIDECARS[:2] and any(out.encode() in x or outdir.encode() in x for x in argv) or \
                    app in SIDECARS[:2] and _child_of(int(pid), p.pid):
                peak[app] = max(peak.get(app, 0), T.rss_kib(int(pid)))
        time.sleep(0.5)
    if p.alive():
        p.stop()
        print("chaos: the demo did not finish in time")
        return
    print(p.log()[-2500:])
    try:
        with open(os.path.join(out, "recording.json")) as f:
            rec = json.load(f)
    except OSError:
        print("chaos: no recording.json")
        return
    for name, recs in _load_records(rec).items():
        ev = sorted([(r["sent_ms"], 1) for r in recs] + [(r["sent_ms"] + r["latency_ms"], -1) for r in recs])
        cur = mx = 0
        for _, d in ev:
            cur += d
            mx = max(mx, cur)
        print(f"chaos: {name}: {len(recs)} requests, at most {mx} in flight at once")
    print("chaos: peak RSS of the sidecars (kB): " + ", ".join(f"{k} {v}" for k, v in peak.items()))


def _child_of(pid, ancestor):
    for _ in range(10):
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def _load_records(rec):
    """{target: [records]} from a demo recording (its load section)."""
    load = rec.get("load") or {}
    recs = load.get("records") if isinstance(load, dict) else None
    out = {}
    for r in recs or []:
        out.setdefault(r.get("target", "?"), []).append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="20,50,100,200,400")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=10, help="the load generator's patience per request, s")
    ap.add_argument("--chaos", action="store_true", help="also run deploy/local/scenario-load.yaml")
    ap.add_argument("--chaos-only", action="store_true")
    ap.add_argument("--chaos-timeout", type=float, default=900)
    a = ap.parse_args()
    outdir = tempfile.mkdtemp(prefix="ripstop-loadbench-")
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]}; output in {outdir}")
    if not a.chaos_only:
        rising(a, outdir)
    if a.chaos or a.chaos_only:
        chaos(a, outdir)


if __name__ == "__main__":
    main()
