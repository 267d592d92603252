"""Requests that ask the sidecar for much more work or memory than they cost the client are bounded (issue 17
item 6): a bulk state get naming a large value many times, a request with more keys than a sidecar should
hold units for, and Connection header lists that named each header against each name. The sidecar answers
with an error and stays responsive; nothing here measures time."""
import json
import os
import socket
import tempfile

import ripstop_testlib as t
from fault_app import FaultApp


class Amplification(t.ProcTestCase):
    def test_bulk_get_reply_and_key_count_are_bounded(self):
        redis = self.track(t.Redis())
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", redis)})
        sc = self.track(t.Sidecar("amp", resources=res, extra_args=["--max-body-size", "2Mi"]))
        big = "x" * (1 << 20)  # 1 MiB, stored once
        r = sc.req("POST", "/v1.0/state/statestore", [{"key": "big", "value": big}])
        self.assertEqual(r.status, 204, r)
        # a 1 KB request naming it 64 times: 64 MiB of values, past the 32 MiB bound
        r = sc.req("POST", "/v1.0/state/statestore/bulk", {"keys": ["big"] * 64, "parallelism": 8}, timeout=60)
        self.assertEqual(r.status, 500, r.status)
        self.assertEqual(r.json()["errorCode"], "ERR_STATE_GET")
        self.assertIn("reply bound", r.json()["message"])
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)
        # under the bound the same request works
        r = sc.req("POST", "/v1.0/state/statestore/bulk", {"keys": ["big"] * 8}, timeout=60)
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.json()), 8)
        # more keys than one request may hold units for
        r = sc.req("POST", "/v1.0/state/statestore/bulk", {"keys": ["k%d" % i for i in range(10001)]})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["errorCode"], "ERR_MALFORMED_REQUEST")
        r = sc.req("POST", "/v1.0/state/statestore", [{"key": "k%d" % i, "value": 1} for i in range(10001)])
        self.assertEqual(r.status, 400, r)
        r = sc.req("POST", "/v1.0/state/statestore/bulk", {"keys": ["k%d" % i for i in range(10000)]}, timeout=60)
        self.assertEqual(r.status, 200)

    def test_connection_lists_drop_every_named_header(self):
        d = tempfile.mkdtemp(prefix="ripstop-amp-")
        app = self.track(FaultApp("amp"))
        sc = self.track(t.Sidecar("amp", app_port=app.port, env={"RIPSTOP_NAMERES_DB": os.path.join(d, "nr.db")}))
        names = ["x-h%d" % i for i in range(1500)]
        headers = {n: "v" for n in names}
        headers["x-kept"] = "yes"
        headers["x-second"] = "named by the second Connection header"
        # http.client sends a dict; a list of tuples is needed for two Connection headers: write them by hand
        head = "GET /v1.0/invoke/amp/method/echo/c HTTP/1.1\r\nHost: x\r\n"
        head += "Connection: keep-alive, " + ", ".join(reversed(names)) + "\r\n"
        head += "Connection: X-Second\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head += "Content-Length: 0\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", sc.port), timeout=30)
        s.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        top, _, body = data.partition(b"\r\n\r\n")
        length = int([ln.split(b":")[1] for ln in top.split(b"\r\n") if ln.lower().startswith(b"content-length")][0])
        while len(body) < length:
            body += s.recv(65536)
        s.close()
        self.assertTrue(top.startswith(b"HTTP/1.1 200"), top[:200])
        got = json.loads(body)["headers"]
        self.assertEqual(got.get("x-kept"), "yes")
        for n in names + ["x-second"]:
            self.assertNotIn(n, got)
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)


if __name__ == "__main__":
    t.main()
