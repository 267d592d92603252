"""Fixtures for tests/integration/test_services_*.py: infrastructure (Redis with
the password from deploy/local/secrets.json, Azurite, kafka-mock) and app+sidecar
instances that load the real deploy/local/resources, configured through the same
environment variables `ripstop run` sets (RIPSTOP_REDIS_HOST, ...)."""

import json
import os
import tempfile

import ripstop_testlib as T

DEPLOY = os.path.join(T.SRC, "deploy", "local")
RESOURCES = os.path.join(DEPLOY, "resources")
SECRETS_FILE = os.path.join(DEPLOY, "secrets.json")
DEV_ACCOUNT = T.AZURITE_ACCOUNT
Azurite = T.Azurite
KafkaMock = T.KafkaMock


def secret(name):
    with open(SECRETS_FILE) as f:
        return json.load(f)[name]


def blob_yaml(name, container, azurite):
    """A blob binding with a literal key, for helper sidecars outside deploy/local's scopes."""
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: bindings.azure.blobstorage
  version: v1
  metadata:
  - name: accountName
    value: {DEV_ACCOUNT}
  - name: accountKey
    value: "{secret('azure-storage-account-key')}"
  - name: containerName
    value: {container}
  - name: endpoint
    value: {azurite.endpoint}
"""


def private_nameres_config():
    """A Configuration with a name-resolution table of our own, so that apps of other tests running at the
    same time (same app ids) are never resolved."""
    d = tempfile.mkdtemp(prefix="ripstop-svc-cfg-")
    path = os.path.join(d, "config.yaml")
    with open(path, "w") as f:
        f.write(f"""apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: services-test
spec:
  nameResolution:
    component: sqlite
    configuration:
      connectionString: {os.path.join(d, 'nameres.db')}
      cleanupInterval: 0
""")
    return path


class Instance:
    """One app process (a built service) and, unless no_sidecar, its ripstopd on deploy/local/resources."""

    def __init__(self, tc, app_id, program, env=None, infra_env=None, config=None, no_sidecar=False,
                 resources=RESOURCES, logdir=None):
        self.app_id = app_id
        self.app_port = T.free_port()
        logdir = logdir or getattr(tc, "logdir", None)
        self.sidecar = None
        app_env = dict(infra_env or {})
        app_env.update({"APP_ID": app_id, "APP_PORT": str(self.app_port)})
        app_env.update(env or {})
        if not no_sidecar:
            # The sidecar first (not waiting): its port goes into the app's environment.
            self.sidecar = tc.track(T.Sidecar(app_id, resources=resources, app_port=self.app_port, config=config,
                                              env=infra_env, wait=False, logdir=logdir))
            app_env["DAPR_HTTP_PORT"] = str(self.sidecar.port)
        self._tc, self._program, self._env, self._logdir = tc, program, app_env, logdir
        self.old_apps = []
        self.start_app()
        if self.sidecar:
            self.sidecar.wait_ready(timeout=30)

    def start_app(self):
        """(Re)starts the app process on the same port and environment."""
        self.app = self._tc.track(T.Proc(f"{self.app_id}-{self.app_port}", [T.binary(self._program)], env=self._env,
                                         logdir=self._logdir))
        T.wait_for(lambda: T.port_open(self.app_port) or self._dead(), 15, what=f"{self.app_id} app port")

    def kill9_and_restart(self):
        """SIGKILLs the app (its sidecar stays) and starts it again, as a restart policy would."""
        self.app.kill9()
        self.old_apps.append(self.app)
        self.start_app()

    def logs(self):
        return "".join(p.log() for p in self.old_apps + [self.app])

    def _dead(self):
        if not self.app.alive():
            raise RuntimeError(f"{self.app_id} exited:\n{self.app.log()[-3000:]}")
        return False

    def stop(self):
        self.app.stop()
        if self.sidecar:
            self.sidecar.stop()


def redis_record(redis, app_id, key):
    """The JSON value Dapr's state.redis stored for key under app_id's prefix, or None."""
    raw = redis.cli("HGET", f"{app_id}||{key}", "data")
    return json.loads(raw) if raw else None
