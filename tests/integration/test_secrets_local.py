"""Secrets API over secretstores.local.file and secretstores.local.env:
single and bulk reads, nested names, multiValued, Configuration secret scopes
(403 / filtered bulk), and the error codes of spec §2.7."""

import json
import os

import ripstop_testlib as t

SECRETS = {"redis": {"password": "pw", "user": "u"}, "list": ["p", "q"], "plain": "v", "denied": "no"}


def file_store(name, path, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {path}
{extra}"""


ENV_STORE = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: envstore
spec:
  type: secretstores.local.env
  version: v1
  metadata:
  - name: prefix
    value: RSSEC_
"""

CONFIG = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: cfg
spec:
  secrets:
    scopes:
    - storeName: files
      defaultAccess: allow
      deniedSecrets: ["denied"]
    - storeName: strict
      defaultAccess: deny
      allowedSecrets: ["plain"]
"""


class Secrets(t.ProcTestCase):
    def start(self, config=True):
        d = t.write_resources({})
        path = os.path.join(d, "secrets.json")
        with open(path, "w") as f:
            json.dump(SECRETS, f)
        res = t.write_resources({
            "files.yaml": file_store("files", path),
            "multi.yaml": file_store("multi", path, "  - name: multiValued\n    value: \"true\"\n"),
            "strict.yaml": file_store("strict", path),
            "env.yaml": ENV_STORE,
        })
        cfg = None
        if config:
            cfg = os.path.join(d, "config.yaml")
            with open(cfg, "w") as f:
                f.write(CONFIG)
        env = {"RSSEC_TOKEN": "t0k", "DAPR_SECRET_THING": "x"}
        self.sc = self.track(t.Sidecar("secapp", resources=res, config=cfg, env=env))
        return self.sc

    def get(self, path):
        return self.sc.req("GET", "/v1.0/secrets/" + path)

    def assertError(self, r, status, code):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json()["errorCode"], code, r)

    def test_file_store(self):
        self.start()
        r = self.get("files/redis:password")
        self.assertEqual((r.status, r.json()), (200, {"redis:password": "pw"}))
        self.assertEqual(r.headers["content-type"], "application/json")
        self.assertEqual(self.get("files/list:1").json(), {"list:1": "q"})
        self.assertError(self.get("files/redis"), 500, "ERR_SECRET_GET")  # a branch, not a secret
        self.assertError(self.get("files/nope"), 500, "ERR_SECRET_GET")
        self.assertEqual(self.get("multi/redis").json(), {"password": "pw", "user": "u"})
        bulk = self.get("multi/bulk").json()
        self.assertEqual(bulk["redis"], {"password": "pw", "user": "u"})
        self.assertEqual(bulk["plain"], {"plain": "v"})

    def test_scopes(self):
        self.start()
        self.assertError(self.get("files/denied"), 403, "ERR_PERMISSION_DENIED")
        self.assertEqual(self.get("files/plain").json(), {"plain": "v"})
        bulk = self.get("files/bulk").json()
        self.assertNotIn("denied", bulk)
        self.assertEqual(bulk["redis:user"], {"redis:user": "u"})
        self.assertEqual(self.get("strict/plain").json(), {"plain": "v"})
        self.assertError(self.get("strict/redis:password"), 403, "ERR_PERMISSION_DENIED")
        self.assertEqual(list(self.get("strict/bulk").json()), ["plain"])

    def test_env_store(self):
        self.start()
        self.assertEqual(self.get("envstore/TOKEN").json(), {"TOKEN": "t0k"})
        self.assertEqual(self.get("envstore/MISSING").json(), {"MISSING": ""})  # not an error, as in Dapr
        self.assertEqual(self.get("envstore/bulk").json(), {"TOKEN": {"TOKEN": "t0k"}})

    def test_env_store_never_reveals_dapr_variables(self):
        sc = self.track(t.Sidecar("envapp", resources=t.write_resources({"env.yaml": ENV_STORE.replace(
            "  metadata:\n  - name: prefix\n    value: RSSEC_\n", "")}), env={"DAPR_SECRET_THING": "x"}))
        self.assertEqual(sc.req("GET", "/v1.0/secrets/envstore/DAPR_SECRET_THING").json(), {"DAPR_SECRET_THING": ""})
        self.assertNotIn("DAPR_SECRET_THING", sc.req("GET", "/v1.0/secrets/envstore/bulk").json())

    def test_errors(self):
        self.start(config=False)
        self.assertError(self.get("nosuch/x"), 401, "ERR_SECRET_STORE_NOT_FOUND")
        self.assertError(self.get("nosuch/bulk"), 401, "ERR_SECRET_STORE_NOT_FOUND")
        self.assertEqual(self.get("files/denied").json(), {"denied": "no"})  # no scopes without a Configuration
        sc = self.track(t.Sidecar("nostores"))
        r = sc.req("GET", "/v1.0/secrets/files/x")
        self.assertError(r, 500, "ERR_SECRET_STORES_NOT_CONFIGURED")


if __name__ == "__main__":
    t.main()
