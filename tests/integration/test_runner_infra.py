"""`ripstop run` with infrastructure: redis-server (requirepass from the secrets file), Azurite and
kafka-mock started on free ports and handed to apps and sidecars as RIPSTOP_* variables; a real
ripstopd reaching the started Redis through envRef + secretKeyRef; existing servers used instead of
starting new ones; everything (and the temp data dirs) gone after Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import textwrap

import ripstop_testlib as rt
from runner_fixtures import RunnerTestBase, RunnerProc, pid_gone

PASSWORD = "s3cret-for-runner-test"


def infra_pids(out):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\[ripstop\] started (redis|azurite|kafka-mock) \(pid (\d+)\)", out)}


class RunnerInfraTest(RunnerTestBase):
    def write(self, rel, text):
        path = os.path.join(self.dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def test_starts_infra_and_real_sidecar_uses_it(self):
        self.write("secrets.json", json.dumps({"redis-password": PASSWORD}))
        self.write("res/secrets.yaml", """\
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: {name: local-secret-store}
            spec:
              type: secretstores.local.file
              version: v1
              metadata:
              - {name: secretsFile, envRef: RIPSTOP_SECRETS_FILE}
            """)
        self.write("res/state.yaml", """\
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata: {name: store}
            spec:
              type: state.redis
              version: v1
              metadata:
              - {name: redisHost, envRef: RIPSTOP_REDIS_HOST}
              - name: redisPassword
                secretKeyRef: {name: redis-password, key: redis-password}
            auth: {secretStore: local-secret-store}
            """)
        path = self.run_file(f"""\
            version: 1
            infra: {{redis: true, azurite: true, kafka: true}}
            common:
              resourcesPath: ./res
            apps:
              - appID: probe
                appDirPath: .
                appPort: auto
                command: ["{self.fake_app}"]
            """)
        logs = os.path.join(self.dir, "logs")
        r = self.track(RunnerProc(path, ["--log-dir", logs], env={"FAKE_OUT": self.out}))
        r.wait_ready(60)
        env = self.recorded("app-probe-1.json")["env"]
        self.assertEqual(env["RIPSTOP_SECRETS_FILE"], os.path.realpath(os.path.join(self.dir, "secrets.json")))
        self.assertEqual(env["RIPSTOP_REDIS_PASSWORD"], PASSWORD)
        redis_port = int(env["RIPSTOP_REDIS_HOST"].split(":")[1])
        blob_port = int(env["RIPSTOP_BLOB_ENDPOINT"].rsplit(":", 1)[1])
        self.assertTrue(env["RIPSTOP_KAFKA_BROKERS"].startswith("127.0.0.1:"))
        self.assertNotIn(str(redis_port), ("6379",))
        # Redis wants the password from the secrets file.
        cli = ["redis-cli", "-p", str(redis_port)]
        self.assertIn("NOAUTH", subprocess.run(cli + ["PING"], capture_output=True, text=True, timeout=10).stdout)
        self.assertEqual(subprocess.run(cli + ["-a", PASSWORD, "--no-auth-warning", "PING"], capture_output=True,
                                        text=True, timeout=10).stdout.strip(), "PONG")
        # Azurite answers (an unauthenticated request is refused, but by Azurite).
        resp = rt.request("GET", blob_port, "/devstoreaccount1?comp=list")
        self.assertIn(resp.status, (401, 403))
        # kafka-mock's control API answers.
        ctl = env["RIPSTOP_KAFKA_CONTROL"]
        self.assertEqual(rt.request("GET", int(ctl.rsplit(":", 1)[1]), "/healthz").status, 200)
        # The real sidecar reaches that Redis through envRef + the secret store.
        http_port = int(env["DAPR_HTTP_PORT"])
        resp = rt.request("POST", http_port, "/v1.0/state/store", [{"key": "k1", "value": {"n": 1}}])
        self.assertEqual(resp.status, 204, resp)
        self.assertEqual(rt.request("GET", http_port, "/v1.0/state/store/k1").json(), {"n": 1})
        keys = subprocess.run(cli + ["-a", PASSWORD, "--no-auth-warning", "KEYS", "*k1*"], capture_output=True,
                              text=True, timeout=10).stdout
        self.assertIn("k1", keys)

        pids = infra_pids(r.out())
        self.assertEqual(set(pids), {"redis", "azurite", "kafka-mock"})
        tmpdirs = [os.readlink("/proc/%d/cwd" % pids[n]) for n in ("redis", "azurite")]
        self.assertTrue(all(d.startswith("/tmp/ripstop-infra-") for d in tmpdirs), tmpdirs)
        all_pids = list(pids.values()) + r.all_pids()
        os.kill(r.proc.pid, signal.SIGINT)
        r.proc.p.wait(timeout=40)
        self.assertEqual(r.proc.p.returncode, 0)
        self.assertNotIn("it is not restarted", r.out(), "infra exits while stopping are not reported as crashes")
        for p in all_pids:
            rt.wait_for(lambda: pid_gone(p), 10, what="pid %d gone" % p)
        for d in tmpdirs:
            self.assertFalse(os.path.exists(d), d)
        for name in ("redis_", "azurite_", "kafka-mock_", "probe_app_", "probe_daprd_"):
            self.assertTrue(any(f.startswith(name) for f in os.listdir(logs)), name)

    def test_kill9_of_ripstop_takes_infra_down(self):
        path = self.run_file(f"""\
            version: 1
            infra: {{redis: true, azurite: true, kafka: true}}
            apps:
              - appID: plain
                appDirPath: .
                noSidecar: true
                command: ["{self.fake_app}"]
            """)
        r = self.track(RunnerProc(path, ["--log-dir", os.path.join(self.dir, "logs")], env={"FAKE_OUT": self.out}))
        r.wait_ready(60)
        pids = list(infra_pids(r.out()).values()) + r.all_pids()
        self.assertEqual(len(pids), 4)
        os.kill(r.proc.pid, signal.SIGKILL)
        r.proc.p.wait(timeout=10)
        for p in pids:
            rt.wait_for(lambda: pid_gone(p), 10, what="pid %d gone after kill -9 of ripstop" % p)

    def test_uses_existing_servers(self):
        redis = self.track(rt.Redis())
        path = self.run_file(f"""\
            version: 1
            infra: {{redis: true}}
            apps:
              - appID: plain
                appDirPath: .
                noSidecar: true
                command: ["{self.fake_app}"]
            """)
        r = self.track(RunnerProc(path, ["--redis", redis.addr, "--blob", "http://127.0.0.1:1"],
                                  env={"FAKE_OUT": self.out, "RIPSTOP_KAFKA_BROKERS": "127.0.0.1:2"}))
        r.wait_ready(30)
        env = self.recorded("app-plain-1.json")["env"]
        self.assertEqual(env["RIPSTOP_REDIS_HOST"], redis.addr)
        self.assertEqual(env["RIPSTOP_BLOB_ENDPOINT"], "http://127.0.0.1:1")
        self.assertEqual(env["RIPSTOP_KAFKA_BROKERS"], "127.0.0.1:2")
        self.assertEqual(infra_pids(r.out()), {}, "nothing started when servers are given")

    def test_infra_flag_and_failure_message(self):
        # --infra starts the servers even without an infra: section; a missing kafka-mock is a clear error.
        path = self.run_file(f"""\
            version: 1
            apps:
              - appID: plain
                appDirPath: .
                noSidecar: true
                command: ["{self.fake_app}"]
            """)
        env = dict(os.environ, FAKE_OUT=self.out, PATH="/usr/bin:/bin")
        # A copy of ripstop outside the build dir has no kafka-mock next to it.
        lonely = os.path.join(self.dir, "bin")
        os.makedirs(lonely)
        exe = os.path.join(lonely, "ripstop")
        with open(rt.binary("ripstop"), "rb") as src, open(exe, "wb") as dst:
            dst.write(src.read())
        os.chmod(exe, 0o755)
        res = subprocess.run([exe, "run", "-f", path, "--infra", "--redis", "127.0.0.1:1", "--blob", "http://x"],
                             capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(res.returncode, 1)
        self.assertIn("infrastructure: kafka-mock", res.stderr)
        self.assertIn("command not found: kafka-mock", res.stderr)


if __name__ == "__main__":
    rt.main()
