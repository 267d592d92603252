"""Service invocation against a client that lies: a client cannot pose as a peer sidecar (the hop header needs
the hop key of the name-resolution table), method paths reach the app cleaned as daprd cleans them
(GHSA-85gx-3qv6-4463), and the target app id is checked like --app-id."""
import json
import os
import socket
import sqlite3
import stat

import ripstop_testlib as t
from test_invoke_basic import start_pair


def raw_request(port, head):
    """Sends the bytes of a request head (Connection: close) and returns (status, body as text)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(head)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    line, _, rest = data.partition(b"\r\n")
    return int(line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2].decode("utf-8", "replace")


class InvokeHardening(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.dir = start_pair(self)

    def app_calls(self):
        return self.app.control("counts")["total"]

    def test_client_cannot_pose_as_a_peer_sidecar(self):
        before = self.app_calls()
        forged = [{"ripstop-hop": "1", "dapr-caller-app-id": "evil"},
                  {"RIPSTOP-HOP": "0" * 64, "dapr-caller-app-id": "evil"},
                  {"ripstop-hop": "", "dapr-caller-app-id": "evil"}]
        for headers in forged:
            # straight to the callee's sidecar, as a peer would call it ...
            r = self.callee.req("GET", "/v1.0/invoke/callee/method/echo/forged", headers=headers)
            self.assertEqual(r.status, 403, (headers, r))
            self.assertEqual(r.json()["errorCode"], "ERR_PERMISSION_DENIED")
            self.assertIn("ripstop-hop", r.json()["message"])
            # ... through the caller's sidecar, and in the dapr-app-id form
            r = self.caller.req("POST", "/v1.0/invoke/callee/method/echo/forged", body="x", headers=headers)
            self.assertEqual(r.status, 403, (headers, r))
            r = self.callee.req("GET", "/echo/forged", headers=dict(headers, **{"dapr-app-id": "callee"}))
            self.assertEqual(r.status, 403, (headers, r))
        self.assertEqual(self.app_calls(), before)  # the app never saw one of them
        # the real hop carries the key, and the app sees the true caller, never the key
        r = self.caller.req("GET", "/v1.0/invoke/callee/method/echo/real", headers={"dapr-caller-app-id": "evil"})
        self.assertEqual(r.status, 200, r)
        h = r.json()["headers"]
        self.assertEqual(h["dapr-caller-app-id"], "caller")
        self.assertEqual(h["dapr-api-token"], "app-secret")
        self.assertNotIn("ripstop-hop", h)

    def test_hop_key_lives_in_a_private_table(self):
        db = os.path.join(self.dir, "nr.db")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode) & 0o077, 0, oct(os.stat(db).st_mode))
        with sqlite3.connect(db) as c:
            (key,) = c.execute("SELECT value FROM metadata WHERE key = 'ripstop-hop-key'").fetchone()
        self.assertRegex(key, r"^[0-9a-f]{64}$")
        # a process that can read the table is trusted like a sidecar: the key is the hop's credential
        r = self.callee.req("GET", "/v1.0/invoke/callee/method/echo/k",
                            headers={"ripstop-hop": key, "dapr-caller-app-id": "caller"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["headers"]["dapr-caller-app-id"], "caller")
        # even then the claimed caller must be a valid app id
        r = self.callee.req("GET", "/v1.0/invoke/callee/method/echo/k",
                            headers={"ripstop-hop": key, "dapr-caller-app-id": "a||b"})
        self.assertEqual(r.status, 400, r)

    def test_method_paths_are_cleaned(self):
        cases = {
            "../../v1.0/shutdown": "/v1.0/shutdown",
            "%2e%2e/%2E%2E/v1.0/shutdown": "/v1.0/shutdown",
            "admin%2F..%2Fecho/p": "/echo/p",
            "echo//a///b": "/echo/a/b",
            "echo/./a/x/../b/": "/echo/a/b/",
            "echo/a%20b": "/echo/a%20b",
        }
        for sc in (self.caller, self.callee):  # remote hop and local delivery
            for method, want in cases.items():
                r = sc.req("GET", "/v1.0/invoke/callee/method/" + method)
                self.assertEqual(r.status, 200, (method, r))
                self.assertEqual(r.json()["path"], want, method)
        r = self.caller.req("GET", "/x/../../echo/by-header", headers={"dapr-app-id": "callee"})
        self.assertEqual(r.json()["path"], "/echo/by-header")
        # raw bytes >= 0x80 reach the app escaped
        status, body = raw_request(self.caller.port, b"GET /v1.0/invoke/callee/method/echo/caf\xc3\xa9 HTTP/1.1\r\n"
                                                     b"Host: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["path"], "/echo/caf%C3%A9")
        # what daprd refuses: control characters, '#' and '?' once decoded
        before = self.app_calls()
        for method in ("echo/a%09b", "echo/a%3Fb", "echo/a%23b", "echo/%7F"):
            r = self.caller.req("GET", "/v1.0/invoke/callee/method/" + method)
            self.assertEqual(r.status, 400, (method, r))
            self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
        # what Go's server refuses: a raw control character in the request line
        status, body = raw_request(self.caller.port, b"GET /v1.0/invoke/callee/method/echo/a\tb HTTP/1.1\r\n"
                                                     b"Host: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 400, body)
        self.assertEqual(self.app_calls(), before)

    def test_target_app_id_is_checked(self):
        for target in ("a:b", "a%7Cb", "x" * 59, "-a", "callee.bad%24", "callee."):
            r = self.caller.req("GET", f"/v1.0/invoke/{target}/method/echo")
            self.assertEqual(r.status, 400, (target, r))
            self.assertEqual(r.json()["errorCode"], "ERR_DIRECT_INVOKE")
            self.assertIn("invalid app id", r.json()["message"])
        r = self.caller.req("GET", "/echo", headers={"dapr-app-id": "a||b"})
        self.assertEqual(r.status, 400, r)
        r = self.caller.req("GET", "/v1.0/invoke/callee.default/method/echo/ns")
        self.assertEqual(r.status, 200, r)


if __name__ == "__main__":
    t.main()
