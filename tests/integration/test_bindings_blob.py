"""bindings.azure.blobstorage through ripstopd against a real Azurite (the Azure
Storage emulator, npm package), started on a free port with a fresh data
folder for each test: every operation, content headers and blob metadata,
decodeBase64, listing across pages with markers, Go field names, a wrong
account key, Azurite stopped and restarted, the outbound resiliency timeout,
connection strings, disableEntityManagement and publicAccessLevel, and the
output binding API's errors."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

import ripstop_testlib as T

DEV_ACCOUNT = T.AZURITE_ACCOUNT
DEV_KEY = T.AZURITE_KEY
Azurite = T.Azurite


class FakeBlobService(T.HttpApp):
    """A tiny Blob service that checks every request's Shared Key signature itself (Python hmac) and lists a
    container in pages of `page` items, whatever maxresults asks, the way a real service may."""

    def __init__(self, names, page=3):
        self.names = names
        self.page = page
        self.requests = []  # (method, path, query dict, signature ok)
        svc = self

        class H(T.QuietHandler):
            def _check(self, body_len):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
                h = {k.lower(): v for k, v in self.headers.items()}
                xms = "\n".join(f"{k}:{h[k]}" for k in sorted(h) if k.startswith("x-ms-"))
                res = f"/{DEV_ACCOUNT}{u.path}" + "".join(f"\n{k.lower()}:{','.join(sorted(v))}"
                                                         for k, v in sorted(q.items()))
                sts = "\n".join([self.command, h.get("content-encoding", ""), h.get("content-language", ""),
                                 str(body_len) if body_len else "", h.get("content-md5", ""),
                                 h.get("content-type", ""), "", "", "", "", "", "", xms, res])
                sig = base64.b64encode(hmac.new(base64.b64decode(DEV_KEY), sts.encode(), hashlib.sha256).digest())
                ok = h.get("authorization") == f"SharedKey {DEV_ACCOUNT}:{sig.decode()}"
                svc.requests.append((self.command, u.path, {k: v[0] for k, v in q.items()}, ok))
                return ok, q

            def do_PUT(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                ok, _ = self._check(n)
                self.reply(201 if ok else 403, ctype="application/xml")

            def do_GET(self):
                ok, q = self._check(0)
                if not ok:
                    return self.reply(403, b"<Error><Code>AuthenticationFailed</Code><Message>bad</Message></Error>",
                                      ctype="application/xml")
                start = int(q["marker"][0].split("!")[1]) if "marker" in q else 0
                chunk = svc.names[start:start + svc.page]
                nxt = start + len(chunk)
                marker = f"2!{nxt}!b64/x=" if nxt < len(svc.names) else ""
                blobs = "".join(f"<Blob><Name>{n}</Name><Properties><Content-Length>1</Content-Length>"
                                f"<BlobType>BlockBlob</BlobType></Properties></Blob>" for n in chunk)
                xml = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="c"><Blobs>{blobs}'
                       f"</Blobs><NextMarker>{marker}</NextMarker></EnumerationResults>")
                self.reply(200, xml.encode(), ctype="application/xml")

        super().__init__(H)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"


def blob_yaml(name, container, azurite, extra="", key=DEV_KEY, account_keys=("accountName", "accountKey")):
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: bindings.azure.blobstorage
  version: v1
  metadata:
  - name: {account_keys[0]}
    value: {DEV_ACCOUNT}
  - name: {account_keys[1]}
    value: "{key}"
  - name: containerName
    value: {container}
  - name: endpoint
    value: {azurite.endpoint}
{extra}"""


class BlobBindingTest(T.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.az = self.track(Azurite())
        self.addCleanup(shutil.rmtree, self.az.dir, True)

    def sidecar(self, files, wait=True):
        res = T.write_resources(files)
        return self.track(T.Sidecar("blobapp", res, wait=wait))

    def invoke(self, sc, name, operation, data=None, metadata=None, raw=None, timeout=20):
        body = raw if raw is not None else {"operation": operation, "metadata": metadata or {}}
        if raw is None and data is not None:
            body["data"] = data
        return sc.req("POST", f"/v1.0/bindings/{name}", body, timeout=timeout)

    def wait_container(self, sc, name, container):
        T.wait_for(lambda: f"{name}: container {container} ready" in sc.proc.log(), 15, what="container created")

    def test_create_get_delete(self):
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az)})
        self.wait_container(sc, "orders", "orders")
        r = self.invoke(sc, "orders", "create", "hello", {"blobName": "o1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"blobURL": f"{self.az.endpoint}/{DEV_ACCOUNT}/orders/o1", "blobName": "o1"})
        self.assertEqual(r.headers.get("metadata.blobname"), "o1")
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "o1"})
        self.assertEqual((r.status, r.body), (200, b"hello"))  # the JSON string was unquoted
        self.assertEqual(r.headers.get("content-type"), "application/json")
        # Objects are re-marshalled the way Go does: keys sorted, numbers float64, HTML characters escaped.
        r = self.invoke(sc, "orders", "create", {"b": 1.0, "a": "x<y"}, {"blobName": "dir/o 2"})
        self.assertEqual(r.json()["blobURL"], f"{self.az.endpoint}/{DEV_ACCOUNT}/orders/dir%2Fo%202")
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "dir/o 2"})
        self.assertEqual(r.body, b'{"a":"x\\u003cy","b":1}')
        self.assertEqual(self.invoke(sc, "orders", "create", "", {"blobName": "empty"}).status, 200)
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "empty"})
        self.assertEqual((r.status, r.body), (200, b""))
        r = self.invoke(sc, "orders", "create", "no name")
        self.assertEqual(r.status, 200)
        self.assertRegex(r.json()["blobName"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        r = self.invoke(sc, "orders", "delete", metadata={"blobName": "o1"})
        self.assertEqual((r.status, r.body), (204, b""))
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "o1"})
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json(), {"errorCode": "ERR_INVOKE_OUTPUT_BINDING",
                                    "message": "error invoking output binding orders: blob not found"})
        r = self.invoke(sc, "orders", "delete", metadata={"blobName": "o1"})
        self.assertEqual(r.json()["message"], "error invoking output binding orders: blob not found")
        r = self.invoke(sc, "orders", "get")
        self.assertEqual(r.json()["message"], "error invoking output binding orders: blobName is a required attribute")
        r = self.invoke(sc, "orders", "delete", metadata={"blobName": "dir/o 2", "deleteSnapshots": "everything"})
        self.assertIn("invalid delete snapshot option type: everything", r.json()["message"])
        r = self.invoke(sc, "orders", "delete", metadata={"blobName": "dir/o 2", "deleteSnapshots": "include"})
        self.assertEqual(r.status, 204)
        metrics = T.request("GET", sc.metrics_port, "/metrics").text
        self.assertIn('dapr_component_output_binding_count{app_id="blobapp",component="orders",operation="create",'
                      'success="true"} 4', metrics)
        self.assertIn('dapr_component_output_binding_count{app_id="blobapp",component="orders",operation="get",'
                      'success="false"} 2', metrics)

    def test_connections_are_reused(self):
        if not shutil.which("ss"):
            self.skipTest("ss (iproute2) not installed")
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az)})
        self.wait_container(sc, "orders", "orders")
        for i in range(20):
            self.assertEqual(self.invoke(sc, "orders", "create", i, {"blobName": f"c{i}"}).status, 200)
            self.assertEqual(self.invoke(sc, "orders", "get", metadata={"blobName": f"c{i}"}).status, 200)
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{self.az.port} )"],
                             capture_output=True, text=True, timeout=10).stdout
        conns = [line for line in out.splitlines() if line.strip()]
        self.assertGreaterEqual(len(conns), 1)
        self.assertLessEqual(len(conns), 2, f"40 sequential operations should share a kept-alive connection: {out}")

    def test_content_headers_and_blob_metadata(self):
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az)})
        self.wait_container(sc, "orders", "orders")
        md5 = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
        r = self.invoke(sc, "orders", "create", "hello",
                        {"blobName": "h", "ContentType": "text/plain", "contentMD5": md5, "cacheControl": "no-cache",
                         "contentLanguage": "en-us", "custom-Key": "v\u00e4lue", "other": "x"})
        self.assertEqual(r.status, 200, r)
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "h", "includeMetadata": "true"})
        self.assertEqual(r.body, b"hello")
        self.assertEqual(r.headers.get("metadata.customkey"), "vlue")  # key: [A-Za-z0-9] only; value: ASCII only
        self.assertEqual(r.headers.get("metadata.other"), "x")
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "h"})
        self.assertNotIn("metadata.other", r.headers)
        r = self.invoke(sc, "orders", "list", {"include": {"metadata": True}})
        item = r.json()[0]
        props = item["Properties"]
        self.assertEqual(props["ContentType"], "text/plain")
        self.assertEqual(props["CacheControl"], "no-cache")
        self.assertEqual(props["ContentLanguage"], "en-us")
        self.assertEqual(props["ContentMD5"], md5)
        self.assertEqual(props["ContentLength"], 5)
        self.assertEqual(item["Metadata"], {"customKey": "vlue", "other": "x"})
        # A wrong MD5 is caught by the service; a malformed one by the binding.
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        r = self.invoke(sc, "orders", "create", "hello", {"blobName": "h2", "contentMD5": wrong})
        self.assertEqual(r.status, 500)
        # Azure answers Md5Mismatch, Azurite InvalidOperation "Provided contentMD5 doesn't match."
        self.assertRegex(r.json()["message"], r"Md5Mismatch|contentMD5 doesn't match")
        r = self.invoke(sc, "orders", "create", "x", {"blobName": "h3", "evil": "a\r\nx-ms-meta-injected: b"})
        self.assertEqual(r.status, 500)
        self.assertIn("invalid header field value", r.json()["message"])
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "h3"})
        self.assertEqual(r.json()["message"], "error invoking output binding orders: blob not found")
        r = self.invoke(sc, "orders", "create", "hello", {"blobName": "h2", "contentMD5": "abc"})
        self.assertIn("MD5 value must be 128 bits and base64 encoded", r.json()["message"])

    def test_decode_base64(self):
        extra = "  - name: decodeBase64\n    value: \"true\"\n"
        sc = self.sidecar({"b.yaml": blob_yaml("bin", "bin", self.az, extra)})
        self.wait_container(sc, "bin", "bin")
        payload = bytes(range(256))
        r = self.invoke(sc, "bin", "create", base64.b64encode(payload).decode(), {"blobName": "raw"})
        self.assertEqual(r.status, 200, r)
        r = self.invoke(sc, "bin", "get", metadata={"blobName": "raw"})
        self.assertEqual(r.body, payload)
        r = self.invoke(sc, "bin", "create", "not base64!", {"blobName": "bad"})
        self.assertEqual(r.status, 500)
        self.assertIn("base64", r.json()["message"])

    def test_list_across_pages_with_markers(self):
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az)})
        self.wait_container(sc, "orders", "orders")
        names = [f"p/{i:02d}" for i in range(12)]
        for n in names + ["q/1", "q/2"]:
            self.assertEqual(self.invoke(sc, "orders", "create", {"n": n}, {"blobName": n}).status, 200)
        seen, marker, pages = [], "", 0
        while pages < 10:
            data = {"maxResults": 5, "prefix": "p/"}
            if marker:
                data["marker"] = marker
            r = self.invoke(sc, "orders", "list", data)
            self.assertEqual(r.status, 200, r)
            items = r.json()
            pages += 1
            self.assertEqual(r.headers.get("metadata.number"), str(len(items)))
            self.assertEqual(r.headers.get("metadata.pagestraversed"), "1")
            seen += [i["Name"] for i in items]
            marker = r.headers.get("metadata.marker", "")
            if not marker:
                break
            self.assertEqual(len(items), 5)
        self.assertEqual(pages, 3)
        self.assertEqual(seen, names)
        # a number far outside int32 is refused before any cast (1e300 used to be cast first: undefined behaviour)
        for bad in (1e300, -1e300, 2147483648, 0.5):
            r = self.invoke(sc, "orders", "list", {"maxResults": bad})
            self.assertEqual(r.status, 500, (bad, r))
            self.assertIn("maxResults", r.json()["message"])
        # Default: everything in one answer; Go field names; absent values are null.
        r = self.invoke(sc, "orders", "list")
        items = r.json()
        self.assertEqual(len(items), 14)
        self.assertEqual(r.headers.get("metadata.marker"), "")
        item = items[0]
        for k in ("Deleted", "Name", "Properties", "Snapshot", "BlobTags", "IsCurrentVersion", "Metadata",
                  "VersionID"):
            self.assertIn(k, item)
        for k in ("ETag", "LastModified", "CreationTime", "ContentLength", "ContentType", "ContentMD5", "BlobType",
                  "AccessTier", "LeaseState"):
            self.assertIn(k, item["Properties"])
        self.assertRegex(item["Properties"]["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(item["Properties"]["BlobType"], "BlockBlob")
        self.assertIsNone(item["Metadata"])
        r = self.invoke(sc, "orders", "list", "not an object")
        self.assertEqual(r.status, 500)
        self.assertIn("cannot unmarshal string", r.json()["message"])

    def test_list_follows_pages_until_max_results(self):
        # The service pages by 3 whatever maxresults says: 5 wanted -> two pages, 6 items (the last page overshoots).
        svc = self.track(FakeBlobService([f"b{i:02d}" for i in range(10)], page=3))
        sc = self.sidecar({"b.yaml": blob_yaml("fake", "c", svc)})
        self.wait_container(sc, "fake", "c")
        r = self.invoke(sc, "fake", "list", {"maxResults": 5})
        self.assertEqual(r.status, 200, r)
        self.assertEqual([i["Name"] for i in r.json()], [f"b{i:02d}" for i in range(6)])
        self.assertEqual(r.headers.get("metadata.number"), "6")
        self.assertEqual(r.headers.get("metadata.pagestraversed"), "2")
        self.assertEqual(r.headers.get("metadata.marker"), "2!6!b64/x=")
        # Continue from the marker (it has '!', '/' and '=': encoded in the URL, signed decoded).
        r = self.invoke(sc, "fake", "list", {"maxResults": 5, "marker": r.headers["metadata.marker"]})
        self.assertEqual([i["Name"] for i in r.json()], ["b06", "b07", "b08", "b09"])
        self.assertEqual(r.headers.get("metadata.pagestraversed"), "2")
        self.assertEqual(r.headers.get("metadata.marker"), "")
        lists = [q for m, p, q, ok in svc.requests if q.get("comp") == "list"]
        self.assertEqual([q.get("marker", "") for q in lists], ["", "2!3!b64/x=", "2!6!b64/x=", "2!9!b64/x="])
        self.assertTrue(all(q["maxresults"] == "5" and q["restype"] == "container" for q in lists))
        self.assertTrue(all(ok for *_, ok in svc.requests), "every request carried a valid Shared Key signature")

    def test_wrong_account_key_is_a_clear_error(self):
        wrong = base64.b64encode(b"x" * 64).decode()
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az, key=wrong)})
        T.wait_for(lambda: "failed to create Azure Storage container orders" in sc.proc.log(), 15,
                   what="container creation refused")
        # Azure calls it AuthenticationFailed, Azurite AuthorizationFailure; both say why.
        self.assertIn("Server failed to authenticate the request", sc.proc.log())
        r = self.invoke(sc, "orders", "create", "x", {"blobName": "a"})
        self.assertEqual(r.status, 500)
        msg = r.json()["message"]
        self.assertTrue(msg.startswith("error invoking output binding orders: "), msg)
        self.assertIn("RESPONSE 403", msg)
        self.assertRegex(msg, r"AuthenticationFailed|AuthorizationFailure")
        self.assertIn("Server failed to authenticate the request", msg)
        # A key that is not even base64 stops start-up with the reason.
        res = T.write_resources({"b.yaml": blob_yaml("orders", "orders", self.az, key="not-base64!")})
        bad = self.track(T.Sidecar("blobbad", res, wait=False))
        T.wait_for(lambda: not bad.proc.alive(), 10, what="ripstopd to exit")
        self.assertIn("illegal base64", bad.proc.log())

    def test_azurite_stopped_and_restarted(self):
        extra = "  - name: retryCount\n    value: \"0\"\n"
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az, extra)})
        self.wait_container(sc, "orders", "orders")
        self.assertEqual(self.invoke(sc, "orders", "create", "before", {"blobName": "k"}).status, 200)
        self.az.stop()
        t0 = time.monotonic()
        r = self.invoke(sc, "orders", "create", "during", {"blobName": "k2"})
        self.assertEqual(r.status, 500)
        self.assertIn("error uploading az blob", r.json()["message"])
        self.assertIn("onnect", r.json()["message"])  # "Couldn't connect to server"
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "k"})
        self.assertEqual(r.status, 500)
        self.assertLess(time.monotonic() - t0, 5, "failures are immediate with retryCount 0")
        self.assertEqual(sc.req("GET", "/v1.0/healthz").status, 204, "the sidecar stays healthy")
        self.az.start()
        r = self.invoke(sc, "orders", "get", metadata={"blobName": "k"})
        self.assertEqual((r.status, r.body), (200, b"before"))
        self.assertEqual(self.invoke(sc, "orders", "create", "after", {"blobName": "k2"}).status, 200)

    def test_retry_count_rides_out_a_short_outage(self):
        # Default retryCount (3): the first retry comes about 4 s later, by which time Azurite is back.
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az)})
        self.wait_container(sc, "orders", "orders")
        self.az.stop()
        import threading
        result = {}
        th = threading.Thread(target=lambda: result.update(r=self.invoke(sc, "orders", "create", "x",
                                                                         {"blobName": "r"}, timeout=60)))
        th.start()
        T.wait_for(lambda: "retrying PUT" in sc.proc.log(), 10, what="a retry scheduled")
        self.az.start()
        th.join(60)
        self.assertEqual(result["r"].status, 200, result["r"])

    def test_outbound_timeout_policy(self):
        self.check_outbound_timeout("""apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    timeouts:
      short: 500ms
  targets:
    components:
      orders:
        outbound:
          timeout: short
""")

    def test_default_binding_outbound_policy_name(self):
        # Without a target, the first of Default<Type>Component<Dir><Kind>Policy ... applies (spec §1.3).
        self.check_outbound_timeout("""apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    timeouts:
      DefaultBindingComponentOutboundTimeoutPolicy: 500ms
      DefaultTimeoutPolicy: 30s
""")

    def check_outbound_timeout(self, resiliency):
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az), "r.yaml": resiliency})
        self.wait_container(sc, "orders", "orders")
        os.kill(self.az.proc.pid, signal.SIGSTOP)  # Azurite accepts connections but never answers
        try:
            t0 = time.monotonic()
            r = self.invoke(sc, "orders", "get", metadata={"blobName": "x"})
            elapsed = time.monotonic() - t0
        finally:
            os.kill(self.az.proc.pid, signal.SIGCONT)
        self.assertEqual(r.status, 500)
        self.assertIn("context deadline exceeded", r.json()["message"])
        self.assertLess(elapsed, 3)
        self.assertEqual(self.invoke(sc, "orders", "create", "ok", {"blobName": "x"}).status, 200)

    def test_connection_string_entity_management_public_access(self):
        cs = (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
              f"BlobEndpoint={self.az.endpoint}/{DEV_ACCOUNT};")
        files = {
            "cs.yaml": f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: viacs
spec:
  type: bindings.azure.blobstorage
  version: v1
  metadata:
  - name: connectionString
    value: "{cs}"
  - name: container
    value: viacs
""",
            "nomgmt.yaml": blob_yaml("nomgmt", "missing", self.az,
                                     "  - name: disableEntityManagement\n    value: \"true\"\n",
                                     account_keys=("storageAccount", "storageAccessKey")),
            "pub.yaml": blob_yaml("pub", "pub", self.az, "  - name: publicAccessLevel\n    value: blob\n"),
        }
        sc = self.sidecar(files)
        self.wait_container(sc, "viacs", "viacs")
        self.wait_container(sc, "pub", "pub")
        self.assertEqual(self.invoke(sc, "viacs", "create", "cs", {"blobName": "a"}).status, 200)
        self.assertEqual(self.invoke(sc, "viacs", "get", metadata={"blobName": "a"}).body, b"cs")
        r = self.invoke(sc, "nomgmt", "create", "x", {"blobName": "a"})
        self.assertEqual(r.status, 500)
        self.assertIn("ContainerNotFound", r.json()["message"])
        self.assertEqual(self.invoke(sc, "pub", "create", "public", {"blobName": "p"}).status, 200)
        # Anonymous read works only because the container was created with blob-level public access.
        r = T.request("GET", self.az.port, f"/{DEV_ACCOUNT}/pub/p")
        self.assertEqual((r.status, r.body), (200, b"public"))
        r = T.request("GET", self.az.port, f"/{DEV_ACCOUNT}/viacs/a")
        self.assertNotEqual(r.status, 200)

    def test_api_errors(self):
        sc = self.sidecar({"b.yaml": blob_yaml("orders", "orders", self.az),
                           "c.yaml": T.cron_yaml("tick", "@every 1h")})
        r = self.invoke(sc, "orders", None, raw="{not json")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["errorCode"], "ERR_MALFORMED_REQUEST")
        r = self.invoke(sc, "orders", None, raw={"operation": "get", "metadata": {"blobName": 5}})
        self.assertEqual(r.status, 400)
        r = self.invoke(sc, "orders", None, raw={"data": "x"})
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json(), {"errorCode": "ERR_INVOKE_OUTPUT_BINDING", "message":
                                    "error invoking output binding orders: operation field is missing from request"})
        r = self.invoke(sc, "nope", "create", "x")
        self.assertEqual(r.json()["message"], "error invoking output binding nope: couldn't find output binding nope")
        r = self.invoke(sc, "tick", "create", "x")
        self.assertEqual(r.json()["message"], "error invoking output binding tick: couldn't find output binding tick")
        r = self.invoke(sc, "orders", "bulkGet", "x")
        self.assertEqual(r.json()["message"], "error invoking output binding orders: binding orders does not support "
                                              "operation bulkGet. supported operations:create get delete list")
        self.wait_container(sc, "orders", "orders")
        r = sc.req("PUT", "/v1.0/bindings/orders", {"operation": "create", "data": 1, "metadata": {"blobName": "n"}})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.invoke(sc, "orders", "get", metadata={"blobName": "n"}).body, b"1")


if __name__ == "__main__":
    T.main()
