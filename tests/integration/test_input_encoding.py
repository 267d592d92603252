"""Strings from outside are checked where they enter ripstopd: the app id flag, NUL bytes and bad escapes in
the request line, bytes that are not UTF-8 on their way into metrics and logs, and line breaks in logged
paths."""

import subprocess

import ripstop_testlib as t


class InputEncoding(t.ProcTestCase):
    def test_app_id_flag_is_checked(self):
        for bad in ("a.b", "a||b", "../x", "a b", "-a", "x" * 59):
            r = subprocess.run([t.binary("ripstopd"), "--app-id", bad], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("invalid value for --app-id", r.stderr)

    def test_request_line_and_what_it_reaches(self):
        sc = self.track(t.Sidecar("enc", extra_args=["--enable-api-logging"]))
        for path in ("/v1.0/healthz?appid=%00enc", "/v1.0/state/s/k%00x", "/v1.0/state/s/%zz"):
            r = sc.req("GET", path)
            self.assertEqual(r.status, 400, path)
            self.assertEqual(r.json()["errorCode"], "ERR_MALFORMED_REQUEST")
        # an app id that is not UTF-8, quoted in the reply, then the metrics page: both stay valid UTF-8
        r = sc.req("GET", "/v1.0/invoke/%FF%FE/method/x")
        self.assertGreaterEqual(r.status, 400)
        self.assertIn("errorCode", r.json())
        page = t.request("GET", sc.metrics_port, "/metrics")
        self.assertEqual(page.status, 200)
        page.body.decode("utf-8")  # raises on bytes that are not UTF-8
        # a line break in a logged path cannot start a log line of its own
        sc.req("GET", "/v1.0/state/s/k%0Atime=%22forged%22")
        t.wait_for(lambda: "forged" in sc.proc.log(), 10, what="the request in the API log")
        for line in sc.proc.log().splitlines():
            self.assertFalse(line.startswith('time="forged"'), line)


if __name__ == "__main__":
    t.main()
