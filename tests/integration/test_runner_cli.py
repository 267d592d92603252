"""`ripstop run`: replicas and ports, environment and sidecar flags, log prefixes and files,
restart with back-off after kill -9, no orphans after Ctrl-C or after kill -9 of ripstop itself,
and bad run files refused with a clear message.

The sidecar here is a small fake (a Python HTTP server that records its argv and environment and
answers /v1.0/healthz), so these tests pin the runner's contract independently of ripstopd;
test_runner_ripstopd.py runs the real sidecar."""

import os
import re
import signal
import subprocess
import time

import ripstop_testlib as rt
from runner_fixtures import RunnerTestBase, pid_gone


class RunnerBasicsTest(RunnerTestBase):
    def test_replicas_get_distinct_ports_env_and_sidecar_flags(self):
        os.makedirs(os.path.join(self.dir, "svc", "res"))
        os.makedirs(os.path.join(self.dir, "common-res"))
        with open(os.path.join(self.dir, "cfg.yaml"), "w") as f:
            f.write("kind: Configuration\n")
        r = self.start(f"""\
            version: 1
            common:
              resourcesPath: ./common-res
              configFilePath: ./cfg.yaml
              env: {{SHARED: common, OVERRIDE: common}}
            apps:
              - appID: svc
                appDirPath: ./svc
                appPort: auto
                replicas: 3
                resourcesPaths: [./res]
                env: {{OVERRIDE: app, ORDER_URL: "http://127.0.0.1:${{RIPSTOP_APP_PORT_OTHER_APP}}/order",
                       WITH_DEFAULT: "${{NOT_SET_ANYWHERE_XYZ:-fall back}}-${{SHARED:-unused}}", DOLLARS: "$$HOME $x"}}
                command: ["{self.fake_app}", "--flag"]
              - appID: other-app
                appDirPath: .
                appPort: auto
                command: ["{self.fake_app}"]
            """)
        apps = [self.recorded(f"app-svc-{i}.json") for i in (1, 2, 3)]
        other = self.recorded("app-other-app-1.json")
        app_ports = [int(a["env"]["APP_PORT"]) for a in apps]
        http_ports = [int(a["env"]["DAPR_HTTP_PORT"]) for a in apps]
        self.assertEqual(len(set(app_ports + http_ports + [int(other["env"]["APP_PORT"])])), 7, "all ports distinct")
        for i, a in enumerate(apps, 1):
            e = a["env"]
            self.assertEqual(e["APP_ID"], "svc")
            self.assertEqual(e["RIPSTOP_INSTANCE"], str(i))
            self.assertEqual(e["APP_PROTOCOL"], "http")
            self.assertEqual(e["SHARED"], "common")
            self.assertEqual(e["OVERRIDE"], "app")
            self.assertEqual(e["ORDER_URL"], "http://127.0.0.1:%s/order" % other["env"]["APP_PORT"])
            self.assertEqual(e["WITH_DEFAULT"], "fall back-common")
            self.assertEqual(e["DOLLARS"], "$HOME $x")
            self.assertIn("DAPR_METRICS_PORT", e)
            self.assertEqual(a["argv"], ["--flag"])
            self.assertEqual(os.path.realpath(a["cwd"]), os.path.realpath(os.path.join(self.dir, "svc")))
            # Each replica answers on its own port.
            resp = rt.request("GET", int(e["APP_PORT"]), "/")
            self.assertEqual(resp.text.split(" pid")[0], f"svc#{i}")
            # Its sidecar got daprd's flags with the same ports, and the app's own resources path.
            s = self.recorded("sidecar-%s.json" % e["DAPR_HTTP_PORT"])
            argv = s["argv"]

            def flag(name):
                return argv[argv.index(name) + 1]
            self.assertEqual(flag("--app-id"), "svc")
            self.assertEqual(flag("--app-port"), e["APP_PORT"])
            self.assertEqual(flag("--metrics-port"), e["DAPR_METRICS_PORT"])
            self.assertEqual(flag("--app-protocol"), "http")
            self.assertEqual(os.path.realpath(flag("--resources-path")), os.path.realpath(os.path.join(self.dir, "svc", "res")))
            self.assertEqual(os.path.realpath(flag("--config")), os.path.realpath(os.path.join(self.dir, "cfg.yaml")))
            self.assertEqual(s["env"]["OVERRIDE"], "app")
        # One private run directory (name-resolution table) shared by every process of this run.
        run_dirs = {a["env"]["XDG_RUNTIME_DIR"] for a in apps + [other]}
        run_dirs |= {self.recorded("sidecar-%s.json" % a["env"]["DAPR_HTTP_PORT"])["env"]["XDG_RUNTIME_DIR"] for a in apps}
        self.assertEqual(len(run_dirs), 1, run_dirs)
        self.assertTrue(run_dirs.pop().startswith("/tmp/ripstop-run-"))
        # An app without its own resourcesPaths inherits common's (relative to the run file).
        s = self.recorded("sidecar-%s.json" % other["env"]["DAPR_HTTP_PORT"])
        self.assertEqual(os.path.realpath(s["argv"][s["argv"].index("--resources-path") + 1]),
                         os.path.realpath(os.path.join(self.dir, "common-res")))

    def test_console_prefixes_and_log_files(self):
        r = self.start(f"""\
            version: 1
            apps:
              - appID: talker
                appDirPath: .
                appPort: auto
                replicas: 2
                daprdLogDestination: fileAndConsole
                command: ["{self.fake_app}"]
              - appID: quiet
                appDirPath: .
                appLogDestination: file
                noSidecar: true
                command: ["sh", "-c", "echo only-in-file; exec sleep 600"]
            """)
        rt.wait_for(lambda: "[talker#2] hello from talker instance 2" in r.out(), 10, what="prefixed app line")
        self.assertIn("[talker#1] hello from talker instance 1", r.out())
        rt.wait_for(lambda: "[talker#1 daprd] fake sidecar talker on" in r.out(), 10, what="prefixed sidecar line")
        logs = os.listdir(os.path.join(self.dir, "logs"))
        for name in ("talker-1_app_", "talker-2_app_", "talker-1_daprd_", "talker-2_daprd_", "quiet_app_"):
            self.assertTrue(any(l.startswith(name) and l.endswith(".log") for l in logs), (name, logs))
        quiet_log = [l for l in logs if l.startswith("quiet_app_")][0]
        def file_has_line():
            with open(os.path.join(self.dir, "logs", quiet_log)) as f:
                return "only-in-file" in f.read()
        rt.wait_for(file_has_line, 10, what="file-only line")
        self.assertNotIn("only-in-file", r.out())
        self.assertTrue(re.match(r"quiet_app_\d{14}\.log$", quiet_log), quiet_log)

    def test_restart_after_kill9_with_backoff(self):
        r = self.start(f"""\
            version: 1
            apps:
              - appID: crashy
                appDirPath: .
                appPort: auto
                replicas: 2
                restartDelay: 300ms
                restartMaxDelay: 1s
                command: ["{self.fake_app}"]
            """)
        port = int(self.recorded("app-crashy-1.json")["env"]["APP_PORT"])
        other_pid = r.pid("crashy#2")
        delays = []
        for round_ in range(4):
            pid = r.pid("crashy#1")
            os.kill(pid, signal.SIGKILL)
            rt.wait_for(lambda: r.pid("crashy#1") != pid, 10, what="restart %d" % round_)
            new_pid = r.pid("crashy#1")
            # The restarted app is reachable on the same port.
            rt.wait_for(lambda: rt.request("GET", port, "/", timeout=1).text.endswith("pid %d" % new_pid), 10,
                        what="restarted app answers")
        delays = [int(m) for m in re.findall(r"restarting crashy#1 app in (\d+) ms", r.out())]
        self.assertEqual(delays, [300, 600, 1000, 1000], "exponential back-off capped at restartMaxDelay")
        self.assertIn("exited with signal 9", r.out())
        self.assertEqual(r.pid("crashy#2"), other_pid, "the other replica was not touched")

    def test_killed_sidecar_is_restarted(self):
        r = self.start(f"""\
            version: 1
            apps:
              - appID: s
                appDirPath: .
                appPort: auto
                restartDelay: 100ms
                command: ["{self.fake_app}"]
            """)
        pid = r.pid("s", "daprd")
        http_port = int(self.recorded("app-s-1.json")["env"]["DAPR_HTTP_PORT"])
        os.kill(pid, signal.SIGKILL)
        rt.wait_for(lambda: r.pid("s", "daprd") not in (None, pid), 10, what="sidecar restart")
        rt.wait_for(lambda: rt.request("GET", http_port, "/v1.0/healthz", timeout=1).status == 204, 10,
                    what="restarted sidecar on the same port")
        rt.wait_for(lambda: r.out().count("[ripstop] s is ready") >= 2, 10, what="ready again")

    def test_restart_never_and_on_failure(self):
        r = self.start("""\
            version: 1
            apps:
              - appID: once
                appDirPath: .
                noSidecar: true
                restart: never
                command: ["sh", "-c", "echo bye; exit 3"]
              - appID: clean
                appDirPath: .
                noSidecar: true
                restart: on-failure
                command: ["sh", "-c", "sleep 0.5; exit 0"]
            """, args=["--ready-timeout", "10"], ready=False)
        rt.wait_for(lambda: "once app stays down (restart: never)" in r.out(), 10, what="never")
        rt.wait_for(lambda: "clean app stays down (restart: on-failure)" in r.out(), 10, what="on-failure")
        self.assertNotIn("restarting once", r.out())
        self.assertNotIn("restarting clean", r.out())


class RunnerStopTest(RunnerTestBase):
    APPS = """\
        version: 1
        apps:
          - appID: web
            appDirPath: .
            appPort: auto
            replicas: 2
            command: ["{app}"]
          - appID: forker
            appDirPath: .
            noSidecar: true
            command: ["sh", "-c", "trap '' TERM; sleep 600 & echo child $!; wait"]  # both ignore SIGTERM
        """

    def grandchild(self, r):
        m = rt.wait_for(lambda: re.search(r"\[forker\] child (\d+)", r.out()), 10, what="grandchild pid")
        return int(m.group(1))

    def test_ctrl_c_leaves_no_orphans(self):
        r = self.start(self.APPS.format(app=self.fake_app))
        pids = r.all_pids() + [self.grandchild(r)]
        run_dir = self.recorded("app-web-1.json")["env"]["RIPSTOP_RUN_DIR"]
        self.assertTrue(os.path.isdir(run_dir))
        self.assertEqual(len(pids), 6)  # 2 apps + 2 sidecars + forker + its child
        self.assertTrue(all(not pid_gone(p) for p in pids))
        os.kill(r.proc.pid, signal.SIGINT)
        t = time.monotonic()
        r.proc.p.wait(timeout=30)
        self.assertGreaterEqual(time.monotonic() - t, 4.5, "forker got its grace period before SIGKILL")
        self.assertEqual(r.proc.p.returncode, 0, r.out()[-2000:])
        self.assertIn("[ripstop] stopped", r.out())
        self.assertFalse(os.path.exists(run_dir), "the run's temp dir is removed")
        # forker ignores SIGTERM: it is killed after the grace period, and its child with it.
        for p in pids:
            rt.wait_for(lambda: pid_gone(p), 10, what="pid %d gone" % p)

    def test_second_ctrl_c_skips_the_grace_period(self):
        r = self.start(self.APPS.format(app=self.fake_app))
        pids = r.all_pids() + [self.grandchild(r)]
        os.kill(r.proc.pid, signal.SIGINT)
        rt.wait_for(lambda: "stopping everything" in r.out(), 10, what="first Ctrl-C seen")
        t = time.monotonic()
        os.kill(r.proc.pid, signal.SIGINT)
        r.proc.p.wait(timeout=30)
        # forker ignores SIGTERM; without the second Ctrl-C it would get 5 s of grace.
        self.assertLess(time.monotonic() - t, 4.0)
        self.assertIn("killing everything now", r.out())
        for p in pids:
            rt.wait_for(lambda: pid_gone(p), 10, what="pid %d gone" % p)

    def test_kill9_of_ripstop_leaves_no_orphans(self):
        r = self.start(self.APPS.format(app=self.fake_app))
        pids = r.all_pids() + [self.grandchild(r)]
        os.kill(r.proc.pid, signal.SIGKILL)
        r.proc.p.wait(timeout=10)
        # PR_SET_PDEATHSIG takes every direct child down with the runner, and the guard process kills the
        # rest of each group (here a grandchild that ignores SIGTERM).
        for p in pids:
            rt.wait_for(lambda: pid_gone(p), 10, what="pid %d gone after kill -9 of ripstop" % p)


class RunnerBadFileTest(RunnerTestBase):
    def refused(self, text, *expect, args=()):
        path = self.run_file(text, "bad.yaml")
        res = subprocess.run([rt.binary("ripstop"), "run", "-f", path, "--ripstopd", self.fake_sidecar, *args],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        for e in expect:
            self.assertIn(e, res.stderr)
        self.assertIn("bad.yaml", res.stderr)
        self.assertNotIn("started", res.stdout, "nothing is started for a bad file")
        return res.stderr

    def test_bad_files(self):
        app = f'["{self.fake_app}"]'
        self.refused("apps: []\n", "version", "required")
        self.refused("version: 2\napps: [{appDirPath: ., command: [x]}]\n", "version: must be 1")
        self.refused("version: 1\n", "apps: required")
        self.refused("version: 1\napps:\n  - appDirPath: .\n    replica: 2\n    command: " + app + "\n",
                     ":4:", "apps[0]: replica: unknown field")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    replicas: 0\n    command: " + app + "\n",
                     ":5:", "apps[0] (a): replicas: must be 1..64")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    replicas: 2\n    appPort: 8080\n"
                     "    command: " + app + "\n", "appPort: a fixed port cannot be shared")
        self.refused("version: 1\napps:\n  - appID: a\n    command: " + app + "\n", "appDirPath: required")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: ./nope\n    command: " + app + "\n",
                     "nope is not a directory")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n", "command: required")
        self.refused("version: 1\napps:\n  - {appID: a, appDirPath: ., command: " + app + "}\n"
                     "  - {appID: a, appDirPath: ., command: " + app + "}\n", "'a' is used twice")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    appPort: 70000\n    command: " + app + "\n",
                     "appPort: must be a port number")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    restart: sometimes\n    command: " + app + "\n",
                     "restart: must be always, on-failure or never")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    command: " + app + "\n"
                     "    resourcesPaths: [./missing]\n", "missing does not exist")
        self.refused("version: 1\napps: [\n", "YAML syntax error")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    command: [no-such-program-xyz]\n",
                     "cannot start the", "command not found: no-such-program-xyz")
        self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    command: [\"${NO_SUCH_VAR_XYZ}\"]\n",
                     "unknown variable ${NO_SUCH_VAR_XYZ}")
        self.refused("version: 1\ninfra: {redis: maybe}\napps:\n  - {appID: a, appDirPath: ., command: " + app + "}\n",
                     "infra: redis: must be true or false")
        out = self.refused("version: 1\napps:\n  - appID: a\n    appDirPath: .\n    replicas: 0\n    command: " + app + "\n",
                           "replicas", args=["--check"])
        self.assertIn("replicas: must be 1..64", out)

    def test_missing_run_file(self):
        res = subprocess.run([rt.binary("ripstop"), "run", "-f", os.path.join(self.dir, "absent.yaml")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1)
        self.assertIn("absent.yaml", res.stderr)
        self.assertIn("cannot read the run file", res.stderr)

    def test_directory_means_dapr_yaml_and_check_summarises(self):
        self.run_file(f"version: 1\napps:\n  - {{appID: a, appDirPath: ., replicas: 2, appPort: auto, "
                      f"command: [\"{self.fake_app}\"], appSSL: true}}\n")
        res = subprocess.run([rt.binary("ripstop"), "run", "-f", self.dir, "--check"], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("a x2", res.stdout)
        self.assertIn("appSSL is not supported by ripstop and is ignored", res.stdout)


if __name__ == "__main__":
    rt.main()
