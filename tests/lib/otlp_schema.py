"""OTLP/HTTP JSON payloads checked against OpenTelemetry's published trace protos (tests/lib/otlp_schema.mjs:
opentelemetry-proto's .proto files from the npm package @opentelemetry/otlp-grpc-exporter-base, read with
protobufjs). One node process per OtlpSchema, one JSON line per payload each way."""
import json
import os
import shutil
import subprocess
import threading

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "otlp_schema.mjs")


class OtlpSchema:
    def __init__(self, timeout=30):
        self.lock = threading.Lock()
        self.p = subprocess.Popen([shutil.which("node") or "node", CHECKER], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = self._read(timeout)
        if "ready" not in ready:
            raise RuntimeError(f"otlp_schema.mjs did not start: {ready}")
        self.protos = ready["ready"]

    def _read(self, timeout):
        out = {}
        t = threading.Thread(target=lambda: out.update(line=self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        line = out.get("line")
        if not line:
            err = self.p.stderr.read() if self.p.poll() is not None else "(no answer)"
            raise RuntimeError(f"otlp_schema.mjs: {err}")
        return json.loads(line)

    def check(self, payload, timeout=30):
        """The schema's objections to one ExportTraceServiceRequest (a parsed JSON value); [] when it is valid."""
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
