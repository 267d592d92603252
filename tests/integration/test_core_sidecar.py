"""ripstopd core: flags, start-up errors, health, metadata, shutdown, API token,
body limits and secret/env references in component metadata."""

import json
import os
import subprocess

import ripstop_testlib as t


def run_ripstopd(*args, env=None, timeout=10):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([t.binary("ripstopd"), *args], capture_output=True, text=True, timeout=timeout, env=full)


SECRETS_STORE = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: localsecrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {path}
"""

ENV_STORE = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: envsecrets
spec:
  type: secretstores.local.env
  version: v1
"""


class FlagsAndStartup(t.ProcTestCase):
    def test_help_and_version(self):
        r = run_ripstopd("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--resources-path", r.stdout)
        for t in ("state.redis", "lock.redis", "pubsub.kafka", "pubsub.redis", "bindings.azure.blobstorage",
                  "bindings.cron", "bindings.localstorage", "secretstores.local.file", "secretstores.local.env"):
            self.assertIn(t, r.stdout)
        r = run_ripstopd("-version")  # Go-style single dash, as daprd accepts
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("ripstopd "))

    def test_missing_app_id_and_unknown_flag(self):
        r = run_ripstopd()
        self.assertEqual(r.returncode, 2)
        self.assertIn("--app-id is required", r.stderr)
        r = run_ripstopd("--app-id", "a", "--no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-flag", r.stderr)
        r = run_ripstopd("--app-id", "a", "--dapr-http-port", "notaport")
        self.assertEqual(r.returncode, 2)

    def test_malformed_yaml_stops_startup_with_file_and_line(self):
        d = t.write_resources({"broken.yaml": "kind: Component\nmetadata:\n  name: [x\n"})
        r = run_ripstopd("--app-id", "a", "--resources-path", d, "--dapr-http-port", str(t.free_port()),
                         "--metrics-port", "0")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"broken\.yaml:\d+:\d+: error")

    def test_unknown_component_type_stops_startup_unless_ignored(self):
        comp = "kind: Component\nmetadata:\n  name: mystery\nspec:\n  type: state.nosuch\n  version: v1\n"
        d = t.write_resources({"c.yaml": comp})
        r = run_ripstopd("--app-id", "a", "--resources-path", d, "--dapr-http-port", str(t.free_port()),
                         "--metrics-port", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("component mystery", r.stderr)
        self.assertIn("unknown component type 'state.nosuch'", r.stderr)
        d = t.write_resources({"c.yaml": comp.replace("version: v1", "version: v1\n  ignoreErrors: true")})
        sc = self.track(t.Sidecar("a", resources=d))
        self.assertEqual(sc.req("GET", "/v1.0/metadata").json()["components"], [])


class Api(t.ProcTestCase):
    def test_sched_policy(self):
        # /proc/<pid>/stat field 41 is the scheduling policy: 0 SCHED_OTHER, 3 SCHED_BATCH
        def policy(sc):
            with open("/proc/%d/stat" % sc.proc.p.pid) as f:
                return int(f.read().rsplit(")", 1)[1].split()[38])  # fields after "(comm)" start at field 3

        default = self.track(t.Sidecar("sched1"))
        self.assertEqual(policy(default), 3)
        normal = self.track(t.Sidecar("sched2", extra_args=["--sched-policy", "normal"]))
        self.assertEqual(policy(normal), 0)
        r = run_ripstopd("--app-id", "a", "--sched-policy", "fast")
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid value 'fast' for --sched-policy", r.stderr)

    def test_health_metadata_and_shutdown(self):
        sc = self.track(t.Sidecar("app1"))
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)
        self.assertEqual(sc.req("GET", "/v1.0/healthz/outbound").status, 204)
        r = sc.req("GET", "/v1.0/healthz?appid=other")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_HEALTH_APPID_NOT_MATCH")
        md = sc.req("GET", "/v1.0/metadata").json()
        self.assertEqual(md["id"], "app1")
        self.assertEqual(sc.req("PUT", "/v1.0/metadata/color", "blue").status, 204)
        self.assertEqual(sc.req("GET", "/v1.0/metadata").json()["extended"], {"color": "blue"})
        self.assertEqual(sc.req("POST", "/v1.0/shutdown").status, 204)
        t.wait_for(lambda: not sc.proc.alive(), 10, what="ripstopd exit after /v1.0/shutdown")
        self.assertEqual(sc.proc.p.returncode, 0)

    def test_not_ready_until_app_port_answers(self):
        app_port = t.free_port()
        sc = self.track(t.Sidecar("app2", app_port=app_port, wait=False))
        sc.wait_ready(outbound=True)
        r = sc.req("GET", "/v1.0/healthz")
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["errorCode"], "ERR_HEALTH_NOT_READY")
        app = self.track(t.Proc("app", ["python3", "-m", "http.server", str(app_port), "--bind", "127.0.0.1"]))
        t.wait_for(lambda: sc.req("GET", "/v1.0/healthz").status == 204, 10, what="app discovered")
        self.assertIn("application discovered", sc.proc.log())
        app.stop()

    def test_api_token(self):
        sc = self.track(t.Sidecar("app3", env={"DAPR_API_TOKEN": "s3cret"}))
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204)  # health probes need no token
        r = sc.req("GET", "/v1.0/metadata")
        self.assertEqual(r.status, 401)
        self.assertTrue(r.headers["content-type"].startswith("text/plain"))
        self.assertEqual(r.text, "invalid api token\n")
        self.assertEqual(sc.req("GET", "/v1.0/metadata", headers={"dapr-api-token": "wrong"}).status, 401)
        self.assertEqual(sc.req("GET", "/v1.0/metadata", headers={"dapr-api-token": "s3cret"}).status, 200)

    def test_body_limit_and_unknown_route(self):
        sc = self.track(t.Sidecar("app4", extra_args=["--max-body-size", "1Ki"]))
        r = sc.req("PUT", "/v1.0/metadata/big", "x" * 2048)
        self.assertEqual(r.status, 413)
        self.assertEqual(sc.req("PUT", "/v1.0/metadata/small", "x" * 100).status, 204)
        self.assertTrue(sc.proc.alive())


class SecretReferences(t.ProcTestCase):
    def test_secret_key_ref_and_env_ref_resolve(self):
        d = t.write_resources({})
        secrets = os.path.join(d, "secrets.json")
        with open(secrets, "w") as f:
            json.dump({"redis": {"password": "pw1"}, "plain": "v2"}, f)
        store = SECRETS_STORE.format(path=secrets)
        # A component whose metadata comes from both forms; its values are checked through the secrets API
        # of the stores themselves (bulk), and start-up fails when a referenced secret is missing.
        missing = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: needs-secret
spec:
  type: secretstores.local.env
  version: v1
  metadata:
  - name: prefix
    secretKeyRef:
      name: redis:password
      key: nope
auth:
  secretStore: localsecrets
"""
        d2 = t.write_resources({"store.yaml": store, "needs.yaml": missing})
        r = run_ripstopd("--app-id", "a", "--resources-path", d2, "--dapr-http-port", str(t.free_port()),
                         "--metrics-port", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("needs-secret", r.stderr)
        self.assertIn("has no key 'nope'", r.stderr)

        ok = missing.replace("key: nope", "key: redis:password")
        d3 = t.write_resources({"store.yaml": store, "needs.yaml": ok, "env.yaml": ENV_STORE})
        sc = self.track(t.Sidecar("a", resources=d3, env={"pw1OK": "prefixed"}))
        names = sorted(c["name"] for c in sc.req("GET", "/v1.0/metadata").json()["components"])
        self.assertEqual(names, ["envsecrets", "localsecrets", "needs-secret"])


if __name__ == "__main__":
    t.main()
