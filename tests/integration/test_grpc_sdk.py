"""The official Dapr JS SDK (@dapr/dapr, from npm) in gRPC mode against
ripstopd and a real redis-server: state with ETags, bulk, transaction and
deletes; publish and bulk publish; an output binding; secrets; lock and
unlock; metadata; service invocation to the sidecar's app; and an unserved
method. The client calls are
tests/integration/grpc/sdk_client.mjs; this file starts the servers and
checks what the SDK got and what reached Redis and the binding's folder."""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading

import ripstop_testlib as t
from pubsub_fixtures import redis_pubsub_yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SECRETS = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: secrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {secrets}
"""


class EchoApp(http.server.BaseHTTPRequestHandler):
    """The app behind the sidecar: POST /echo answers the body back, anything else 404."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/echo":
            return self.answer(404, b"no such method")
        self.answer(200, json.dumps({"got": json.loads(body), "type": self.headers.get("Content-Type")}).encode())

    def do_GET(self):
        self.answer(404, b"no such method")

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class JsSdkOverGrpc(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        t.require_js_sdk(self)
        self.redis = self.track(t.Redis())
        self.tmp = tempfile.mkdtemp(prefix="ripstop-grpc-sdk-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "files")
        os.makedirs(self.root)
        secrets = os.path.join(self.tmp, "secrets.json")
        with open(secrets, "w") as f:
            json.dump({"db-password": "s3cret", "api-key": "k-1"}, f)
        files = {"secrets.yaml": SECRETS.format(secrets=secrets)}
        files["files.yaml"] = t.localstorage_yaml("files", self.root)
        files["state.yaml"] = t.redis_state_yaml("store", self.redis)
        files["lock.yaml"] = t.redis_state_yaml("lockstore", self.redis).replace("state.redis", "lock.redis")
        files["pubsub.yaml"] = redis_pubsub_yaml("bus", self.redis)
        self.app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoApp)
        threading.Thread(target=self.app.serve_forever, daemon=True).start()
        self.addCleanup(self.app.server_close)
        self.addCleanup(self.app.shutdown)
        self.sidecar = self.track(t.Sidecar("grpc-sdk", resources=t.write_resources(files),
                                            app_port=self.app.server_address[1]))

    def run_client(self):
        p = subprocess.run(["node", os.path.join(HERE, "grpc", "sdk_client.mjs"), str(self.sidecar.grpc_port), "grpc-sdk"],
                           capture_output=True, text=True, timeout=60, cwd=REPO)
        self.assertEqual(p.returncode, 0, f"node failed:\n{p.stderr[-3000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_building_blocks(self):
        r = self.run_client()
        ok = lambda name: r[name].get("ok")  # noqa: E731
        # state: values, ETag conflict, bulk, transaction, delete, bulk delete
        self.assertEqual(ok("get"), {"n": 1})
        self.assertEqual(ok("get_missing"), "")
        self.assertTrue(ok("etag"))
        self.assertEqual(r["save_stale_etag"]["code"], 10, r["save_stale_etag"])  # ABORTED
        self.assertIn("etag mismatch", r["save_stale_etag"]["message"])
        self.assertEqual(ok("bulk"), [["k1", {"n": 1}], ["k2", "plain"], ["nope", ""]])
        self.assertNotIn("code", r["transaction"], r["transaction"])
        self.assertEqual(ok("after_transaction"), ["one", ""])
        self.assertEqual(ok("after_delete"), "")
        self.assertEqual(ok("delete_bulk"), "")
        self.assertEqual(self.redis.cli("EXISTS", "grpc-sdk||k1"), "0")
        self.assertEqual((r["unknown_store"]["code"], r["unknown_store"]["message"]),
                         (3, "state store nostore is not found"))
        # publish: one event and two in bulk reached the stream; an unknown pubsub is INVALID_ARGUMENT
        self.assertNotIn("code", r["publish"], r["publish"])
        self.assertEqual(ok("publish_bulk"), 0)
        self.assertEqual(self.redis.cli("XLEN", "orders"), "3")
        self.assertEqual(r["publish_unknown"]["code"], 3, r["publish_unknown"])
        # output binding: the file was written with the bytes sent
        self.assertIn("binding", r)
        self.assertNotIn("code", r["binding"], r["binding"])
        with open(os.path.join(self.root, "g.txt")) as f:
            self.assertEqual(f.read(), "hello")
        self.assertEqual(r["binding_bad_op"]["code"], 13, r["binding_bad_op"])  # INTERNAL, ERR_INVOKE_OUTPUT_BINDING
        # secrets
        self.assertEqual(ok("secret"), {"db-password": "s3cret"})
        self.assertEqual(ok("secret_bulk"), {"db-password": {"db-password": "s3cret"}, "api-key": {"api-key": "k-1"}})
        # lock: the owner gets it, another does not and cannot release it
        self.assertEqual(ok("lock"), {"success": True})
        self.assertEqual(ok("lock_other"), {"success": False})
        self.assertEqual(ok("unlock_other")["status"], 2)  # LOCK_BELONGS_TO_OTHERS
        self.assertEqual(ok("unlock")["status"], 0)
        # metadata
        md = ok("metadata")
        self.assertEqual(md["id"], "grpc-sdk")
        self.assertEqual(md["extended"].get("color"), "blue")
        self.assertEqual(md["components"], ["bus", "files", "lockstore", "secrets", "store"])
        # invocation through the sidecar to its app: the answer, an app's 404 as NOT_FOUND, an unknown app id
        self.assertEqual(ok("invoke"), {"got": {"hello": "grpc"}, "type": "application/json"})
        self.assertEqual((r["invoke_404"]["code"], r["invoke_404"]["message"]), (5, "Not Found"))
        self.assertEqual(r["invoke_unknown_app"]["code"], 13, r["invoke_unknown_app"])  # INTERNAL: ERR_DIRECT_INVOKE
        # a method of the Dapr service that ripstopd does not serve: UNIMPLEMENTED, by name
        self.assertEqual(r["unimplemented"]["code"], 12)
        self.assertIn("GetConfiguration", r["unimplemented"]["message"])


if __name__ == "__main__":
    t.main()
