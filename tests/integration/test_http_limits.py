"""ripstopd's HTTP limits with real sockets: slow clients are cut at the header and body deadlines, the
connection cap holds under a low descriptor limit without spinning or flooding the log, bad limit flags
are refused, and transfer codings other than chunked are refused with 501."""

import os
import socket
import subprocess
import time

import ripstop_testlib as t


def cpu_seconds(pid):
    """user + system CPU seconds of a process, from /proc/<pid>/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(False)
    return s


def closed_by_server(s):
    """True once the server has closed s (EOF or reset); what it sent first is read and dropped."""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


class Limits(t.ProcTestCase):
    def start(self, *args, nofile=None):
        port, metrics = t.free_port(), t.free_port()
        argv = [t.binary("ripstopd"), "--app-id", "limits", "--dapr-http-port", str(port), "--metrics-port",
                str(metrics), *args]
        if nofile:  # prlimit sets both limits and then execs ripstopd: the pid stays ripstopd's
            argv = ["prlimit", f"--nofile={nofile}:{nofile}", "--", *argv]
        p = self.track(t.Proc(f"ripstopd-limits-{port}", argv))
        t.wait_for(lambda: t.request("GET", port, "/v1.0/healthz", timeout=1).status == 204, 15, what="healthz")
        return p, port

    def test_slow_clients_are_cut_at_the_deadlines(self):
        p, port = self.start("--read-header-timeout", "1s", "--read-body-timeout", "1s")
        head_trickle = [connect(port) for _ in range(100)]
        body_trickle = [connect(port) for _ in range(100)]
        for s in body_trickle:
            s.send(b"POST /v1.0/state/none HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        request_line = b"GET /v1.0/healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 200
        start = time.monotonic()
        cut = set()
        i = 0
        # One byte per connection every 50 ms, for at most 6 s: without deadlines that fit the whole
        # request (not each byte), every connection would be kept for as long as the trickle lasts.
        while len(cut) < 200 and time.monotonic() - start < 6:
            for n, s in enumerate(head_trickle + body_trickle):
                if n in cut:
                    continue
                if closed_by_server(s):
                    cut.add(n)
                    continue
                try:
                    s.send(request_line[i:i + 1] if n < 100 else b"x")
                except (BrokenPipeError, ConnectionResetError):
                    cut.add(n)
            i += 1
            # the API answers while the trickle goes on
            self.assertEqual(t.request("GET", port, "/v1.0/healthz", timeout=5).status, 204)
            time.sleep(0.05)  # the trickle's pace (load shape, not synchronisation)
        elapsed = time.monotonic() - start
        for s in head_trickle + body_trickle:
            s.close()
        self.assertEqual(len(cut), 200, f"{200 - len(cut)} slow connections still open after {elapsed:.1f} s")
        self.assertLess(elapsed, 4.5)
        self.assertLess(t.rss_kib(p.pid), 64 * 1024)

    def test_connection_cap_under_a_low_descriptor_limit(self):
        # 160 descriptors: the cap becomes (160 - 64) / 2 = 48 connections
        p, port = self.start("--read-header-timeout", "1s", "--max-connections", "100000", nofile=160)
        cpu0 = cpu_seconds(p.pid)
        t0 = time.monotonic()
        idle = []
        for _ in range(300):  # the kernel queues what the cap does not take yet
            idle.append(connect(port))
        # a new client is served once the deadline frees slots, in the order the kernel queued them
        st = t.request("GET", port, "/v1.0/healthz", timeout=20).status
        self.assertEqual(st, 204)
        wall = time.monotonic() - t0
        cpu = cpu_seconds(p.pid) - cpu0
        for s in idle:
            s.close()
        self.assertTrue(p.alive())
        self.assertLess(cpu, 0.5 * wall + 0.2, f"{cpu:.2f} s of CPU in {wall:.2f} s: the accept loop spins")
        log = p.log()
        self.assertLess(len(log), 20000, "the log is flooded")
        self.assertEqual(t.request("GET", port, "/v1.0/healthz", timeout=5).status, 204)

    def test_bad_limit_flags_are_refused(self):
        for flag, value in (("--max-connections", "0"), ("--max-connections", "x"),
                            ("--read-header-timeout", "soon"), ("--read-body-timeout", "0s"),
                            ("--idle-timeout", "-1s"), ("--max-body-size", "inf"), ("--max-body-size", "1e30"),
                            ("--max-body-size", "nan"), ("--max-body-size", "0")):
            r = subprocess.run([t.binary("ripstopd"), "--app-id", "a", flag, value], capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, 2, (flag, value, r.stderr))
            self.assertIn(f"invalid value '{value}' for {flag}", r.stderr)

    def test_transfer_codings_other_than_chunked_get_501(self):
        _, port = self.start()
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /v1.0/state/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                  b"1\r\nx\r\n0\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 501 "), reply[:100])


if __name__ == "__main__":
    t.main()
