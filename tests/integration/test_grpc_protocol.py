"""ripstopd's gRPC server driven frame by frame with a raw HTTP/2 client
(tests/lib/h2grpc.py): interleaved streams on one connection,
flow-control windows with messages larger than them, an oversized message,
malformed frames and protobufs (a clear error, and the daemon keeps
serving), the API token, deadlines, and a client reset that stops the
operation it started (a retry-forever state call)."""

import json
import os
import signal
import socket

import h2grpc as g  # first: it puts Debian's python3-h2 (and hpack) on the path
import hpack
import ripstop_testlib as t

# every attempt on slowstore and witness times out after 100 ms; the policy retries forever, 50 ms apart
FOREVER = {"retry": "forever", "timeout": "short"}
RESILIENCY = json.dumps({
    "apiVersion": "dapr.io/v1alpha1", "kind": "Resiliency", "metadata": {"name": "res"},
    "spec": {"policies": {"timeouts": {"short": "100ms"},
                          "retries": {"forever": {"policy": "constant", "duration": "50ms", "maxRetries": -1}}},
             "targets": {"components": {"slowstore": {"outbound": FOREVER}, "witness": {"outbound": FOREVER}}}}})

OK, INTERNAL, UNAUTHENTICATED, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED = 0, 13, 16, 8, 4


def read_all(sock):
    """Everything the server sends until it closes the connection."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionResetError:
        pass
    return got


def frames(data):
    """The HTTP/2 frames in a byte stream from the server, as (type, stream id, payload)."""
    got, i = [], 0
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        got.append((data[i + 3], int.from_bytes(data[i + 5:i + 9], "big"), data[i + 9:i + 9 + n]))
        i += 9 + n
    return got


def frame_types(data):
    """The HTTP/2 frame types in a byte stream from the server."""
    return [ftype for ftype, _, _ in frames(data)]


class GrpcProtocol(t.ProcTestCase):
    def start(self, env=None, extra=None, resiliency=False):
        self.redis = self.track(t.Redis())
        files = {"state.yaml": t.redis_state_yaml("store", self.redis)}
        if resiliency:
            files["slow.yaml"] = t.redis_state_yaml("slowstore", self.redis)
            files["witness.yaml"] = t.redis_state_yaml("witness", self.redis)
            files["res.yaml"] = RESILIENCY
        self.sc = self.track(t.Sidecar("h2app", resources=t.write_resources(files), env=env,
                                       extra_args=["--max-body-size", "2Mi"] + (extra or [])))
        return self.sc

    def client(self, **kw):
        c = g.Client(self.sc.grpc_port, **kw)
        self.addCleanup(c.close)
        return c

    def healthy(self):
        self.assertEqual(self.sc.req("GET", "/v1.0/healthz").status, 204)
        c = self.client()
        r = c.call("GetState", g.get_state("store", "nothing"))
        self.assertEqual((r.status, r.message), (OK, ""))

    def test_interleaved_streams(self):
        self.start()
        c = self.client()
        # 50 saves opened together, their bodies sent in reverse order, then 50 reads likewise
        sids = {i: c.open("SaveState") for i in range(50)}
        for i in reversed(range(50)):
            c.send(sids[i], g.framed(g.save_state("store", f"k{i}", f"v{i}")))
        for i, sid in sids.items():
            self.assertEqual(c.wait(sid).status, OK, i)
        gets = {i: c.open("GetState") for i in range(50)}
        for i in reversed(range(50)):
            c.send(gets[i], g.framed(g.get_state("store", f"k{i}")))
        for i, sid in gets.items():
            r = c.wait(sid)
            self.assertEqual(r.status, OK, (i, r.message))
            self.assertEqual(g.decode(r.body)[1], [f"v{i}".encode()])

    def test_large_message_through_flow_control_windows(self):
        self.start()
        c = self.client()  # the client's windows stay at HTTP/2's 64 KiB: the server must wait for them
        big = bytes(range(256)) * (1536 * 4)  # 1.5 MiB, over the server's 1 MiB stream window too
        self.assertEqual(c.call("SaveState", g.save_state("store", "big", big)).status, OK)
        r = c.call("GetState", g.get_state("store", "big"))
        self.assertEqual(r.status, OK, r.message)
        self.assertEqual(g.decode(r.body)[1], [big])

    def test_oversized_message_is_resource_exhausted(self):
        self.start()
        c = self.client()
        big = b"x" * (3 * 1024 * 1024)  # over --max-body-size 2Mi
        sid = c.open("SaveState")
        try:
            c.send(sid, g.framed(g.save_state("store", "huge", big)))
        except Exception:  # noqa: BLE001 - the server may reset the stream while we still send
            pass
        r = c.wait(sid)
        self.assertEqual(r.status, RESOURCE_EXHAUSTED, r.headers)
        self.assertIn("larger than max", r.message)
        self.assertEqual(self.redis.cli("EXISTS", "h2app||huge"), "0")
        self.healthy()

    def test_malformed_protobuf_and_requests(self):
        self.start()
        c = self.client()
        r = c.call("GetState", b"\x0a\xff\xff\xff\xff\x0f")  # a string field longer than the message
        self.assertEqual(r.status, INTERNAL)
        self.assertIn("error unmarshalling request", r.message)
        # a field numbered 0 (its tag written as two bytes, 80 00), on top and inside a StateItem: protobuf-c
        # alone takes it, Go's protobuf and so daprd refuse it; nothing is saved
        r = c.call("GetState", b"\x80\x00\x00")
        self.assertEqual(r.status, INTERNAL)
        self.assertIn("error unmarshalling request", r.message)
        r = c.call("SaveState", b"\x0a\x05store\x12\x0a\x0a\x02k0\x12\x01v\x80\x00\x00")
        self.assertEqual(r.status, INTERNAL)
        self.assertEqual(self.redis.cli("EXISTS", "h2app||k0"), "0")
        r = c.call("SaveState", b"\x0a\x05store\x12\x07\x0a\x02k0\x12\x01v")  # the same item without it
        self.assertEqual(r.status, OK, r.message)
        self.assertEqual(self.redis.cli("EXISTS", "h2app||k0"), "1")
        sid = c.open("GetState")
        c.send(sid, b"\x00\x00\x00\x00\x10abc")  # prefix says 16 bytes, 3 arrive
        self.assertEqual(c.wait(sid).status, INTERNAL)
        sid = c.open("GetState")
        c.send(sid, b"\x01\x00\x00\x00\x00")  # compressed flag without grpc-encoding
        self.assertEqual(c.wait(sid).status, 12)
        # the same connection still serves
        r = c.call("GetState", g.get_state("store", "none"))
        self.assertEqual(r.status, OK)
        r = c.call("QueryStateAlpha1", b"")
        self.assertEqual(r.status, 12)
        self.assertIn("QueryStateAlpha1", r.message)

    def test_answer_already_made_goes_out_before_eof(self):
        # A whole call whose bytes end exactly at the server's 16 KiB read, then EOF (the client shuts down its
        # sending side): the server reads both in one go; the answer it made at once must still be written.
        self.start()

        def lit(name, value):  # HPACK literal without indexing, new name, no Huffman
            n, v = name.encode(), value.encode()
            return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v

        def frame(ftype, flags, sid, payload):
            return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload

        block = b"".join(lit(k, v) for k, v in ((":method", "POST"), (":scheme", "http"), (":authority", "x"),
                                                 (":path", "/dapr.proto.runtime.v1.Dapr/QueryStateAlpha1"),
                                                 ("content-type", "application/grpc"), ("te", "trailers")))
        head = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") + frame(1, 4, 1, block)
        size = 16384 - len(head) - 9 - 5  # one whole message, its prefix included, fills the read
        body = b"\x00" + size.to_bytes(4, "big") + b"\x00" * size
        wire = head + frame(0, 1, 1, body)
        self.assertEqual(len(wire), 16384)
        s = socket.create_connection(("127.0.0.1", self.sc.grpc_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(wire)
        s.shutdown(socket.SHUT_WR)
        got = read_all(s)
        fields = {}
        for ftype, sid, payload in frames(got):  # the answer: one HEADERS frame on stream 1 (trailers-only)
            if ftype == 1 and sid == 1:
                fields = dict(hpack.Decoder().decode(payload))
        self.assertEqual(fields.get("grpc-status"), "12", got[:200])  # UNIMPLEMENTED, naming the method
        self.assertIn("QueryStateAlpha1", fields.get("grpc-message", ""))
        self.healthy()

    def test_malformed_header_fields_reset_only_that_stream(self):
        self.start()
        c = self.client(validate=False)
        # a CR/LF or NUL in a value (metadata may become an app's HTTP headers), an upper-case or connection-specific
        # name, a te other than trailers, a pseudo-header after a regular field: RST_STREAM PROTOCOL_ERROR (1)
        for bad in ({"x-note": "a\r\nx-injected: 1"}, {"x-note": "a\x00b"}, {"X-Upper": "v"},
                    {"connection": "close"}, {"te": "gzip"}, {"x-first": "1", ":authority": "late"}):
            sid = c.open("GetState", bad)
            r = c.wait(sid)
            self.assertEqual(r.reset, 1, bad)
        self.assertEqual(self.redis.cli("EXISTS", "h2app||k"), "0")
        # the same connection still serves, with a tab and UTF-8 in a value as HTTP allows
        r = c.call("GetState", g.get_state("store", "none"), metadata={"x-note": "a\tb \u00e9"})
        self.assertEqual(r.status, OK)
        self.healthy()

    def test_malformed_frames_close_only_that_connection(self):
        self.start()
        s = socket.create_connection(("127.0.0.1", self.sc.grpc_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # not the HTTP/2 preface: the connection is closed
        self.assertNotIn(1, frame_types(read_all(s)))  # (after the server's SETTINGS at most; no response)
        s2 = socket.create_connection(("127.0.0.1", self.sc.grpc_port), timeout=10)
        self.addCleanup(s2.close)
        # a valid preface and SETTINGS, then a DATA frame on stream 0 (a connection error): GOAWAY, then close
        s2.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" +
                   b"\x00\x00\x03\x00\x00\x00\x00\x00\x00abc")
        self.assertIn(7, frame_types(read_all(s2)))
        self.healthy()

    def test_api_token(self):
        self.start(env={"DAPR_API_TOKEN": "tok"})
        c = self.client()
        r = c.call("GetState", g.get_state("store", "k"))
        self.assertEqual((r.status, r.message), (UNAUTHENTICATED, "missing api token in request metadata"))
        r = c.call("GetState", g.get_state("store", "k"), {"dapr-api-token": "nope"})
        self.assertEqual((r.status, r.message), (UNAUTHENTICATED, "authentication error: api token mismatch"))
        r = c.call("GetState", g.get_state("store", "k"), {"dapr-api-token": "tok"})
        self.assertEqual(r.status, OK)

    def test_metadata_never_outlives_its_stream(self):
        # a connection reuses its freed calls (and their metadata arrays) for later streams: a stream without the
        # token must never be served with an earlier stream's, however many streams the connection has carried
        self.start(env={"DAPR_API_TOKEN": "tok"})
        c = self.client()
        for i in range(24):  # past the 8 calls a connection keeps, in turns, one at a time
            # the padding moves the token through the call's memory block (and past it, into malloc'd memory)
            with_token = c.call("GetState", g.get_state("store", "k"), {"x-pad": "p" * (24 * i), "dapr-api-token": "tok"})
            self.assertEqual(with_token.status, OK, i)
            r = c.call("GetState", g.get_state("store", "k"))
            self.assertEqual((r.status, r.message), (UNAUTHENTICATED, "missing api token in request metadata"), i)
        # and interleaved: 20 streams open at once, every other one with the token, finished in reverse order
        sids = {i: c.open("GetState", {"dapr-api-token": "tok"} if i % 2 == 0 else {"x-other": str(i)})
                for i in range(20)}
        for i in reversed(range(20)):
            c.send(sids[i], g.framed(g.get_state("store", "k")))
        for i, sid in sids.items():
            self.assertEqual(c.wait(sid).status, OK if i % 2 == 0 else UNAUTHENTICATED, i)

    def test_deadline_and_reset_stop_the_operation(self):
        self.start(resiliency=True)
        c = self.client()
        os.kill(self.redis.proc.pid, signal.SIGSTOP)  # every attempt times out: the policy retries forever
        try:
            self.reset_stops_retries(c)
        finally:
            os.kill(self.redis.proc.pid, signal.SIGCONT)

    def reset_stops_retries(self, c):
        # grpc-timeout ends the call with DEADLINE_EXCEEDED
        r = c.call("GetState", g.get_state("witness", "a"), {"grpc-timeout": "400m"})
        self.assertEqual(r.status, DEADLINE_EXCEEDED, r.message)
        # a reset stream: its retries stop
        sid = c.open("GetState")
        c.send(sid, g.framed(g.get_state("slowstore", "a")))
        retries = lambda target: self.sc.proc.log().count(f"for component_{target} ")  # noqa: E731
        t.wait_for(lambda: retries("slowstore") >= 2, 5, what="slowstore retrying")
        c.reset(sid)
        t.wait_for(lambda: "cancelled by the client" in self.sc.proc.log(), 5, what="the reset seen")
        before = retries("slowstore")
        # a witness call on the same policy: by the time it has retried 5 times, a live slowstore call would have too
        w0 = retries("witness")
        sid = c.open("GetState", {"grpc-timeout": "10S"})
        c.send(sid, g.framed(g.get_state("witness", "b")))
        t.wait_for(lambda: retries("witness") >= w0 + 5, 5, what="witness retrying")
        self.assertLessEqual(retries("slowstore"), before + 1)
        c.reset(sid)


if __name__ == "__main__":
    t.main()
