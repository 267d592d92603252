"""5,000 invocations waiting on a slow app are held by both sidecars without extra threads and with
bounded memory (DESIGN §3: one event loop, no thread per request)."""
import asyncio
import os
import resource
import tempfile

import ripstop_testlib as t
from fault_app import FaultApp
from test_invoke_basic import nameres_config, wait_resolvable

N = 5000
WAIT_S = 180  # a deadline, not a measure: under ASan on a loaded machine 5000 connections take a while


def sanitized_build():
    try:
        with open(os.path.join(t.BUILD, "CMakeCache.txt")) as f:
            return "RIPSTOP_SANITIZE:BOOL=ON" in f.read()
    except OSError:
        return False


def threads_and_rss(pid):
    st = t.proc_status(pid)
    return int(st["Threads"]), t.proc_kib(st)  # kB


async def one_call(port, results):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /v1.0/invoke/slow/method/gate/scale HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), WAIT_S + 60)
        results.append(int(status.split()[1]) if status else 0)
        writer.close()
    except Exception as e:  # noqa: BLE001 - counted as a failure below
        results.append(repr(e))


class Scale(t.ProcTestCase):
    def test_5000_waiting_invocations(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 3 * N:
            self.skipTest(f"needs {3 * N} file descriptors (hard limit {hard})")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * N)), hard))  # inherited by children
        d = tempfile.mkdtemp(prefix="ripstop-scale-")
        cfg = nameres_config(d)
        app = self.track(FaultApp("slow"))
        callee = self.track(t.Sidecar("slow", app_port=app.port, config=cfg, extra_args=["--log-level", "info"]))
        caller = self.track(t.Sidecar("caller", config=cfg, extra_args=["--log-level", "info"]))
        wait_resolvable(caller, "slow")
        base = {p.proc.pid: threads_and_rss(p.proc.pid) for p in (caller, callee)}

        async def run():
            results = []
            tasks = [asyncio.ensure_future(one_call(caller.port, results)) for _ in range(N)]
            peak = {}

            def all_waiting():
                return app.control("counts")["inflight"] >= N + 1  # +1: the control request itself

            loop = asyncio.get_running_loop()
            # wait (off the event loop) until every call is parked at the app, then sample the sidecars
            await loop.run_in_executor(None, lambda: t.wait_for(all_waiting, WAIT_S, interval=0.2,
                                                                what=f"{N} calls waiting at the app"))
            for p in (caller, callee):
                peak[p.proc.pid] = threads_and_rss(p.proc.pid)
            app.control("open", {"key": "scale"})  # every call waited at the app at once; now let them finish
            await asyncio.gather(*tasks)
            return results, peak

        results, peak = asyncio.run(run())
        ok = sum(1 for r in results if r == 200)
        self.assertEqual(ok, N, [r for r in results if r != 200][:5])
        for pid, (threads, rss) in peak.items():
            bthreads, brss = base[pid]
            print(f"pid {pid}: threads {bthreads} -> {threads}, RSS {brss} kB -> {rss} kB "
                  f"({(rss - brss) / N:.1f} kB per waiting call)")
            self.assertEqual(threads, bthreads)           # no thread per request
            # bounded: under ~40 kB per waiting call (ASan's redzones and quarantine multiply that)
            self.assertLess(rss - brss, 200 * 1024 * (8 if sanitized_build() else 1))


if __name__ == "__main__":
    t.main()
