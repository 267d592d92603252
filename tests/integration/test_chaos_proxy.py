"""`ripstop chaos`: the Toxiproxy-compatible TCP fault proxy.

An echo server stands behind the proxy; each test drives the HTTP API the way a
Toxiproxy client would and checks the bytes (and their timing) at the client."""
import socket
import socketserver
import threading
import time

import ripstop_testlib as rt


class Echo(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            while True:
                d = self.request.recv(65536)
                if not d:
                    return
                self.request.sendall(d)
        except OSError:
            return


class ChaosProxyTest(rt.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.echo = Echo(("127.0.0.1", 0), EchoHandler)
        self.echo_port = self.echo.server_address[1]
        threading.Thread(target=self.echo.serve_forever, daemon=True).start()
        self.api = rt.free_port()
        self.proc = self.track(rt.Proc("chaos", [rt.binary("ripstop"), "chaos", "--port", str(self.api), "--seed", "7"]))
        rt.wait_for(lambda: rt.port_open(self.api), 10, what="chaos API")

    def tearDown(self):
        super().tearDown()
        self.echo.shutdown()
        self.echo.server_close()

    def call(self, method, path, body=None):
        return rt.request(method, self.api, path, body)

    def make_proxy(self, name="echo", **extra):
        spec = {"name": name, "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{self.echo_port}"}
        spec.update(extra)
        r = self.call("POST", "/proxies", spec)
        self.assertEqual(r.status, 201, r)
        return int(r.json()["listen"].rsplit(":", 1)[1])

    def roundtrip(self, port, data=b"ping", timeout=10.0):
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                d = s.recv(65536)
                if not d:
                    break
                got += d
        return got, time.monotonic() - t0

    def test_api_shapes(self):
        r = self.call("POST", "/proxies", {"name": "kafka", "listen": "127.0.0.1:0",
                                           "upstream": f"127.0.0.1:{self.echo_port}"})
        self.assertEqual(r.status, 201)
        p = r.json()
        self.assertEqual(set(p), {"name", "listen", "upstream", "enabled", "toxics"})
        self.assertEqual(p["enabled"], True)
        self.assertEqual(p["toxics"], [])
        self.assertEqual(self.call("POST", "/proxies", {"name": "kafka", "upstream": "127.0.0.1:1"}).status, 409)
        self.assertIn("kafka", self.call("GET", "/proxies").json())
        self.assertEqual(self.call("GET", "/proxies/kafka").json()["name"], "kafka")
        r = self.call("GET", "/proxies/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json(), {"error": "proxy not found", "status": 404})
        r = self.call("POST", "/proxies/kafka/toxics", {"type": "latency", "attributes": {"latency": 10, "jitter": 2}})
        self.assertEqual(r.status, 200, r)
        t = r.json()
        self.assertEqual(t, {"name": "latency_downstream", "type": "latency", "stream": "downstream",
                             "toxicity": 1.0, "attributes": {"latency": 10, "jitter": 2}})
        self.assertEqual(self.call("POST", "/proxies/kafka/toxics", {"type": "latency"}).status, 409)
        r = self.call("POST", "/proxies/kafka/toxics/latency_downstream", {"attributes": {"latency": 20}})
        self.assertEqual(r.json()["attributes"]["latency"], 20)
        self.assertEqual(len(self.call("GET", "/proxies/kafka/toxics").json()), 1)
        self.assertEqual(self.call("GET", "/proxies/kafka/toxics/latency_downstream").json()["attributes"]["jitter"], 2)
        for bad in (1e300, 1e13, -1, "10"):  # refused before the cast to an integer
            r = self.call("POST", "/proxies/kafka/toxics/latency_downstream", {"attributes": {"latency": bad}})
            self.assertEqual(r.status, 400, (bad, r))
        self.assertEqual(self.call("DELETE", "/proxies/kafka/toxics/latency_downstream").status, 204)
        self.assertEqual(self.call("GET", "/proxies/kafka/toxics/latency_downstream").status, 404)
        self.assertEqual(self.call("DELETE", "/proxies/kafka").status, 204)
        self.assertEqual(self.call("GET", "/proxies").json(), {})
        self.assertIn(b"ripstop", self.call("GET", "/version").body)

    def test_populate_and_patch(self):
        r = self.call("POST", "/populate", [{"name": "a", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{self.echo_port}"},
                                            {"name": "b", "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{self.echo_port}"}])
        self.assertEqual(r.status, 201, r)
        self.assertEqual([p["name"] for p in r.json()["proxies"]], ["a", "b"])
        port_a = int(r.json()["proxies"][0]["listen"].rsplit(":", 1)[1])
        self.call("POST", "/proxies/a/toxics", {"type": "latency", "attributes": {"latency": 300}})
        # the same config again keeps the proxy and its toxic
        listen_a = r.json()["proxies"][0]["listen"]
        r = self.call("POST", "/populate", [{"name": "a", "listen": listen_a, "upstream": f"127.0.0.1:{self.echo_port}"}])
        self.assertEqual(len(r.json()["proxies"][0]["toxics"]), 1)
        self.assertGreaterEqual(self.roundtrip(port_a)[1], 0.29)
        r = self.call("PATCH", "/proxies/a/toxics/latency_downstream", {"attributes": {"latency": 0}})
        self.assertEqual(r.status, 200, r)
        self.assertLess(self.roundtrip(port_a)[1], 0.25)
        self.assertEqual(self.call("PATCH", "/proxies/b", {"enabled": False}).json()["enabled"], False)
        self.assertEqual(self.call("POST", "/populate", {"name": "x"}).status, 400)
        self.assertEqual(self.call("POST", "/populate", [{"name": "x", "upstream": "8.8.8.8:53"}]).status, 400)

    def test_bad_input(self):
        self.assertEqual(self.call("POST", "/proxies", b"{not json").status, 400)
        self.assertEqual(self.call("POST", "/proxies", {"name": "x"}).status, 400)
        r = self.call("POST", "/proxies", {"name": "x", "upstream": "10.1.2.3:80"})
        self.assertEqual(r.status, 400)
        self.assertIn("loopback", r.json()["error"])
        self.assertEqual(self.call("POST", "/proxies", {"name": "x", "upstream": "127.0.0.1:notaport"}).status, 400)
        self.make_proxy("p")
        self.assertEqual(self.call("POST", "/proxies/p/toxics", {"type": "slow_close"}).status, 400)
        self.assertEqual(self.call("POST", "/proxies/p/toxics", {"type": "latency", "stream": "sideways"}).status, 400)
        self.assertEqual(self.call("POST", "/proxies/p/toxics", {"type": "latency", "toxicity": 3}).status, 400)
        self.assertEqual(self.call("POST", "/proxies/p/toxics",
                                   {"type": "latency", "attributes": {"latency": "x"}}).status, 400)
        self.assertEqual(self.call("POST", "/proxies/p/toxics", {"type": "bandwidth"}).status, 400)
        self.assertEqual(self.call("GET", "/nothing/here").status, 404)
        self.assertTrue(self.proc.alive())

    def test_passthrough(self):
        port = self.make_proxy()
        got, _ = self.roundtrip(port, b"x" * 100000)
        self.assertEqual(got, b"x" * 100000)

    def test_latency_downstream_and_upstream(self):
        port = self.make_proxy()
        _, fast = self.roundtrip(port)
        self.call("POST", "/proxies/echo/toxics", {"type": "latency", "attributes": {"latency": 400}})
        got, slow = self.roundtrip(port)
        self.assertEqual(got, b"ping")
        self.assertGreaterEqual(slow, 0.39)
        self.call("POST", "/proxies/echo/toxics", {"type": "latency", "stream": "upstream",
                                                   "attributes": {"latency": 300}})
        _, both = self.roundtrip(port)
        self.assertGreaterEqual(both, 0.69)
        self.call("POST", "/reset")
        _, again = self.roundtrip(port)
        self.assertLess(again, 0.3, f"fast was {fast}")

    def test_latency_jitter_spreads(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "latency", "attributes": {"latency": 300, "jitter": 200}})
        times = [self.roundtrip(port)[1] for _ in range(8)]
        self.assertTrue(all(0.09 <= t < 1.0 for t in times), times)
        self.assertGreater(max(times) - min(times), 0.05, times)

    def test_timeout_closes(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "timeout", "attributes": {"timeout": 300}})
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"hello")
            self.assertEqual(s.recv(100), b"")  # closed, nothing passed
        self.assertGreaterEqual(time.monotonic() - t0, 0.28)

    def test_timeout_zero_holds_until_removed(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "timeout", "attributes": {"timeout": 0}})
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"held")
            s.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                s.recv(100)
            self.assertEqual(self.call("DELETE", "/proxies/echo/toxics/timeout_downstream").status, 204)
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"held")

    def test_reset_peer(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "reset_peer", "attributes": {"timeout": 100}})
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with self.assertRaises(ConnectionResetError):
                s.sendall(b"a")
                for _ in range(50):
                    if not s.recv(100):
                        break

    def test_bandwidth(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "bandwidth", "attributes": {"rate": 100}})
        got, t = self.roundtrip(port, b"z" * 60000)
        self.assertEqual(len(got), 60000)
        self.assertGreaterEqual(t, 0.5)  # 60 KB at 100 KB/s

    def test_slicer(self):
        """The slicer cuts data into pieces of average_size ± size_variation bytes, `delay` µs apart: the bytes all
        arrive, in order, no sooner than the pieces' delays add up to."""
        port = self.make_proxy()
        r = self.call("POST", "/proxies/echo/toxics", {"type": "slicer", "attributes": {
            "average_size": 10, "size_variation": 4, "delay": 20000}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["attributes"], {"average_size": 10, "size_variation": 4, "delay": 20000})
        data = bytes(range(100)) * 2
        got, t = self.roundtrip(port, data)
        self.assertEqual(got, data)
        self.assertGreaterEqual(t, 200 / 14 * 0.02 - 0.01)  # at least 15 pieces of <= 14 bytes, 20 ms apart
        self.assertEqual(self.call("POST", "/proxies/echo/toxics", {"type": "slicer", "name": "s2",
                                                                   "attributes": {"delay": 5}}).status, 400)

    def test_toxicity_zero_never_applies(self):
        port = self.make_proxy()
        self.call("POST", "/proxies/echo/toxics", {"type": "latency", "toxicity": 0.0,
                                                   "attributes": {"latency": 2000}})
        _, t = self.roundtrip(port)
        self.assertLess(t, 1.0)

    def test_disable_enable(self):
        port = self.make_proxy()
        r = self.call("POST", "/proxies/echo", {"enabled": False})
        self.assertEqual(r.json()["enabled"], False)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        self.call("POST", "/proxies/echo", {"enabled": True})
        got, _ = self.roundtrip(port)
        self.assertEqual(got, b"ping")


if __name__ == "__main__":
    rt.main()
