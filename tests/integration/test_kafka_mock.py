"""kafka-mock as a command: stdout lines, files, flags, the control API's
jittered latency, and clean exits on SIGTERM and SIGINT. (Publishing through a
mock with latency, outages and pushed errors is covered by
tests/unit/sidecar/components/pubsub/test_kafka_component.c; through ripstopd by the other
test_kafka_*.py files.)"""

import os
import signal
import socket
import subprocess
import tempfile
import time

import ripstop_testlib as rt
import test_kafka_pubsub as kp


class KafkaMockCliTest(rt.ProcTestCase):
    def test_stdout_files_and_sigint(self):
        d = tempfile.mkdtemp(prefix="ripstop-kmock-")
        bfile, cfile = os.path.join(d, "b"), os.path.join(d, "c")
        port = rt.free_port()
        p = subprocess.Popen([rt.binary("kafka-mock"), "--brokers", "3", "--topic", "orders:5", "--control-port",
                              str(port), "--bootstrap-file", bfile, "--control-file", cfile],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        try:
            first = p.stdout.readline().strip()
            second = p.stdout.readline().strip()
            brokers = first.split(",")
            self.assertEqual(len(brokers), 3)
            for b in brokers:
                host, bport = b.split(":")
                self.assertEqual(host, "127.0.0.1")
                with socket.create_connection((host, int(bport)), timeout=2):
                    pass
            self.assertEqual(second, f"control: http://127.0.0.1:{port}")
            with open(bfile) as f:
                self.assertEqual(f.read().strip(), first)
            with open(cfile) as f:
                self.assertEqual(f.read().strip(), str(port))
            st = rt.request("GET", port, "/state").json()
            self.assertEqual([b["id"] for b in st["brokers"]], [1, 2, 3])
            self.assertEqual(st["topics"], [{"name": "orders", "partitions": 5}])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(timeout=10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()

    def test_sigterm_exits_zero(self):
        m = kp.KafkaMock(brokers=2)
        self.assertEqual(m.stop(), 0)

    def test_seed_from_environment(self):
        old = os.environ.get("KAFKA_MOCK_SEED")
        os.environ["KAFKA_MOCK_SEED"] = "42"
        try:
            m = self.track(kp.KafkaMock(brokers=1))
        finally:
            if old is None:
                del os.environ["KAFKA_MOCK_SEED"]
            else:
                os.environ["KAFKA_MOCK_SEED"] = old
        self.assertEqual(m.control("GET", "/state")["seed"], 42)
        r = subprocess.run([rt.binary("kafka-mock"), "--brokers", "1"], capture_output=True, text=True, timeout=10,
                           env=dict(os.environ, KAFKA_MOCK_SEED="nope"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("KAFKA_MOCK_SEED", r.stderr)

    def test_bad_flags_exit_2(self):
        for argv in (["--brokers", "0"], ["--brokers", "x"], ["--topic", "t:0"], ["--control-port", "70000"],
                     ["--log-level", "loud"], ["stray"]):
            r = subprocess.run([rt.binary("kafka-mock")] + argv, capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (argv, r.stderr))
            self.assertIn("kafka-mock", r.stderr + r.stdout)
        r = subprocess.run([rt.binary("kafka-mock"), "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--control-port", r.stdout)

    def test_jitter_stays_in_range_and_moves(self):
        m = self.track(kp.KafkaMock(brokers=2))
        st = m.control("PUT", "/brokers/2/latency", {"latency_ms": 600, "jitter_ms": 200})
        self.assertEqual(st["brokers"][0]["latency_ms"], 0)     # only broker 2
        seen = set()
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            b = m.control("GET", "/state")["brokers"][1]
            self.assertEqual((b["latency_ms"], b["jitter_ms"]), (600, 200))
            self.assertTrue(400 <= b["rtt_ms"] <= 800, b)
            seen.add(b["rtt_ms"])
            time.sleep(0.1)  # sampling interval of a bounded poll, not synchronisation
        self.assertGreaterEqual(len(seen), 3, "the jittered delay is re-drawn over time")
        st = m.control("PUT", "/brokers/all/latency", {"latency_ms": 0})
        self.assertEqual([b["rtt_ms"] for b in st["brokers"]], [0, 0])
        r = rt.request("PUT", m.control_port, "/brokers/all/latency", {"latency_ms": -5})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errorCode"], "ERR_BAD_REQUEST")


if __name__ == "__main__":
    rt.main()
