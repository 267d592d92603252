// Consistency rules of one rendered overlay (the whole order system), beyond what a schema can say.
// Each rule returns problems as "Kind/name: field: what". The facts come from the original
// (../shared/spec/seed-system.md): app ids, replica counts, which app uses which component.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** App id -> the Dapr components its code uses (and so must have in scope, and nothing else). */
export const USES = {
  "frontend-dapr": [],
  "customer-order-service": ["order-queue"],
  "customer-audit-service": ["order-queue", "order-binding", "order-binding-nolock"],
  "customer-loyalty-job": ["order-binding", "checkorders", "loyalty-store", "loyalty-lock"],
  "customer-loyalty-job-nolock": ["order-binding-nolock", "checkorders-nolock", "loyalty-store-nolock"],
};
/** Deployment -> replicas, as the original. */
export const REPLICAS = {
  "frontend-dapr": 1,
  frontend: 1,
  "customer-order-service": 1,
  "customer-audit-service": 1,
  "customer-loyalty-job": 2,
  "customer-loyalty-job-nolock": 2,
};
const NO_SIDECAR = "frontend";
/** Values a committed Secret may hold besides REPLACE-WITH-* placeholders: the local overlay's
 *  passwords of its own in-cluster services and Azurite's published development key. */
const ALLOWED_SECRET_VALUES = new Set([
  "ripstop-local-redis",
  "unused-no-sasl-in-the-local-overlay",
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
]);

/** JSON with sorted keys: kustomize reorders keys, the comparison must not care. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

const of = (docs, kind) => docs.filter((o) => o.kind === kind);
const id = (o) => `${o.kind}/${o.metadata.name}`;
const nsOf = (o) => o.metadata.namespace || "default";

/** {secretName: {key: value}} of every Secret (stringData and base64 data). */
export function secretValues(docs) {
  const out = {};
  for (const s of of(docs, "Secret")) {
    const v = {};
    for (const [k, b64] of Object.entries(s.data || {})) v[k] = Buffer.from(String(b64), "base64").toString();
    Object.assign(v, s.stringData || {});
    out[s.metadata.name] = v;
  }
  return out;
}

function scopedTo(c, appId) {
  return !c.scopes || c.scopes.length === 0 || c.scopes.includes(appId);
}

/** App id -> {components: [...], subscriptions: [...]} in scope, from the rendered objects. */
export function expectedScopes(docs) {
  const out = {};
  for (const appId of daprApps(docs).map((a) => a.appId)) {
    out[appId] = {
      components: of(docs, "Component").filter((c) => scopedTo(c, appId)).map((c) => c.metadata.name).sort(),
      subscriptions: of(docs, "Subscription").filter((s) => scopedTo(s, appId)).map((s) => s.metadata.name).sort(),
    };
  }
  return out;
}

function daprApps(docs) {
  return of(docs, "Deployment")
    .map((d) => ({ d, ann: d.spec?.template?.metadata?.annotations || {} }))
    .filter((x) => x.ann["dapr.io/enabled"] === "true")
    .map((x) => ({ ...x, appId: x.ann["dapr.io/app-id"] }));
}

function envValue(container, name) {
  const e = (container.env || []).find((x) => x.name === name);
  return e ? e.value : undefined;
}

function checkDeployments(docs, p) {
  const deps = of(docs, "Deployment").filter((d) => d.metadata.name in REPLICAS);
  for (const name of Object.keys(REPLICAS))
    if (!deps.find((d) => d.metadata.name === name)) p.push(`Deployment/${name}: missing`);
  const configs = new Set(of(docs, "Configuration").map((c) => c.metadata.name));
  for (const d of deps) {
    const name = d.metadata.name;
    if (d.spec.replicas !== REPLICAS[name])
      p.push(`${id(d)}: spec.replicas: ${d.spec.replicas}, the original runs ${REPLICAS[name]}`);
    const ann = d.spec.template.metadata?.annotations || {};
    const c = d.spec.template.spec.containers[0];
    const port = (c.ports || []).find((x) => x.name === "http");
    if (!port) p.push(`${id(d)}: spec.template.spec.containers[0].ports: no port named http`);
    if (envValue(c, "APP_PORT") !== String(port?.containerPort))
      p.push(`${id(d)}: env APP_PORT: '${envValue(c, "APP_PORT")}' is not the containerPort ${port?.containerPort}`);
    for (const probe of ["readinessProbe", "livenessProbe"])
      if (!c[probe]) p.push(`${id(d)}: spec.template.spec.containers[0].${probe}: missing`);
    if (!c.resources?.requests || !c.resources?.limits) p.push(`${id(d)}: resources: requests and limits expected`);
    if (name === NO_SIDECAR) {
      const dapr = Object.keys(ann).filter((k) => k.startsWith("dapr.io/"));
      if (dapr.length) p.push(`${id(d)}: spec.template.metadata.annotations: the plain frontend has ${dapr.join(", ")}`);
      continue;
    }
    if (ann["dapr.io/enabled"] !== "true") p.push(`${id(d)}: annotation dapr.io/enabled: not "true"`);
    if (ann["dapr.io/app-id"] !== name) p.push(`${id(d)}: annotation dapr.io/app-id: '${ann["dapr.io/app-id"]}', want '${name}'`);
    if (ann["dapr.io/app-port"] !== String(port?.containerPort))
      p.push(`${id(d)}: annotation dapr.io/app-port: '${ann["dapr.io/app-port"]}' is not the containerPort ${port?.containerPort}`);
    if (!configs.has(ann["dapr.io/config"]))
      p.push(`${id(d)}: annotation dapr.io/config: no Configuration named '${ann["dapr.io/config"]}'`);
    const apiLog = ann["dapr.io/enable-api-logging"] === "true";
    if (apiLog !== (name === "customer-order-service"))
      p.push(`${id(d)}: annotation dapr.io/enable-api-logging: ${apiLog ? "set" : "missing"} (the original sets it on the order service only)`);
  }
}

function checkScopes(docs, p) {
  const apps = new Set(daprApps(docs).map((a) => a.appId));
  const comps = of(docs, "Component");
  const names = new Set(comps.map((c) => c.metadata.name));
  for (const c of comps) {
    if (!c.scopes?.length && !c.spec.type.startsWith("secretstores."))
      p.push(`${id(c)}: scopes: none, so every app id has it in scope`);
    (c.scopes || []).forEach((s, i) => {
      if (!apps.has(s)) p.push(`${id(c)}: scopes[${i}]: '${s}' is not an app id of any Deployment`);
    });
  }
  for (const [appId, uses] of Object.entries(USES)) {
    if (!apps.has(appId)) continue;
    for (const u of uses) {
      const c = comps.find((x) => x.metadata.name === u);
      if (!c) p.push(`Component/${u}: missing (used by ${appId})`);
      else if (!scopedTo(c, appId)) p.push(`${id(c)}: scopes: ${appId} uses it but is not in scopes`);
    }
    for (const c of comps)
      if (scopedTo(c, appId) && !uses.includes(c.metadata.name) && !c.spec.type.startsWith("secretstores."))
        p.push(`${id(c)}: scopes: in scope of ${appId}, which does not use it`);
  }
  for (const s of of(docs, "Subscription")) {
    const ps = comps.find((c) => c.metadata.name === s.spec.pubsubname);
    if (!ps || !ps.spec.type.startsWith("pubsub."))
      p.push(`${id(s)}: spec.pubsubname: no pub/sub component '${s.spec.pubsubname}'`);
    (s.scopes || []).forEach((a, i) => {
      if (!apps.has(a)) p.push(`${id(s)}: scopes[${i}]: '${a}' is not an app id`);
      else if (ps && !scopedTo(ps, a)) p.push(`${id(s)}: scopes[${i}]: ${a} does not have ${ps.metadata.name} in scope`);
    });
  }
  return names;
}

function checkSecrets(docs, p) {
  const secrets = new Map(of(docs, "Secret").map((s) => [`${nsOf(s)}/${s.metadata.name}`, s]));
  const keysOf = (ns, name) => {
    const s = secrets.get(`${ns}/${name}`);
    return s ? new Set([...Object.keys(s.data || {}), ...Object.keys(s.stringData || {})]) : null;
  };
  const stores = new Set(of(docs, "Component").filter((c) => c.spec.type.startsWith("secretstores.")).map((c) => c.metadata.name));
  for (const c of of(docs, "Component")) {
    (c.spec.metadata || []).forEach((m, i) => {
      if (!m.secretKeyRef) return;
      const f = `spec.metadata[${i}].secretKeyRef`;
      const store = c.auth?.secretStore || "kubernetes";
      if (store !== "kubernetes" && !stores.has(store)) p.push(`${id(c)}: auth.secretStore: no secret store '${store}'`);
      if (store !== "kubernetes") return;
      const keys = keysOf(nsOf(c), m.secretKeyRef.name);
      if (!keys) p.push(`${id(c)}: ${f}.name: no Secret '${m.secretKeyRef.name}' in namespace ${nsOf(c)}`);
      else if (!keys.has(m.secretKeyRef.key))
        p.push(`${id(c)}: ${f}.key: Secret ${m.secretKeyRef.name} defines no key '${m.secretKeyRef.key}'`);
    });
  }
  for (const d of [...of(docs, "Deployment"), ...of(docs, "Job")])
    d.spec.template.spec.containers.forEach((ct, ci) =>
      (ct.env || []).forEach((e, ei) => {
        const r = e.valueFrom?.secretKeyRef;
        if (!r) return;
        const keys = keysOf(nsOf(d), r.name);
        const f = `spec.template.spec.containers[${ci}].env[${ei}].valueFrom.secretKeyRef`;
        if (!keys) p.push(`${id(d)}: ${f}.name: no Secret '${r.name}' in namespace ${nsOf(d)}`);
        else if (!keys.has(r.key)) p.push(`${id(d)}: ${f}.key: Secret ${r.name} defines no key '${r.key}'`);
      }),
    );
  for (const s of of(docs, "Secret"))
    for (const [k, v] of Object.entries(secretValues([s])[s.metadata.name]))
      if (!String(v).startsWith("REPLACE-WITH-") && !ALLOWED_SECRET_VALUES.has(String(v)))
        p.push(`${id(s)}: stringData.${k}: not a placeholder (REPLACE-WITH-...) nor a known local development value`);
  // The local Redis's own password must be the one the components send.
  const redis = secretValues(docs).redis?.["redis-password"];
  const app = secretValues(docs)["ripstop-secrets"]?.["redis-password"];
  if (redis !== undefined && redis !== app) p.push(`Secret/redis: stringData.redis-password: differs from ripstop-secrets`);
}

function checkResiliency(docs, p, componentNames) {
  const apps = new Set(daprApps(docs).map((a) => a.appId));
  const original = YAML.parse(fs.readFileSync(path.join(REPO, "deploy/local/resources/resiliency.yaml"), "utf8"));
  const rs = of(docs, "Resiliency");
  if (rs.length !== 1) p.push(`Resiliency: ${rs.length} found, want 1`);
  for (const r of rs) {
    if (canonical(r.spec) !== canonical(original.spec) || canonical(r.scopes) !== canonical(original.scopes))
      p.push(`${id(r)}: spec: differs from the original policy (deploy/local/resources/resiliency.yaml)`);
    (r.scopes || []).forEach((s, i) => {
      if (!apps.has(s)) p.push(`${id(r)}: scopes[${i}]: '${s}' is not an app id`);
    });
    const pol = r.spec.policies || {};
    const refs = (f, t) => {
      for (const [kind, set] of [["timeout", pol.timeouts], ["retry", pol.retries], ["circuitBreaker", pol.circuitBreakers]])
        if (t[kind] && !(set && t[kind] in set)) p.push(`${id(r)}: ${f}.${kind}: no policy '${t[kind]}'`);
    };
    for (const [a, t] of Object.entries(r.spec.targets?.apps || {})) {
      if (!apps.has(a)) p.push(`${id(r)}: spec.targets.apps.${a}: not an app id`);
      refs(`spec.targets.apps.${a}`, t);
    }
    for (const [c, t] of Object.entries(r.spec.targets?.components || {})) {
      if (!componentNames.has(c)) p.push(`${id(r)}: spec.targets.components.${c}: no such component`);
      for (const dir of ["inbound", "outbound"]) if (t[dir]) refs(`spec.targets.components.${c}.${dir}`, t[dir]);
    }
  }
}

function checkServices(docs, p) {
  const deps = of(docs, "Deployment");
  for (const s of of(docs, "Service")) {
    const sel = s.spec.selector || {};
    const d = deps.find((x) => nsOf(x) === nsOf(s) &&
      Object.entries(sel).every(([k, v]) => x.spec.template.metadata?.labels?.[k] === v));
    if (!d) {
      p.push(`${id(s)}: spec.selector: matches no Deployment's pods in ${nsOf(s)}`);
      continue;
    }
    const ports = d.spec.template.spec.containers.flatMap((c) => c.ports || []);
    (s.spec.ports || []).forEach((sp, i) => {
      const t = sp.targetPort ?? sp.port;
      if (!ports.find((cp) => cp.name === t || cp.containerPort === t))
        p.push(`${id(s)}: spec.ports[${i}].targetPort: ${t} is no port of ${id(d)}`);
    });
  }
  for (const d of deps)
    d.spec.template.spec.containers.forEach((c, ci) => {
      for (const probe of ["readinessProbe", "livenessProbe"]) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (port !== undefined && !(c.ports || []).find((cp) => cp.name === port || cp.containerPort === port))
          p.push(`${id(d)}: spec.template.spec.containers[${ci}].${probe}: port ${port} is not a container port`);
      }
    });
}

/** The load and verify Jobs (when rendered with the overlay): every in-cluster URL in their command
 *  names a Service of the overlay in its namespace. */
function checkJobs(docs, p) {
  const services = new Set(of(docs, "Service").map((s) => `${s.metadata.name}.${nsOf(s)}`));
  for (const j of of(docs, "Job"))
    j.spec.template.spec.containers.forEach((c, ci) =>
      (c.command || []).forEach((arg, ai) => {
        for (const m of String(arg).matchAll(/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local/g))
          if (m[2] === nsOf(j) && !services.has(`${m[1]}.${m[2]}`))
            p.push(`${id(j)}: spec.template.spec.containers[${ci}].command[${ai}]: no Service ${m[1]} in ${m[2]}`);
      }),
    );
}

/** The Chaos Mesh Workflow (when rendered with the overlay): every selector picks pods that exist
 *  (Deployments' pod labels in that namespace), and container-kill names one of their containers. */
function checkChaos(docs, p) {
  const deps = of(docs, "Deployment");
  for (const w of of(docs, "Workflow"))
    (w.spec.templates || []).forEach((t, ti) => {
      const spec = t.networkChaos || t.podChaos;
      if (!spec) return;
      const sels = [["selector", spec.selector], ["target.selector", spec.target?.selector]].filter((x) => x[1]);
      for (const [f, sel] of sels) {
        const ns = sel.namespaces?.[0];
        const pods = deps.filter((d) => nsOf(d) === ns && Object.entries(sel.labelSelectors || {})
          .every(([k, v]) => d.spec.template.metadata?.labels?.[k] === v));
        // Pods of other namespaces (the Bitnami charts') are not in the overlay: only the overlay's own are checked.
        if (!pods.length && deps.some((d) => nsOf(d) === ns))
          p.push(`${id(w)}: spec.templates[${ti}].${t.templateType === "PodChaos" ? "podChaos" : "networkChaos"}.${f}: selects no pods in ${ns}`);
        for (const c of spec.containerNames || [])
          if (pods.length && !pods.some((d) => d.spec.template.spec.containers.some((x) => x.name === c)))
            p.push(`${id(w)}: spec.templates[${ti}].podChaos.containerNames: no container ${c}`);
      }
    });
}

/** All the rules; returns the problems found. */
export function checkSystem(docs) {
  const p = [];
  checkDeployments(docs, p);
  const names = checkScopes(docs, p);
  checkSecrets(docs, p);
  checkResiliency(docs, p, names);
  checkServices(docs, p);
  checkJobs(docs, p);
  checkChaos(docs, p);
  return p;
}
