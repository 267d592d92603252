// Offline checks of rendered Kubernetes manifests (the output of `kubectl kustomize`):
//   node tests/k8s/check_manifests.mjs [--system] [--emit-dapr DIR] LABEL=FILE ...
// 1. every object validates against the schema of its apiVersion/kind: Kubernetes' own kinds with
//    kubernetes-models (Kubernetes 1.27 OpenAPI), Dapr and Chaos Mesh kinds with schemas.mjs;
// 2. with --system (a whole overlay), the consistency rules of consistency.mjs;
// 3. with --emit-dapr DIR, writes what a ripstopd needs to load the same Dapr resources:
//    DIR/resources/*.yaml, DIR/config.yaml, DIR/secrets.json (the Secrets' values, as the
//    secret store "kubernetes") and DIR/expect.json (per app id: components and subscriptions in scope).
// Prints one line per problem, "LABEL: Kind/name: field: what", and exits 1 when there is any.
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import YAML from "yaml";

import { customSchemas } from "./schemas.mjs";
import { checkSystem, expectedScopes, secretValues } from "./consistency.mjs";

const ajv = new Ajv({ allErrors: true, strict: false });
const customValidators = Object.fromEntries(Object.entries(customSchemas).map(([k, s]) => [k, ajv.compile(s)]));

/** Loads the kubernetes-models class for apiVersion/kind, or null when there is none. */
async function k8sModel(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  try {
    // One kind's module, not the group's index (which loads every kind of the group: slow).
    const mod = await import(`kubernetes-models/${group ? group + "/" : ""}${version}/${kind}`);
    return mod[kind] || null;
  } catch {
    return null;
  }
}

export function parseAll(text, label, problems) {
  const docs = [];
  for (const d of YAML.parseAllDocuments(text)) {
    if (d.errors.length) {
      problems.push(`${label}: YAML: ${d.errors[0].message}`);
      continue;
    }
    const o = d.toJS();
    if (o !== null && o !== undefined) docs.push(o);
  }
  return docs;
}

const ident = (o) => `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;

async function validateSchema(o, label, problems) {
  if (!o || typeof o !== "object" || !o.apiVersion || !o.kind) {
    problems.push(`${label}: ${ident(o)}: apiVersion/kind: missing`);
    return;
  }
  const custom = customValidators[`${o.apiVersion}/${o.kind}`];
  if (custom) {
    if (!custom(o))
      for (const e of custom.errors)
        problems.push(`${label}: ${ident(o)}: ${fieldPath(e.instancePath) || "(top)"}: ${e.message}` +
          (e.params?.additionalProperty ? ` '${e.params.additionalProperty}'` : ""));
    return;
  }
  const Model = await k8sModel(o.apiVersion, o.kind);
  if (!Model) {
    problems.push(`${label}: ${ident(o)}: apiVersion: no schema for ${o.apiVersion} ${o.kind}`);
    return;
  }
  try {
    new Model(o).validate();
  } catch (e) {
    const errs = e.errors || [{ instancePath: "", message: e.message }];
    for (const x of errs) problems.push(`${label}: ${ident(o)}: ${fieldPath(x.instancePath) || "(top)"}: ${x.message}`);
  }
}

/** "/spec/metadata/1/secretKeyRef" -> "spec.metadata[1].secretKeyRef" */
function fieldPath(p) {
  return p
    .split("/")
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join("")
    .replace(/^\./, "");
}

function emitDapr(docs, dir) {
  fs.mkdirSync(path.join(dir, "resources"), { recursive: true });
  for (const o of docs) {
    if (o.apiVersion !== "dapr.io/v1alpha1") continue;
    const text = YAML.stringify(o);
    if (o.kind === "Configuration") fs.writeFileSync(path.join(dir, "config.yaml"), text);
    else fs.writeFileSync(path.join(dir, "resources", `${o.kind}-${o.metadata.name}.yaml`), text);
  }
  fs.writeFileSync(path.join(dir, "secrets.json"), JSON.stringify(secretValues(docs), null, 1));
  fs.writeFileSync(path.join(dir, "expect.json"), JSON.stringify(expectedScopes(docs), null, 1));
}

async function main(argv) {
  let system = false, emit = null;
  const inputs = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--system") system = true;
    else if (argv[i] === "--emit-dapr") emit = argv[++i];
    else {
      const eq = argv[i].indexOf("=");
      inputs.push(eq > 0 ? [argv[i].slice(0, eq), argv[i].slice(eq + 1)] : [argv[i], argv[i]]);
    }
  }
  if (!inputs.length) {
    console.error("usage: check_manifests.mjs [--system] [--emit-dapr DIR] LABEL=FILE ...");
    return 2;
  }
  const problems = [];
  let total = 0;
  for (const [label, file] of inputs) {
    const docs = parseAll(fs.readFileSync(file, "utf8"), label, problems);
    total += docs.length;
    for (const o of docs) await validateSchema(o, label, problems);
    if (system) for (const p of checkSystem(docs)) problems.push(`${label}: ${p}`);
    if (emit) emitDapr(docs, emit);
  }
  for (const p of problems) console.log(p);
  console.log(`${total} objects checked, ${problems.length} problem(s)`);
  return problems.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
