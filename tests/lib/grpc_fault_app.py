"""A gRPC app that misbehaves on purpose, for the app channel's error tests: an
HTTP/2 server (python3-h2) that answers Dapr's AppCallback/OnInvoke by the
invoked method's name (InvokeRequest field 1):

  ok     replies InvokeResponse{data, content_type "text/plain"} with "ok"
  reset  resets the stream (RST_STREAM INTERNAL_ERROR) instead of answering
  big    replies with a message of `big_size` bytes
  fieldzero  replies an InvokeResponse whose Any holds a field numbered 0 (tag
         written as two bytes, 80 00): bytes protobuf-c alone would decode
  slow   never answers; a reset of the stream by the sidecar is recorded
  status answers gRPC status 5 (NOT_FOUND) with a message
  precondition  answers gRPC status 9 (FAILED_PRECONDITION) with a message and
         grpc-status-details-bin (PRECONDITION_DETAILS, unpadded base64)

OnTopicEvent answers SUCCESS and keeps each request, decoded, in `topic_events`.
ListInputBindings lists `input_bindings` (None: UNIMPLEMENTED); OnBindingEvent
keeps (name, data) in `binding_events` and answers `binding_replies[name]` (a
packed BindingEventResponse; an empty one for other names).
AppCallbackHealthCheck/HealthCheck answers by `health`: "ok" (an empty
HealthCheckResponse), "fail" (gRPC status 14 UNAVAILABLE) or "hang" (no answer);
each probe's metadata is kept in `health_calls`.

Every other method of the service is UNIMPLEMENTED. It records the methods
called, the streams the client reset and the HTTP/2 connections it served."""

import socket
import threading

from h2grpc import decode, field, h2

GRPC_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]
# google.rpc.Status{code: 9, message: "order is closed"}, base64 without padding as gRPC sends -bin values
PRECONDITION_DETAILS = "CAkSD29yZGVyIGlzIGNsb3NlZA"


def frame(msg):
    return b"\0" + len(msg).to_bytes(4, "big") + msg


class FaultApp:
    def __init__(self, port=0, big_size=8192):
        self.big_size = big_size
        self.calls = []        # method names, in order
        self.resets = []       # method names of the streams the client reset
        self.connections = 0
        self.health = "ok"
        self.health_calls = []  # the metadata of each HealthCheck call
        self.topic_events = []  # each OnTopicEvent request, decoded ({field: [values]})
        self.input_bindings = None
        self.binding_events = []  # (name, data) of each OnBindingEvent
        self.binding_replies = {}
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self.stopping = True
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with c:
            self._talk(c)

    def _talk(self, c):
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        c.sendall(conn.data_to_send())
        paths, bodies, names, metadata = {}, {}, {}, {}
        counted = False
        while True:
            try:
                data = c.recv(65536)
            except OSError:
                return
            if not data:
                return
            if not counted:  # the sidecar's start-up probe connects and closes without a byte: not counted
                counted = True
                with self.lock:
                    self.connections += 1
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    paths[ev.stream_id] = dict(ev.headers).get(b":path", b"").decode()
                    metadata[ev.stream_id] = {k.decode(): v.decode() for k, v in ev.headers}
                    bodies[ev.stream_id] = b""
                elif isinstance(ev, h2.events.DataReceived):
                    bodies[ev.stream_id] = bodies.get(ev.stream_id, b"") + ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    if paths.get(ev.stream_id, "").endswith("/OnTopicEvent"):
                        names[ev.stream_id] = self._topic_event(conn, ev.stream_id, bodies.get(ev.stream_id, b""))
                        continue
                    if paths.get(ev.stream_id) == "/dapr.proto.runtime.v1.AppCallbackHealthCheck/HealthCheck":
                        names[ev.stream_id] = self._health(conn, ev.stream_id, metadata.get(ev.stream_id, {}))
                        continue
                    names[ev.stream_id] = self._answer(conn, ev.stream_id, paths.get(ev.stream_id, ""),
                                                       bodies.get(ev.stream_id, b""))
                elif isinstance(ev, h2.events.StreamReset):
                    with self.lock:
                        self.resets.append(names.get(ev.stream_id, "?"))
            out = conn.data_to_send()
            if out:
                c.sendall(out)

    def _topic_event(self, conn, sid, body):
        with self.lock:
            self.topic_events.append(decode(body[5:]))
        conn.send_headers(sid, GRPC_HEADERS)
        conn.send_data(sid, frame(b""))  # TopicEventResponse{status: SUCCESS}
        conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)
        return "OnTopicEvent"

    def _health(self, conn, sid, md):
        with self.lock:
            self.health_calls.append(md)
            mode = self.health
        if mode == "ok":
            conn.send_headers(sid, GRPC_HEADERS)
            conn.send_data(sid, frame(b""))
            conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)
        elif mode == "fail":
            conn.send_headers(sid, GRPC_HEADERS + [("grpc-status", "14"), ("grpc-message", "not ready")],
                              end_stream=True)
        return "HealthCheck"

    def _reply(self, conn, sid, msg):
        conn.send_headers(sid, GRPC_HEADERS)
        conn.send_data(sid, frame(msg))
        conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)

    def _answer(self, conn, sid, path, body):
        if path.endswith("/ListInputBindings") and self.input_bindings is not None:
            self._reply(conn, sid, b"".join(field(1, b) for b in self.input_bindings))
            return "ListInputBindings"
        if path.endswith("/OnBindingEvent"):
            req = decode(body[5:])
            name, data = req.get(1, [b""])[0].decode(), req.get(2, [b""])[0]
            with self.lock:
                self.binding_events.append((name, data))
                reply = self.binding_replies.get(name, b"")
            self._reply(conn, sid, reply)
            return "OnBindingEvent"
        if not path.endswith("/OnInvoke"):
            conn.send_headers(sid, GRPC_HEADERS + [("grpc-status", "12"), ("grpc-message", "unimplemented")],
                              end_stream=True)
            return path
        method = decode(body[5:]).get(1, [b""])[0].decode()
        with self.lock:
            self.calls.append(method)
        if method == "reset":
            conn.reset_stream(sid, error_code=2)
        elif method == "slow":
            pass
        elif method == "precondition":
            conn.send_headers(sid, GRPC_HEADERS + [("grpc-status", "9"), ("grpc-message", "order is closed"),
                                                   ("grpc-status-details-bin", PRECONDITION_DETAILS)],
                              end_stream=True)
        elif method == "status":
            conn.send_headers(sid, GRPC_HEADERS + [("grpc-status", "5"), ("grpc-message", "no such order")],
                              end_stream=True)
        else:
            data = b"ok" if method in ("ok", "fieldzero") else b"x" * self.big_size
            zero = b"\x80\x00\x00" if method == "fieldzero" else b""  # field 0, varint 0
            msg = field(1, field(2, data) + zero) + field(2, "text/plain")  # InvokeResponse{data: Any{value}, ...}
            conn.send_headers(sid, GRPC_HEADERS)
            conn.send_data(sid, frame(msg))
            conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)
        return method
