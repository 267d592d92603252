"""deploy/k8s without a cluster (docs/kubernetes.md, "What the offline checks check"):
every overlay renders with kustomize (`kubectl kustomize`); every object validates against the
schema of its kind (tests/k8s/check_manifests.mjs); the consistency rules hold; bad input fails
with the object's name and the field; the rendered Dapr resources load in a real ripstopd; the
Dockerfile builds when a container engine works (skipped, and said so, when none does)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import ripstop_testlib as t

K8S = os.path.join(t.SRC, "deploy", "k8s")
OVERLAYS = ("local", "azure")
CHECKER = os.path.join(t.SRC, "tests", "k8s", "check_manifests.mjs")


def kubectl():
    k = shutil.which("kubectl")
    if not k:
        raise AssertionError("kubectl not found: run scripts/setup.sh (installs Debian's kubernetes-client)")
    return k


def render(path):
    """`kubectl kustomize path` -> (returncode, rendered YAML, stderr)."""
    p = subprocess.run([kubectl(), "kustomize", path], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(inputs, system=True, emit=None):
    """Runs the checker on {label: yaml text}; returns (returncode, output)."""
    d = tempfile.mkdtemp(prefix="ripstop-k8s-")
    argv = [shutil.which("node") or "node", CHECKER]
    if system:
        argv.append("--system")
    if emit:
        argv += ["--emit-dapr", emit]
    for label, text in inputs.items():
        f = os.path.join(d, f"{label}.yaml")
        with open(f, "w") as fh:
            fh.write(text)
        argv.append(f"{label}={f}")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=t.SRC)
    return p.returncode, p.stdout + p.stderr


_rendered = {}


def rendered(overlay):
    if overlay not in _rendered:
        rc, out, err = render(os.path.join(K8S, "overlays", overlay))
        if rc != 0:
            raise AssertionError(f"kubectl kustomize deploy/k8s/overlays/{overlay} failed:\n{err}")
        _rendered[overlay] = out
    return _rendered[overlay]


class Manifests(unittest.TestCase):
    def test_overlays_render_validate_and_hold_together(self):
        rc, out = check({o: rendered(o) for o in OVERLAYS})
        print(out)
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 problem(s)", out)

    def test_jobs_render_validate_and_fit_their_overlay(self):
        jobs = {}
        for d in ("load", "verify-local", "verify-azure"):
            rc, out, err = render(os.path.join(K8S, "jobs", d))
            self.assertEqual(rc, 0, err)
            jobs[d] = out
        rc, out = check({"local+jobs": rendered("local") + "---\n" + jobs["load"] + "---\n" + jobs["verify-local"],
                         "azure+jobs": rendered("azure") + "---\n" + jobs["load"] + "---\n" + jobs["verify-azure"]})
        self.assertEqual(rc, 0, out)
        # The Jobs read the scenario from the image: the Dockerfile must put deploy/local there.
        with open(os.path.join(t.SRC, "Dockerfile")) as f:
            self.assertIn("COPY deploy/local/ /usr/share/ripstop/local/", f.read())
        self.assertIn("/usr/share/ripstop/local/scenario.yaml", jobs["load"])
        # A Job URL naming a Service that does not exist is caught.
        rc, out = check({"local+jobs": rendered("local") + "---\n" + jobs["load"].replace("frontend-dapr.", "frontend-dpr.")})
        self.assertEqual(rc, 1, out)
        self.assertIn("Job/ripstop-load: spec.template.spec.containers[0].command[5]: no Service frontend-dpr", out)

    def test_chaos_is_rendered_from_the_scenario_and_fits_the_overlays(self):
        committed = os.path.join(K8S, "chaos", "kubecon-2022-chaos.yaml")
        p = subprocess.run([t.binary("ripstop"), "k8s-chaos", "--scenario", "deploy/local/scenario.yaml"],
                           capture_output=True, text=True, timeout=30, cwd=t.SRC)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(committed) as f:
            self.assertEqual(p.stdout, f.read(), "deploy/k8s/chaos is stale: re-render it with ripstop k8s-chaos")
        rc, out = check({o: rendered(o) + "---\n" + p.stdout for o in OVERLAYS})
        self.assertEqual(rc, 0, out)
        for want in ("action: delay", "latency: 6000ms", "jitter: 2000ms", "deadline: 40s", "deadline: 10000ms",
                     "deadline: 65000ms", "app: customer-order-service", "app.kubernetes.io/name: kafka",
                     "containerNames: [customer-loyalty-job]"):
            self.assertIn(want, p.stdout)
        # A kill of an app that has no Deployment is caught.
        rc, out = check({"local": rendered("local") + "---\n" + p.stdout.replace("app: customer-audit-service",
                                                                                 "app: customer-audit")})
        self.assertEqual(rc, 1, out)
        self.assertIn("Workflow/kubecon-2022-chaos: spec.templates[8].podChaos.selector: selects no pods", out)
        # An action with no Chaos Mesh equivalent is an error that names it.
        d = tempfile.mkdtemp(prefix="ripstop-k8s-scn-")
        with open(os.path.join(t.SRC, "deploy", "local", "scenario.yaml")) as f:
            scn = f.read()
        shutil.copy(os.path.join(t.SRC, "deploy", "local", "dapr.yaml"), d)
        with open(os.path.join(d, "scenario.yaml"), "w") as f:
            f.write(scn.replace("actions:\n", "actions:\n  - {name: toxic, type: http, kind: chaos, start: 1s, stop: 2s,"
                                              " onStart: {method: POST, url: 'http://127.0.0.1:1/'}}\n", 1))
        p = subprocess.run([t.binary("ripstop"), "k8s-chaos", "--scenario", os.path.join(d, "scenario.yaml")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("action 'toxic' (type http) has no Chaos Mesh equivalent", p.stderr)

    def test_missing_secret_key_names_object_and_field(self):
        text = rendered("azure").replace("key: kafka-password", "key: kafka-pasword")
        rc, out = check({"azure": text})
        self.assertEqual(rc, 1, out)
        self.assertIn("azure: Component/order-queue: spec.metadata[3].secretKeyRef.key: Secret ripstop-secrets "
                      "defines no key 'kafka-pasword'", out)

    def test_malformed_objects_name_object_and_field(self):
        text = rendered("local").replace("containerPort: 8080", "containerPort: eighty", 1)
        text = text.replace("pubsubname: order-queue", "pubsubName: order-queue")
        rc, out = check({"local": text}, system=False)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"local: Deployment/[a-z-]+: spec\.template\.spec\.containers\[0\]\.ports\[0\]\."
                              r"containerPort: must be integer")
        self.assertIn("local: Subscription/order-subscription: spec: must have required property 'pubsubname'", out)
        self.assertIn("local: Subscription/order-subscription: spec: must NOT have additional properties "
                      "'pubsubName'", out)

    def test_scopes_and_annotations_are_checked(self):
        text = rendered("local").replace("- customer-loyalty-job-nolock\nspec:\n  metadata:\n  - name: schedule",
                                         "- customer-loyalty-job\nspec:\n  metadata:\n  - name: schedule")
        text = text.replace('dapr.io/app-port: "8080"', 'dapr.io/app-port: "80"', 1)
        rc, out = check({"local": text})
        self.assertEqual(rc, 1, out)
        self.assertIn("Component/checkorders-nolock: scopes: customer-loyalty-job-nolock uses it but is not in scopes",
                      out)
        self.assertIn("Component/checkorders-nolock: scopes: in scope of customer-loyalty-job, which does not use it",
                      out)
        self.assertRegex(out, r"Deployment/[a-z-]+: annotation dapr.io/app-port: '80' is not the containerPort 8080")

    def test_malformed_overlay_fails_render(self):
        d = tempfile.mkdtemp(prefix="ripstop-k8s-bad-")
        shutil.copytree(K8S, os.path.join(d, "k8s"))
        with open(os.path.join(d, "k8s", "overlays", "local", "kustomization.yaml"), "a") as f:
            f.write("- no-such-patch.yaml\n")
        rc, out, err = render(os.path.join(d, "k8s", "overlays", "local"))
        self.assertNotEqual(rc, 0)
        self.assertIn("no-such-patch.yaml", err)


class LoadsInRipstopd(t.ProcTestCase):
    """The rendered Dapr resources (Components, Subscription, Resiliency, Configuration), as the cluster
    gets them, loaded by ripstopd for every app id. Supplied locally: the secret store `kubernetes` (a
    local file holding the overlay's Secret values) and the Redis address — the cluster's DNS name
    redis-master.redis.svc.cluster.local is replaced by a real redis-server on loopback that requires the
    Secret's password, so the password the components resolve is checked too. Kafka and Azurite connect
    lazily and keep their cluster names."""

    def load_overlay(self, overlay):
        d = tempfile.mkdtemp(prefix=f"ripstop-k8s-{overlay}-")
        rc, out = check({overlay: rendered(overlay)}, system=False, emit=d)
        self.assertEqual(rc, 0, out)
        # The azure overlay's Secret holds placeholders (the user's values go there): the local secret
        # store gets well-formed stand-ins for them (the blob key must be base64, as for Dapr).
        with open(os.path.join(d, "secrets.json")) as f:
            secrets = json.load(f)
        for values in secrets.values():
            for k, v in values.items():
                if v.startswith("REPLACE-WITH-"):
                    values[k] = "c3RhbmQtaW4ta2V5LWZvci10aGUtdGVzdA==" if k == "azure-storage-account-key" else "stand-in"
        with open(os.path.join(d, "secrets.json"), "w") as f:
            json.dump(secrets, f)
        password = secrets["ripstop-secrets"]["redis-password"]
        redis = self.track(t.Redis(password=password))
        res = os.path.join(d, "resources")
        for name in os.listdir(res):
            p = os.path.join(res, name)
            with open(p) as f:
                text = f.read()
            with open(p, "w") as f:
                f.write(text.replace("redis-master.redis.svc.cluster.local:6379", redis.addr))
        with open(os.path.join(res, "Component-kubernetes.yaml"), "w") as f:
            f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: kubernetes
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: {os.path.join(d, "secrets.json")}
  - name: multiValued
    value: "true"
""")
        with open(os.path.join(d, "expect.json")) as f:
            expect = json.load(f)
        self.assertEqual(sorted(expect), ["customer-audit-service", "customer-loyalty-job",
                                          "customer-loyalty-job-nolock", "customer-order-service", "frontend-dapr"])
        sidecars = {a: self.track(t.Sidecar(a, resources=res, config=os.path.join(d, "config.yaml"), wait=False))
                    for a in expect}  # started together, checked one by one
        for app_id, want in expect.items():
            sc = sidecars[app_id]
            sc.wait_ready()
            md = sc.req("GET", "/v1.0/metadata").json()
            got = sorted(c["name"] for c in md["components"] if c["name"] != "kubernetes")
            self.assertEqual(got, want["components"], f"{overlay}: {app_id}")
            if app_id == "customer-loyalty-job":
                # The state store and the lock reach Redis with the password from the Secret.
                r = sc.req("POST", "/v1.0/state/loyalty-store", [{"key": "1", "value": {"orderCount": 1}}])
                self.assertEqual(r.status, 204, r)
                self.assertEqual(redis.cli("HGET", "customer-loyalty-job||1", "data"), '{"orderCount":1}')
                r = sc.req("POST", "/v1.0-alpha1/lock/loyalty-lock",
                           {"resourceId": "o1", "lockOwner": "t", "expiryInSeconds": 5})
                self.assertEqual(r.json(), {"success": True})
            sc.stop()
            self.assertNotIn("level=fatal", sc.proc.log())

    def test_local_overlay_loads(self):
        self.load_overlay("local")

    def test_azure_overlay_loads(self):
        self.load_overlay("azure")


def runtime_packages():
    """The packages the Dockerfile's runtime stage installs (its apt-get install list)."""
    with open(os.path.join(t.SRC, "Dockerfile")) as f:
        text = f.read()
    stage = text[text.index("FROM debian:12-slim"):]
    words = stage[stage.index("--no-install-recommends"):stage.index("&& rm -rf")].replace("\\", " ").split()
    return [w for w in words[1:] if not w.startswith("-")]


def owners(paths):
    """{library path: its Debian package}, in one dpkg query (either spelling of the merged /usr)."""
    cands = {}
    for path in paths:
        for c in {path, os.path.realpath(path)}:
            for v in (c, c.replace("/usr/lib/", "/lib/", 1), c.replace("/lib/", "/usr/lib/", 1)):
                cands.setdefault(v, path)
    p = subprocess.run(["dpkg", "-S", *sorted(cands)], capture_output=True, text=True, timeout=120)
    out = {}
    for line in p.stdout.splitlines():
        pkgs, _, found = line.partition(": ")
        if found in cands:
            out[cands[found]] = pkgs.split(",")[0].split(":")[0].strip()
    return out


class Image(unittest.TestCase):
    def test_build_stage_has_what_setup_installs_to_build(self):
        """The image builds with the same Debian packages as a developer's machine (scripts/setup.sh)."""
        with open(os.path.join(t.SRC, "scripts", "setup.sh")) as f:
            setup = f.read()
        debs = setup[setup.index("debs=(") + 6:setup.index(")", setup.index("debs=("))].split()
        # clang and its runtimes serve the developer's checks (make test's clang build, make fuzz), not the image
        dev_tools_only = {"libclang-rt-14-dev"}
        build_debs = [d for d in debs if (d.endswith("-dev") or d.endswith("-compiler") or
                                          d in ("build-essential", "cmake", "pkg-config")) and d not in dev_tools_only]
        with open(os.path.join(t.SRC, "Dockerfile")) as f:
            text = f.read()
        stage = text[text.index("FROM debian:12 AS build"):text.index("FROM debian:12-slim")]
        self.assertEqual([d for d in build_debs if d not in stage.split()], [],
                         "packages scripts/setup.sh installs to build, missing from the Dockerfile's build stage")

    def test_runtime_stage_has_every_library(self):
        """Offline stand-in for running the image: every shared library the built programs load belongs to a
        package the runtime stage installs, or to one of their dependencies (Debian 12's, as on this machine)."""
        if not shutil.which("dpkg") or not shutil.which("apt-cache"):
            self.fail("needs dpkg and apt-cache (Debian 12)")
        pkgs = runtime_packages()
        self.assertIn("librdkafka1", pkgs)
        dep = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                              "--no-breaks", "--no-replaces", "--no-enhances", *pkgs],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(dep.returncode, 0, dep.stderr)
        closure = {line.strip().split(":")[0] for line in dep.stdout.splitlines() if not line.startswith(" ")}
        def loaded(path):
            ldd = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30)
            self.assertNotIn("not found", ldd.stdout, path)
            return [line.split("=>")[1].split()[0] for line in ldd.stdout.splitlines() if "=>" in line]

        libs = {}
        # ripstopd opens these with dlopen on first use instead of linking them (http/curl_client.c,
        # pubsub/kafka_lib.c), so ldd of ripstopd does not show them: check them and their trees as programs.
        dlopened = {}
        for soname in ("libcurl.so.4", "librdkafka.so.1"):
            path = next((line.split("=>")[1].strip() for line in
                         subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout.splitlines()
                         if line.strip().startswith(soname + " ")), None)
            self.assertIsNotNone(path, f"{soname}, which ripstopd opens with dlopen, is not installed")
            dlopened[f"ripstopd (dlopen {soname})"] = path
        for prog, path in [(prog, t.binary(prog)) for prog in (
                "ripstop", "frontend", "customer-order-service", "customer-audit-service", "customer-loyalty-job",
                "ripstopd", "kafka-mock")] + list(dlopened.items()):
            found = loaded(path)
            if prog.startswith("ripstopd (dlopen"):
                found.append(path)
            # A sanitizer build (make test-asan) links the sanitizers' runtimes, and they bring their own
            # libraries (libstdc++); the image's build is a plain Release one, so none of those is a library the
            # runtime stage should carry.
            runtimes = [lib for lib in found if re.search(r"/lib(asan|ubsan|lsan|tsan)\.so", lib)]
            theirs = {dep for rt_lib in runtimes for dep in loaded(rt_lib)}
            for lib in found:
                if lib not in runtimes and lib not in theirs:
                    libs.setdefault(lib, prog)
        pkg = owners(libs)
        missing = [f"{prog}: {lib} ({pkg.get(lib, 'no package')})" for lib, prog in libs.items()
                   if pkg.get(lib) not in closure]
        self.assertEqual(sorted(set(missing)), [], "libraries the runtime stage does not install")

    def test_dockerfile_builds(self):
        p = subprocess.run([os.path.join(t.SRC, "scripts", "container-engine.sh")], capture_output=True, text=True)
        if p.returncode != 0:
            raise unittest.SkipTest("no container engine: " + p.stderr.strip().splitlines()[-1])
        engine = p.stdout.strip()
        tag = "ripstop:test-k8s"
        b = subprocess.run([engine, "build", "-t", tag, t.SRC], capture_output=True, text=True, timeout=3000)
        self.assertEqual(b.returncode, 0, b.stdout[-3000:] + b.stderr[-3000:])
        for argv in (["ripstop", "--help"], ["id", "-u"], ["sh", "-c", "command -v gcc cc || echo no-compiler"]):
            r = subprocess.run([engine, "run", "--rm", tag] + argv, capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            if argv[0] == "id":
                self.assertEqual(r.stdout.strip(), "10001")
            if argv[0] == "sh":
                self.assertEqual(r.stdout.strip(), "no-compiler")


if __name__ == "__main__":
    t.main()
