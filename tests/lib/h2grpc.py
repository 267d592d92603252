"""A raw gRPC-over-HTTP/2 client for protocol tests (python3-h2 from Debian)
and the few protobuf messages they send, encoded by hand. It exposes the
frames, so a test can interleave streams, reset one, or send bytes that are
not HTTP/2 at all."""

import socket
import struct
import sys

try:
    import h2.config
    import h2.connection
    import h2.events
except ImportError:  # Debian's python3-h2 is on the system interpreter's path; pure Python, any 3.x reads it
    sys.path.append("/usr/lib/python3/dist-packages")
    import h2.config
    import h2.connection
    import h2.events

SERVICE = "/dapr.proto.runtime.v1.Dapr/"


# ---- protobuf, by hand: varints and length-delimited fields are all these messages need ----

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, value):
    """A string/bytes/message field (wire type 2) or an int field (wire type 0)."""
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def decode(buf):
    """{field number: [values]} of one message (ints for varints, bytes for length-delimited)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(buf, i)
        elif wt == 2:
            n, i = _read_varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 1:  # a double (google.protobuf.Value's number_value)
            v, i = struct.unpack("<d", bytes(buf[i:i + 8]))[0], i + 8
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def _read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def save_state(store, key, value):
    return field(1, store) + field(2, field(1, key) + field(2, value))


def get_state(store, key):
    return field(1, store) + field(2, key)


def publish_event(pubsub, topic, data=b"", metadata=None):
    return (field(1, pubsub) + field(2, topic) + field(3, data) +
            b"".join(field(5, field(1, k) + field(2, v)) for k, v in (metadata or {}).items()))


def get_secret(store, key):
    return field(1, store) + field(2, key)


def invoke_service(app_id, method, verb=1):
    """InvokeServiceRequest{id, message: InvokeRequest{method, http_extension{verb}}} (verb 1 = GET)."""
    return field(1, app_id) + field(3, field(1, method) + field(4, field(1, verb)))


def trace_bin(trace_id, span_id, sampled=True):
    """A grpc-trace-bin value (OpenCensus binary context, base64 as -bin metadata travels)."""
    import base64
    raw = b"\0\0" + bytes.fromhex(trace_id) + b"\1" + bytes.fromhex(span_id) + b"\2" + bytes([1 if sampled else 0])
    return base64.b64encode(raw).decode()


def try_lock(store, resource, owner, expiry):
    return field(1, store) + field(2, resource) + field(3, owner) + field(4, expiry)


# the google.rpc details ripstopd sends, by type: {field number: name}; "metadata" is a map<string,string>
_DETAIL_FIELDS = {
    "google.rpc.ErrorInfo": {1: "reason", 2: "domain", 3: "metadata"},
    "google.rpc.ResourceInfo": {1: "resource_type", 2: "resource_name", 3: "owner", 4: "description"},
    "google.rpc.BadRequest": {1: "field_violations"},
    "google.rpc.Help": {1: "links"},
}
_NESTED = {"field_violations": {1: "field", 2: "description"}, "links": {1: "description", 2: "url"}}


def _detail(type_name, value):
    names, out = _DETAIL_FIELDS[type_name], {}
    for num, vals in decode(value).items():
        name = names[num]
        if name == "metadata":
            out[name] = {decode(e).get(1, [b""])[0].decode(): decode(e).get(2, [b""])[0].decode() for e in vals}
        elif name in _NESTED:
            out[name] = [{_NESTED[name][k]: v[0].decode() for k, v in decode(e).items()} for e in vals]
        else:
            out[name] = vals[0].decode()
    return out


def status_details(reply):
    """The grpc-status-details-bin trailer as (code, message, [(type name, {field: value})]), or None if absent.
    Unknown detail types raise KeyError: the test should know every detail it gets."""
    import base64
    b64 = (reply.trailers or reply.headers).get("grpc-status-details-bin")
    if b64 is None:
        return None
    st = decode(base64.b64decode(b64 + "=" * (-len(b64) % 4)))
    details = []
    for anyb in st.get(3, []):
        a = decode(anyb)
        url = a[1][0].decode()
        prefix = "type.googleapis.com/"
        assert url.startswith(prefix), url
        details.append((url[len(prefix):], _detail(url[len(prefix):], a.get(2, [b""])[0])))
    return st.get(1, [0])[0], st.get(2, [b""])[0].decode(), details


def framed(msg):
    """A gRPC length-prefixed message."""
    return b"\0" + struct.pack(">I", len(msg)) + msg


# ---- the connection ----

class Reply:
    def __init__(self):
        self.headers, self.trailers, self.data, self.reset, self.ended = {}, {}, bytearray(), None, False

    @property
    def status(self):
        return int((self.trailers or self.headers).get("grpc-status", "-1"))

    @property
    def message(self):
        from urllib.parse import unquote
        return unquote((self.trailers or self.headers).get("grpc-message", ""))

    @property
    def body(self):
        assert len(self.data) >= 5, self.data
        return bytes(self.data[5:])


class Client:
    def __init__(self, port, window=65535, validate=True):
        """validate=False: header fields are sent as given, even malformed ones (to test the server's checks)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8", validate_outbound_headers=validate,
            normalize_outbound_headers=validate))
        self.conn.initiate_connection()
        self.replies = {}
        self.closed = False
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def open(self, method, metadata=None):
        """metadata: a dict, or a list of (name, value) pairs (a name may repeat)."""
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", "POST"), (":scheme", "http"), (":path", SERVICE + method), (":authority", "localhost"),
                ("content-type", "application/grpc"), ("te", "trailers")] + \
            (list(metadata.items()) if isinstance(metadata, dict) else list(metadata or []))
        self.conn.send_headers(sid, hdrs)
        self.replies[sid] = Reply()
        self.flush()
        return sid

    def send(self, sid, data, end=True):
        """Sends data as the windows allow, reading (and acknowledging) meanwhile."""
        view = memoryview(data)
        while view:
            n = min(len(view), self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if n == 0:
                self.pump()
                continue
            self.conn.send_data(sid, bytes(view[:n]))
            view = view[n:]
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def reset(self, sid):
        self.conn.reset_stream(sid)
        self.flush()

    def pump(self):
        """Reads once and handles what arrived."""
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            raise ConnectionError("server closed the connection")
        for ev in self.conn.receive_data(data):
            r = self.replies.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived):
                r.headers = dict(ev.headers)
            elif isinstance(ev, h2.events.TrailersReceived):
                r.trailers = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                r.data += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                r.ended = True
            elif isinstance(ev, h2.events.StreamReset) and r:
                r.reset = ev.error_code
                r.ended = True
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.closed = True
        self.flush()

    def wait(self, sid):
        while not self.replies[sid].ended:
            self.pump()
        return self.replies[sid]

    def call(self, method, msg, metadata=None):
        sid = self.open(method, metadata)
        self.send(sid, framed(msg))
        return self.wait(sid)

    def close(self):
        self.sock.close()
