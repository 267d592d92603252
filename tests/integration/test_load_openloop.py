"""`ripstop load`: the open-loop generator keeps its schedule whatever the server does."""
import http.server
import json
import os
import tempfile
import threading
import time

import ripstop_testlib as rt


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def make_handler(delay, status, arrivals, lock):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server API
            with lock:
                arrivals.append(time.monotonic())
                n = len(arrivals)
            time.sleep(delay)  # the server under test is slow on purpose
            body = b"ok"
            try:
                self.send_response(status)
                self.send_header("X-Order-Id", f"order-{n}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *a):
            pass
    return H


class LoadTest(rt.ProcTestCase):
    def serve(self, delay=0.0, status=200):
        arrivals, lock = [], threading.Lock()
        srv = Server(("127.0.0.1", 0), make_handler(delay, status, arrivals, lock))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        return srv.server_address[1], arrivals

    def run_load(self, *args, timeout=60):
        out = os.path.join(tempfile.mkdtemp(prefix="ripstop-load-"), "load.json")
        p = self.track(rt.Proc("load", [rt.binary("ripstop"), "load", *args, "--out", out]))
        rt.wait_for(lambda: not p.alive(), timeout, interval=0.05, what="ripstop load to finish")
        self.assertEqual(p.p.returncode, 0, p.log())
        with open(out) as f:
            return json.load(f), p.log()

    def test_slow_server_does_not_slow_the_schedule(self):
        port, arrivals = self.serve(delay=1.0)
        t0 = time.monotonic()
        data, log = self.run_load("--url", f"slow=http://127.0.0.1:{port}/", "--rate", "10", "--duration", "2",
                                  "--timeout", "10")
        recs = data["records"]
        self.assertEqual(len(recs), 20)
        # Closed-loop with one connection would need 20 s; open loop sends on time.
        self.assertLess(max(r["sent_ms"] - r["sched_ms"] for r in recs), 300, recs)
        self.assertEqual([r["sched_ms"] for r in recs], [i * 100 for i in range(20)])
        self.assertEqual(len(arrivals), 20)
        arrived_before_first_reply = sum(1 for a in arrivals if a < arrivals[0] + 0.9)
        self.assertGreaterEqual(arrived_before_first_reply, 8, [a - t0 for a in arrivals])
        self.assertTrue(all(r["ok"] and r["status"] == 200 for r in recs))
        self.assertTrue(all(950 <= r["latency_ms"] < 5000 for r in recs), [r["latency_ms"] for r in recs])
        self.assertEqual(sorted(r["order_id"] for r in recs), sorted(f"order-{i}" for i in range(1, 21)))
        self.assertIn("slow", log)

    def test_outcomes_recorded_per_target(self):
        good, _ = self.serve()
        bad, _ = self.serve(status=500)
        hang, _ = self.serve(delay=3.0)
        closed = rt.free_port()
        data, _ = self.run_load("--url", f"good=http://127.0.0.1:{good}/", "--url", f"bad=http://127.0.0.1:{bad}/",
                                "--url", f"hang=http://127.0.0.1:{hang}/", "--url", f"closed=http://127.0.0.1:{closed}/",
                                "--rate", "5", "--duration", "1", "--timeout", "0.5")
        by = {}
        for r in data["records"]:
            by.setdefault(r["target"], []).append(r)
        self.assertEqual({k: len(v) for k, v in by.items()}, {"good": 5, "bad": 5, "hang": 5, "closed": 5})
        self.assertTrue(all(r["ok"] for r in by["good"]))
        self.assertTrue(all(not r["ok"] and r["status"] == 500 for r in by["bad"]))
        self.assertTrue(all(not r["ok"] and r["error"] == "timeout" for r in by["hang"]), by["hang"])
        self.assertTrue(all(not r["ok"] and r["status"] == 0 and r["error"] for r in by["closed"]), by["closed"])

    def test_bounded_by_max(self):
        port, arrivals = self.serve()
        data, _ = self.run_load("--url", f"http://127.0.0.1:{port}/", "--rate", "50", "--duration", "10", "--max", "7")
        self.assertEqual(len(data["records"]), 7)
        self.assertEqual(len(arrivals), 7)

    def test_bad_arguments(self):
        p = self.track(rt.Proc("load-bad", [rt.binary("ripstop"), "load", "--url", "ftp://x", "--rate", "1",
                                            "--duration", "1"]))
        rt.wait_for(lambda: not p.alive(), 10, what="exit")
        self.assertEqual(p.p.returncode, 2)
        p = self.track(rt.Proc("load-bad2", [rt.binary("ripstop"), "load", "--url", "http://127.0.0.1:1/",
                                             "--rate", "0", "--duration", "1"]))
        rt.wait_for(lambda: not p.alive(), 10, what="exit")
        self.assertEqual(p.p.returncode, 2)


if __name__ == "__main__":
    rt.main()
