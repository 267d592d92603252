"""Headless Chromium (playwright-core) on the demo's live dashboard and its report.

Runs `ripstop demo --quick` with a known dashboard port, and
tests/browser/demo_pages.test.mjs (node --test) against it; screenshots go to
<build>/tests/browser-out/."""
import os
import shutil
import subprocess
import tempfile
import unittest

import ripstop_testlib as rt


class DemoPagesTest(rt.ProcTestCase):
    def test_dashboard_and_report(self):
        chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        if not os.path.exists(chromium) or not os.path.isdir(os.path.join(rt.SRC, "node_modules", "playwright-core")):
            self.fail("needs /usr/bin/chromium and node_modules/playwright-core (run scripts/setup.sh)")
        out = tempfile.mkdtemp(prefix="ripstop-demo-browser-")
        shots = os.path.join(rt.BUILD, "tests", "browser-out")
        os.makedirs(shots, exist_ok=True)
        port = rt.free_port()
        demo = self.track(rt.Proc("demo", [rt.binary("ripstop"), "demo", "--quick", "--out", out,
                                           "--dashboard-port", str(port), "--linger", "20"], cwd=rt.SRC, logdir=out))
        rt.wait_for(lambda: demo.alive() and rt.port_open(port), 60, what="the dashboard port")
        env = dict(os.environ, DASHBOARD_URL=f"http://127.0.0.1:{port}/", DEMO_OUT=out, SHOT_DIR=shots,
                   CHROMIUM=chromium)
        node = shutil.which("node") or "node"
        p = subprocess.run([node, "--test", os.path.join(rt.SRC, "tests", "browser", "demo_pages.test.mjs")],
                           cwd=rt.SRC, env=env, capture_output=True, text=True, timeout=500)
        print(p.stdout[-4000:], p.stderr[-2000:])
        if p.returncode != 0:
            self.fail("node test failed; demo log tail:\n" + demo.log()[-3000:])
        for name in ("dashboard-live.png", "dashboard-finished.png", "report.png"):
            self.assertGreater(os.path.getsize(os.path.join(shots, name)), 10000, name)
        rt.wait_for(lambda: not demo.alive(), 120, interval=0.2, what="the demo to exit")
        self.assertEqual(demo.p.returncode, 0, demo.log()[-3000:])


if __name__ == "__main__":
    rt.main()
