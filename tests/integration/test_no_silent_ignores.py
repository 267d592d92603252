"""No silent ignores (issue 16): one start-up warning per unsupported Configuration section, component field
and flag, each naming it; Dapr API routes ripstopd lacks answer 501 ERR_NOT_IMPLEMENTED with the route,
while a route Dapr does not have stays 404."""

import os
import tempfile

import ripstop_testlib as t
from test_core_sidecar import ENV_STORE as BASE_ENV_STORE

CONFIG = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
spec:
  tracing:
    samplingRate: "1"
    zipkin:
      endpointAddress: http://127.0.0.1:9/api/v2/spans
  httpPipeline:
    handlers:
    - name: ratelimit
      type: middleware.http.ratelimit
  accessControl:
    defaultAction: deny
  mtls:
    enabled: true
  metrics:
    enabled: true
  secrets:
    scopes:
    - storeName: envsecrets
      defaultAccess: allow
"""

# the env secret store with one field ripstopd reads but does not enforce and one it does not know
ENV_STORE = BASE_ENV_STORE + "  initTimeout: 5s\n  priority: high\n"

APP_HEALTH_FLAGS = ["--enable-app-health-check", "--app-health-check-path", "/healthz",
                    "--app-health-probe-interval", "5", "--app-health-probe-timeout", "500",
                    "--app-health-threshold", "3"]


def warnings(log, needle):
    return [line for line in log.splitlines() if needle in line]


class NoSilentIgnores(t.ProcTestCase):
    def start(self):
        cfg = os.path.join(tempfile.mkdtemp(prefix="ripstop-cfg-"), "config.yaml")
        with open(cfg, "w") as f:
            f.write(CONFIG)
        res = t.write_resources({"env.yaml": ENV_STORE})
        return self.track(t.Sidecar("ignores", resources=res, config=cfg, extra_args=APP_HEALTH_FLAGS))

    def test_one_warning_per_unsupported_section_field_and_flag(self):
        sc = self.start()
        log = sc.proc.log()
        for section in ("httpPipeline", "accessControl", "mtls"):
            lines = warnings(log, f"spec.{section} is not supported")
            self.assertEqual(len(lines), 1, f"spec.{section}: {lines}")
            self.assertIn("Configuration 'appconfig'", lines[0])
        # applied sections and metrics.enabled: true are not warned about
        # spec.tracing is applied since tracing landed (docs/internals/tracing.md)
        for quiet in ("spec.secrets", "spec.metrics", "spec.tracing"):
            self.assertEqual(warnings(log, quiet), [], quiet)
        self.assertEqual(len(warnings(log, "component 'envsecrets' spec.initTimeout is read but not enforced")), 1)
        self.assertEqual(len(warnings(log, "component 'envsecrets' spec.priority is not supported")), 1)
        # the app-health flags are applied (test_app_health.py); with no app port to probe, a note says so
        self.assertEqual(warnings(log, "app health checks are not supported"), [])
        self.assertEqual(len(warnings(log, "--enable-app-health-check has no effect without --app-port")), 1)

    def test_dapr_routes_without_implementation_answer_501(self):
        sc = self.start()
        for method, path, what in (
                ("POST", "/v1.0/actors/Cart/1/method/add", "actors"),
                ("GET", "/v1.0/actors/Cart/1/state/k", "actors"),
                ("POST", "/v1.0-beta1/workflows/dapr/OrderFlow/start", "workflows"),
                ("GET", "/v1.0/configuration/cfgstore?key=a", "configuration"),
                ("GET", "/v1.0/configuration/cfgstore/subscribe", "configuration"),
                ("POST", "/v1.0-alpha1/crypto/vault/encrypt", "cryptography"),
                ("POST", "/v1.0-alpha1/jobs/nightly", "jobs"),
                ("POST", "/v1.0-alpha1/conversation/llm/converse", "conversation"),
                ("POST", "/v1.0-alpha1/state/store/query", "state query")):
            r = sc.req(method, path, body=b"{}")
            self.assertEqual(r.status, 501, f"{method} {path}: {r.body!r}")
            body = r.json()
            self.assertEqual(body["errorCode"], "ERR_NOT_IMPLEMENTED")
            self.assertIn(path.split("?")[0], body["message"])
            self.assertIn(f"the {what} API is not implemented", body["message"])
        # the route label is the group, not the raw path (bounded cardinality)
        m = t.request("GET", sc.metrics_port, "/metrics").body.decode()
        self.assertIn('path="/v1.0/actors"', m)
        self.assertNotIn("Cart/1", m)

    def test_routes_dapr_does_not_have_stay_404(self):
        sc = self.start()
        for path in ("/v1.0/nosuchapi/x", "/v2.0/actors/Cart/1", "/v1.0/actorsx"):
            r = sc.req("GET", path)
            self.assertEqual(r.status, 404, path)
            self.assertNotEqual(r.json().get("errorCode"), "ERR_NOT_IMPLEMENTED", path)
        # supported routes are untouched by the 501 table
        self.assertEqual(sc.req("GET", "/v1.0/secrets/envsecrets/HOME").status, 200)


if __name__ == "__main__":
    t.main()
