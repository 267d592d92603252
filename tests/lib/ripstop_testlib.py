"""Shared helpers for Ripstop's Python tests (standard library only).

Everything a test starts runs on 127.0.0.1 on a free port, and is stopped by
PID when the test ends (use the context managers or Procs.stop_all()).
Never sleep to synchronise: use wait_for(condition, timeout)."""

import fcntl
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

BUILD = os.environ.get("RIPSTOP_BUILD") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
SRC = os.environ.get("RIPSTOP_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
BUILD = os.path.abspath(BUILD)
SRC = os.path.abspath(SRC)


def binary(name):
    """Path of a built program (ripstopd, ripstop, kafka-mock, services...)."""
    for cand in (os.path.join(BUILD, name), os.path.join(BUILD, "bin", name)):
        if os.path.exists(cand):
            return cand
    raise FileNotFoundError(f"{name} not built under {BUILD}")


_port_locks = []  # open lock files: each holds one reserved port until this process exits
_port_next = None


def _port_range():
    """Ports below the kernel's ephemeral range: bind(0) would hand out a port from that range,
    which any outbound connection on the machine may take as its source port before our server
    binds it (seen in CI as 'Address already in use')."""
    eph_lo, eph_hi = 32768, 60999
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_lo, eph_hi = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        pass
    below, above = eph_lo - 1 - 10000, 65535 - (eph_hi + 1)
    if below >= above and below > 100:
        return 10000, eph_lo - 1
    if above > 100:
        return eph_hi + 1, 65535
    return None


def _bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port():
    """A loopback port for a server the test starts, reserved the way src/core/port_reserve.c
    reserves one (same range rule, same per-port flock files), so that tests, benchmarks and
    `ripstop run` in parallel never pick the same port."""
    global _port_next
    rng = _port_range()
    if rng is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    lo, hi = rng
    span = hi - lo + 1
    lock_dir = f"/tmp/ripstop-ports-{os.getuid()}"
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    if _port_next is None:
        _port_next = (os.getpid() * 7919 + time.monotonic_ns()) % span
    for _ in range(min(span, 4096)):
        port = lo + _port_next % span
        _port_next += 1
        if not _bindable(port):
            continue
        f = open(os.path.join(lock_dir, f"{port}.lock"), "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        if not _bindable(port):  # bound by someone else between the check and the lock
            f.close()
            continue
        _port_locks.append(f)
        return port
    raise RuntimeError(f"no free loopback port in {lo}-{hi}")


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Polls cond() until it returns a truthy value; returns it, or raises after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - the condition may fail while a server starts
            last_exc = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last_exc})" if last_exc else ""))


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def proc_status(pid):
    """/proc/<pid>/status as {field: text} ({"VmRSS": "5120 kB", "Threads": "1", ...}); {} once the process is
    gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def proc_kib(status, field="VmRSS"):
    """A memory field of proc_status() in KiB (0 if absent)."""
    return int(status[field].split()[0]) if field in status else 0


def rss_kib(pid):
    """The process's resident set (VmRSS) in KiB; 0 once it is gone."""
    return proc_kib(proc_status(pid))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


def request(method, port, path, body=None, headers=None, timeout=10.0, host="127.0.0.1"):
    """One HTTP request on a new connection. body may be bytes, str, or a JSON-able value."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


# AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer reports, as they start in a log. A child's report
# does not always fail the test that started it (a leak only changes the exit code at shutdown; a report in a
# process killed later is easy to miss), so ProcTestCase and main() look for them in every Proc's log.
SANITIZER_REPORT = re.compile(r"==\d+==ERROR: (?:AddressSanitizer|LeakSanitizer)|:\d+(?::\d+)?: runtime error: ")
_all_procs = []


def sanitizer_report(path, context=6000):
    """The sanitizer report(s) in the file at path, from the first one on (at most context chars), or ""."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    m = SANITIZER_REPORT.search(text)
    if not m:
        return ""
    start = text.rfind("\n", 0, m.start()) + 1
    return text[start:start + context]


class Proc:
    """A child process with its output captured to a log file."""

    def __init__(self, name, argv, env=None, cwd=None, logdir=None):
        self.name = name
        self.argv = argv
        logdir = logdir or tempfile.mkdtemp(prefix="ripstop-log-")
        self.log_path = os.path.join(logdir, f"{name}.log")
        self._log = open(self.log_path, "ab")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                  start_new_session=True)
        self.pid = self.p.pid
        self.sanitizer_checked = False
        _all_procs.append(self)

    def sanitizer_report(self):
        """A sanitizer report in this process's log so far (see SANITIZER_REPORT), or ""."""
        return sanitizer_report(self.log_path)

    def alive(self):
        return self.p.poll() is None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill9(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait(timeout=10)

    def stop(self, timeout=10.0):
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()
        return self.p.returncode


class Redis:
    """A throwaway redis-server on a free loopback port, no persistence."""

    def __init__(self, port=None, password=None):
        self.port = port or free_port()
        self.password = password
        self.dir = tempfile.mkdtemp(prefix="ripstop-redis-")
        self.proc = None
        self.start()

    def start(self):
        argv = [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir]
        if self.password:
            argv += ["--requirepass", self.password]
        self.proc = Proc(f"redis-{self.port}", argv, logdir=self.dir)
        wait_for(lambda: port_open(self.port), 10, what=f"redis on {self.port}")

    def stop(self):
        if self.proc:
            self.proc.stop()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def cli(self, *args):
        argv = ["redis-cli", "-p", str(self.port)]
        if self.password:
            argv += ["-a", self.password, "--no-auth-warning"]
        return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True, timeout=10).stdout.strip()


# Azurite's published development account (from its README); not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Azurite:
    """azurite-blob (npm, installed by scripts/setup.sh) on a free loopback port with its own
    data folder; stop() and start() again keep the port and the data."""

    def __init__(self):
        self.bin = os.path.join(SRC, "node_modules", ".bin", "azurite-blob")
        if not os.path.exists(self.bin):
            raise FileNotFoundError("Azurite is not installed: run scripts/setup.sh (npm ci)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ripstop-azurite-")
        self.proc = None
        self.start()

    def start(self):
        argv = [self.bin, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", self.dir,
                "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"]
        self.proc = Proc(f"azurite-{self.port}", argv, logdir=self.dir)
        wait_for(lambda: port_open(self.port), 30, what=f"azurite on {self.port}")

    def stop(self):
        if self.proc:
            self.proc.stop()
            self.proc = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"


class KafkaMock:
    """A kafka-mock process (librdkafka's mock cluster) on free loopback ports;
    `bootstrap` is its broker list and `control()` talks to its control API."""

    def __init__(self, brokers=1, topics=()):
        self.dir = tempfile.mkdtemp(prefix="ripstop-kafka-")
        bfile = os.path.join(self.dir, "bootstrap")
        cfile = os.path.join(self.dir, "control")
        argv = [binary("kafka-mock"), "--brokers", str(brokers), "--bootstrap-file", bfile,
                "--control-file", cfile, "--log-level", "warn"]
        for t in topics:
            argv += ["--topic", t]
        self.proc = Proc("kafka-mock", argv, logdir=self.dir)

        def ready():
            if not self.proc.alive():
                raise RuntimeError("kafka-mock exited:\n" + self.proc.log())
            return os.path.exists(bfile) and os.path.exists(cfile)

        wait_for(ready, 10, what="kafka-mock files")
        with open(bfile) as f:
            self.bootstrap = f.read().strip()
        with open(cfile) as f:
            self.control_port = int(f.read().strip())

    def control(self, method, path, body=None):
        r = request(method, self.control_port, path, body)
        if r.status >= 300:
            raise AssertionError(f"kafka-mock {method} {path}: {r}")
        return r.json() if r.body else None

    def stop(self):
        return self.proc.stop()


_nameres_db = None


def _private_nameres_db():
    global _nameres_db
    if _nameres_db is None:
        _nameres_db = os.path.join(tempfile.mkdtemp(prefix="ripstop-nameres-"), "nameres.db")
    return _nameres_db


class Sidecar:
    """A ripstopd on free ports with the given resources directory."""

    def __init__(self, app_id, resources=None, app_port=None, config=None, env=None, extra_args=None, logdir=None,
                 wait=True, http_port=None):
        self.app_id = app_id
        self.port = http_port or free_port()
        self.metrics_port = free_port()
        self.grpc_port = free_port()  # each sidecar its own, as `ripstop run` gives them
        argv = [binary("ripstopd"), "--app-id", app_id, "--dapr-http-port", str(self.port),
                "--dapr-grpc-port", str(self.grpc_port),
                "--metrics-port", str(self.metrics_port), "--log-level", "debug"]
        for r in ([resources] if isinstance(resources, str) else (resources or [])):
            argv += ["--resources-path", r]
        if app_port:
            argv += ["--app-port", str(app_port)]
        if config:
            argv += ["--config", config]
        argv += extra_args or []
        env = dict(env or {})
        # Sidecars of one test process find each other, but never those of another
        # test running in parallel: a name-resolution table per test process.
        if "RIPSTOP_NAMERES_DB" not in env and "RIPSTOP_NAMERES_DB" not in os.environ:
            env["RIPSTOP_NAMERES_DB"] = _private_nameres_db()
        self.proc = Proc(f"ripstopd-{app_id}-{self.port}", argv, env=env, logdir=logdir)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=15.0, outbound=True):
        path = "/v1.0/healthz/outbound" if outbound else "/v1.0/healthz"

        def ready():
            if not self.proc.alive():
                raise RuntimeError(f"ripstopd exited ({self.proc.p.returncode}):\n{self.proc.log()[-3000:]}")
            return request("GET", self.port, path, timeout=1).status == 204

        wait_for(ready, timeout, what=f"ripstopd {self.app_id} ready")

    def req(self, method, path, body=None, headers=None, timeout=10.0):
        return request(method, self.port, path, body, headers, timeout)

    def stop(self):
        return self.proc.stop()


def write_resources(files):
    """Writes {filename: yaml text} into a new temp folder and returns its path."""
    d = tempfile.mkdtemp(prefix="ripstop-res-")
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return d


def redis_state_yaml(name, redis, extra=""):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: state.redis
  version: v1
  metadata:
  - name: redisHost
    value: {redis.addr}
{extra}"""


def localstorage_yaml(name, root, extra=""):
    """A bindings.localstorage component rooted at root (extra: more metadata items)."""
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: bindings.localstorage
  version: v1
  metadata:
  - name: rootPath
    value: {root}
{extra}"""


def cron_yaml(name, schedule="* * * * * *", extra=""):
    """A bindings.cron component firing on schedule (extra: more metadata items)."""
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: bindings.cron
  version: v1
  metadata:
  - name: schedule
    value: "{schedule}"
{extra}"""


def require_js_sdk(testcase):
    """Fails testcase unless the Dapr JS SDK is installed in the checkout (scripts/setup.sh runs npm ci)."""
    if not os.path.isdir(os.path.join(SRC, "node_modules", "@dapr", "dapr")):
        testcase.fail("node_modules/@dapr/dapr is missing: run scripts/setup.sh (npm ci)")


class _ThreadedServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Request handler base for an app a test serves: HTTP/1.1 keep-alive, no access log."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        """Answers status with body (ctype None: no Content-Type)."""
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HttpApp:
    """A threaded HTTP server on a free loopback port (self.port) serving handler, a QuietHandler subclass, from
    a daemon thread; stop() (for ProcTestCase.track) shuts it down. Subclasses build the handler (usually a
    class closing over self) and then call HttpApp.__init__."""

    def __init__(self, handler):
        self.port = free_port()
        self.srv = _ThreadedServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class ProcTestCase(unittest.TestCase):
    """A TestCase that stops everything registered with self.track() at teardown, newest first."""

    def setUp(self):
        self._tracked = []

    def track(self, thing):
        self._tracked.append(thing)
        return thing

    def tearDown(self):
        for t in reversed(self._tracked):
            try:
                t.stop()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
        reports = []
        for t in self._tracked:
            p = t if isinstance(t, Proc) else getattr(t, "proc", None)
            if isinstance(p, Proc) and not p.sanitizer_checked:
                p.sanitizer_checked = True
                rep = p.sanitizer_report()
                if rep:
                    reports.append(f"--- {p.name} ({p.log_path}):\n{rep}")
        if reports:
            self.fail("sanitizer report in a child's log:\n" + "\n".join(reports))


def main():
    """Runs the calling module's tests and prints the 'N passed, N failed' line."""
    import sys
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    # Children that no ProcTestCase checked (started in setUpClass, or not tracked): stop each one still running
    # so a leak report gets written, then count every report as one failure.
    sanitizer_failed = 0
    for p in _all_procs:
        if p.sanitizer_checked:
            continue
        p.sanitizer_checked = True
        try:
            p.stop()
        except Exception:  # noqa: BLE001 - best effort: the log is what matters here
            pass
        rep = p.sanitizer_report()
        if rep:
            sanitizer_failed += 1
            print(f"FAIL: sanitizer report in the log of {p.name} ({p.log_path}):\n{rep}", file=sys.stderr)
    print(f"{r.testsRun - failed - len(r.skipped)} passed, {failed + sanitizer_failed} failed")
    sys.exit(1 if failed or sanitizer_failed or r.testsRun == 0 else 0)
