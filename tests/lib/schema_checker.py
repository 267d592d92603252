"""Trace payloads checked against their format's published protobuf model by a node checker in tests/lib:
otlp_schema.mjs (OTLP/HTTP JSON against opentelemetry-proto's trace protos, from the npm package
@opentelemetry/otlp-grpc-exporter-base) and zipkin_schema.mjs (Zipkin v2 JSON against zipkin.proto, from
Debian's golang-github-openzipkin-zipkin-go-dev, extracted by scripts/setup.sh), both read with protobufjs.
One node process per SchemaChecker, one JSON line per payload each way."""
import json
import os
import shutil
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))


class SchemaChecker:
    def __init__(self, script, timeout=30):
        """script: "otlp_schema.mjs" or "zipkin_schema.mjs". `source` is what it says it loaded."""
        self.script = script
        self.lock = threading.Lock()
        self.p = subprocess.Popen([shutil.which("node") or "node", os.path.join(HERE, script)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = self._read(timeout)
        if "ready" not in ready:
            raise RuntimeError(f"{script} did not start: {ready}")
        self.source = ready["ready"]

    def _read(self, timeout):
        out = {}
        t = threading.Thread(target=lambda: out.update(line=self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        line = out.get("line")
        if not line:
            err = self.p.stderr.read() if self.p.poll() is not None else "(no answer)"
            raise RuntimeError(f"{self.script}: {err}")
        return json.loads(line)

    def check(self, payload, timeout=30):
        """The schema's objections to one payload (a parsed JSON value); [] when it is valid."""
        with self.lock:
            self.p.stdin.write(json.dumps(payload, separators=(",", ":")) + "\n")
            self.p.stdin.flush()
            return self._read(timeout)["errors"]

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()
