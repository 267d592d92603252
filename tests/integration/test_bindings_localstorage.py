"""bindings.localstorage through ripstopd's output binding API: operations,
data re-marshalling, names that try to leave the root, refused roots, and a
binding restricted to direction input."""

import json
import os
import shutil
import tempfile

import ripstop_testlib as T


class LocalStorageTest(T.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="ripstop-ls-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.root = os.path.join(self.tmp, "root")
        self.outside = os.path.join(self.tmp, "outside")
        os.makedirs(self.outside)
        with open(os.path.join(self.outside, "secret"), "w") as f:
            f.write("s3cret")

    def invoke(self, sc, op, data=None, md=None, name="files"):
        body = {"operation": op, "metadata": md or {}}
        if data is not None:
            body["data"] = data
        return sc.req("POST", f"/v1.0/bindings/{name}", body)

    def test_operations_and_escapes(self):
        sc = self.track(T.Sidecar("lsapp", T.write_resources({"l.yaml": T.localstorage_yaml("files", self.root)})))
        r = self.invoke(sc, "create", {"z": 1, "a": [1.5, "x&y"]}, {"fileName": "d/o.json"})
        self.assertEqual((r.status, r.json()), (200, {"fileName": "d/o.json"}))
        with open(os.path.join(self.root, "d", "o.json"), "rb") as f:
            self.assertEqual(f.read(), b'{"a":[1.5,"x\\u0026y"],"z":1}')
        r = self.invoke(sc, "create", "test", {"fileName": "t.txt"})
        r = self.invoke(sc, "get", md={"fileName": "t.txt"})
        self.assertEqual((r.status, r.body), (200, b"test"))  # stored as sent: no base64 guessing
        r = self.invoke(sc, "list")
        self.assertEqual(r.json(), [os.path.join(self.root, "d", "o.json"), os.path.join(self.root, "t.txt")])
        os.symlink(self.outside, os.path.join(self.root, "out"))
        for md in ({"fileName": "../outside/secret"}, {"fileName": os.path.join(self.outside, "secret")},
                   {"fileName": "out/secret"}, {"fileName": "d/../../outside/secret"}):
            r = self.invoke(sc, "get", md=md)
            self.assertEqual(r.status, 500, md)
            self.assertEqual(r.json()["errorCode"], "ERR_INVOKE_OUTPUT_BINDING")
            self.assertNotIn("s3cret", r.text)
        r = self.invoke(sc, "create", "pwned", {"fileName": "out/planted"})
        self.assertEqual(r.status, 500)
        self.assertFalse(os.path.exists(os.path.join(self.outside, "planted")))
        r = self.invoke(sc, "delete", md={"fileName": "t.txt"})
        self.assertEqual(r.status, 204)
        r = self.invoke(sc, "get", md={"fileName": "t.txt"})
        self.assertEqual(r.json()["message"],
                         f"error invoking output binding files: file not found: {os.path.join(self.root, 't.txt')}")

    def test_fifo_in_root_does_not_block(self):
        sc = self.track(T.Sidecar("lsfifo", T.write_resources({"l.yaml": T.localstorage_yaml("files", self.root)})))
        self.assertEqual(self.invoke(sc, "create", "x", {"fileName": "x"}).status, 200)  # makes the root
        os.mkfifo(os.path.join(self.root, "pipe"))
        # get and create answer at once (nobody ever opens the FIFO's other end), and the loop stays free
        r = sc.req("POST", "/v1.0/bindings/files", {"operation": "get", "metadata": {"fileName": "pipe"}}, timeout=5)
        self.assertEqual(r.status, 500, r)
        self.assertIn("file not found", r.json()["message"])
        r = sc.req("POST", "/v1.0/bindings/files",
                   {"operation": "create", "data": "y", "metadata": {"fileName": "pipe"}}, timeout=5)
        self.assertEqual(r.status, 500, r)
        self.assertIn("not a regular file", r.json()["message"])
        self.assertEqual(sc.req("GET", "/v1.0/healthz", timeout=5).status, 204)

    def test_refused_root_and_direction(self):
        res = T.write_resources({"l.yaml": T.localstorage_yaml("files", "/proc/self")})
        bad = self.track(T.Sidecar("lsbad", res, wait=False))
        T.wait_for(lambda: not bad.proc.alive(), 10, what="ripstopd to exit")
        self.assertIn("rootPath /proc/self is not allowed", bad.proc.log())
        extra = "  - name: direction\n    value: input\n"
        sc = self.track(T.Sidecar("lsin", T.write_resources({"l.yaml": T.localstorage_yaml("files", self.root, extra)})))
        r = self.invoke(sc, "create", "x", {"fileName": "a"})
        self.assertEqual(r.json()["message"], "error invoking output binding files: couldn't find output binding files")


if __name__ == "__main__":
    T.main()
