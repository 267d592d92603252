"""Fixtures for tests of `ripstop run` (tests/integration/test_runner_*.py, tests/e2e/test_order_system.py):
`ripstop run` as a child whose console is parsed (RunnerProc), a base class with a fake sidecar and app
(RunnerTestBase), and pid_gone."""

import json
import os
import re
import tempfile
import textwrap

import ripstop_testlib as rt

FAKE_SIDECAR = r'''#!/usr/bin/env python3
import http.server, json, os, sys
args = sys.argv[1:]
port = int(args[args.index("--dapr-http-port") + 1])
out = os.environ["FAKE_OUT"]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(204 if self.path.startswith("/v1.0/healthz") else 404)
        self.end_headers()
    def log_message(self, *a):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), H)
# The record is the test's "started" signal: written (atomically) only once the port is listening.
path = os.path.join(out, "sidecar-%d.json" % port)
with open(path + ".tmp", "w") as f:
    json.dump({"argv": args, "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid()}, f)
os.rename(path + ".tmp", path)
print("fake sidecar %s on %d" % (args[args.index("--app-id") + 1], port), flush=True)
server.serve_forever()
'''

# An app that records its environment, serves HTTP on APP_PORT and prints a line.
FAKE_APP = r'''#!/usr/bin/env python3
import http.server, json, os, sys
port = int(os.environ.get("APP_PORT", "0"))
out = os.environ["FAKE_OUT"]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s#%s pid %d" % (os.environ["APP_ID"], os.environ["RIPSTOP_INSTANCE"], os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
server = http.server.HTTPServer(("127.0.0.1", port), H) if port else None
# The record is the test's "started" signal: written (atomically) only once the port is listening.
path = os.path.join(out, "app-%s-%s.json" % (os.environ["APP_ID"], os.environ["RIPSTOP_INSTANCE"]))
with open(path + ".tmp", "w") as f:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid()}, f)
os.rename(path + ".tmp", path)
print("hello from %s instance %s" % (os.environ["APP_ID"], os.environ["RIPSTOP_INSTANCE"]), flush=True)
if server:
    server.serve_forever()
else:
    import time
    while True:
        time.sleep(3600)
'''


def write_exe(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


class RunnerProc:
    """`ripstop run` as a child; its console output is captured to a file and parsed."""

    def __init__(self, run_file, args=(), env=None, logdir=None):
        self.logdir = logdir or tempfile.mkdtemp(prefix="ripstop-runner-log-")
        self.proc = rt.Proc("ripstop-run", [rt.binary("ripstop"), "run", "-f", run_file, *args], env=env,
                            logdir=self.logdir)

    def out(self):
        return self.proc.log()

    def wait_ready(self, timeout=30):
        def ready_or_exited():
            return not self.proc.alive() or "instance(s) ready" in self.out()
        rt.wait_for(ready_or_exited, timeout, what="ripstop run ready")
        if not self.proc.alive():
            raise AssertionError("ripstop run exited (%s):\n%s" % (self.proc.p.returncode, self.out()[-3000:]))

    def started(self):
        """[(label, kind, pid)] of every 'started' line so far, in order."""
        return [(m.group(1), m.group(2), int(m.group(3)))
                for m in re.finditer(r"\[ripstop\] started (\S+) (app|daprd) \(pid (\d+)\)", self.out())]

    def pid(self, label, kind="app"):
        pids = [p for (l, k, p) in self.started() if l == label and k == kind]
        return pids[-1] if pids else None

    def all_pids(self):
        return [p for (_, _, p) in self.started()]

    def stop(self):
        return self.proc.stop(timeout=30)


def pid_gone(pid):
    """True when pid no longer exists (or is a zombie waiting for init)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


class RunnerTestBase(rt.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="ripstop-runner-")
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out)
        self.fake_sidecar = write_exe(os.path.join(self.dir, "fake-ripstopd"), FAKE_SIDECAR)
        self.fake_app = write_exe(os.path.join(self.dir, "fake-app"), FAKE_APP)

    def run_file(self, text, name="dapr.yaml"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def start(self, text, args=(), ready=True):
        path = self.run_file(text)
        r = self.track(RunnerProc(path, ["--ripstopd", self.fake_sidecar, "--log-dir", os.path.join(self.dir, "logs"),
                                         *args], env={"FAKE_OUT": self.out}))
        if ready:
            r.wait_ready()
        return r

    def recorded(self, name, timeout=10):
        """What a fake app or sidecar recorded about itself (waits until it has written it)."""
        path = os.path.join(self.out, name)

        def load():
            with open(path) as f:
                return json.load(f)
        return rt.wait_for(load, timeout, what=name)
