// JSON schemas (ajv) for the custom resources deploy/k8s uses, written from the CRDs'
// openAPIV3Schema: Dapr's charts/dapr/crds/{components,configuration,resiliency,subscription}.yaml
// (dapr/dapr, Dapr 1.9 to current) and Chaos Mesh's chaos-mesh.org/v1alpha1 Workflow,
// NetworkChaos and PodChaos. Only the fields listed here are allowed: those CRDs are structural,
// so the API server would silently prune a misspelt field — here it fails instead.
// docs/kubernetes.md ("What the offline checks check") lists the same fields.

const str = { type: "string" };
const strList = { type: "array", items: str };
const objMeta = { type: "object", required: ["name"], properties: { name: str, namespace: str } };

function obj(properties, required = [], extra = {}) {
  return { type: "object", properties, required, additionalProperties: false, ...extra };
}
function map(valueSchema) {
  return { type: "object", additionalProperties: valueSchema };
}
function resource(kind, apiVersion, spec, specRequired = [], top = {}) {
  return obj(
    {
      apiVersion: { const: apiVersion },
      kind: { const: kind },
      metadata: objMeta,
      spec: obj(spec, specRequired),
      ...top,
    },
    ["apiVersion", "kind", "metadata", "spec"],
  );
}

// dapr.io/v1alpha1 Component: spec.{type, version, metadata[] required; initTimeout, ignoreErrors},
// metadata item {name required; value | secretKeyRef{name, key} required both}, auth.secretStore, scopes[].
const metadataItem = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: str,
    value: {}, // x-kubernetes-preserve-unknown-fields in the CRD; Dapr reads it as a string
    secretKeyRef: obj({ name: str, key: str }, ["name", "key"]),
  },
};
const component = resource(
  "Component",
  "dapr.io/v1alpha1",
  {
    type: str,
    version: str,
    initTimeout: str,
    ignoreErrors: { type: "boolean" },
    metadata: { type: "array", items: metadataItem },
  },
  ["type", "version", "metadata"],
  { auth: obj({ secretStore: str }, ["secretStore"]), scopes: strList },
);

// dapr.io/v1alpha1 Configuration: the spec fields of the CRD (features[] {name, enabled} both required,
// tracing {samplingRate required, zipkin.endpointAddress}, metric.enabled, mtls.enabled, secrets.scopes,
// accessControl, api, components.deny, nameResolution, httpPipeline).
const configuration = resource("Configuration", "dapr.io/v1alpha1", {
  features: { type: "array", items: obj({ name: str, enabled: { type: "boolean" } }, ["name", "enabled"]) },
  tracing: obj({ samplingRate: str, zipkin: obj({ endpointAddress: str }, ["endpointAddress"]) }, ["samplingRate"]),
  metric: obj({ enabled: { type: "boolean" } }, ["enabled"]),
  mtls: obj({ enabled: { type: "boolean" }, allowedClockSkew: str, workloadCertTTL: str }, ["enabled"]),
  secrets: { type: "object" },
  accessControl: { type: "object" },
  api: { type: "object" },
  components: obj({ deny: strList }),
  nameResolution: { type: "object" },
  httpPipeline: { type: "object" },
});

// dapr.io/v1alpha1 Resiliency: spec.policies {timeouts: name -> duration string; retries: name ->
// {policy, duration, maxInterval, maxRetries integer}; circuitBreakers: name -> {maxRequests integer,
// interval, timeout, trip}} and spec.targets {apps: id -> {timeout, retry, circuitBreaker,
// circuitBreakerCacheSize integer}; actors; components: name -> {inbound, outbound: {timeout, retry,
// circuitBreaker}}}, both required; scopes[].
const pick = obj({ timeout: str, retry: str, circuitBreaker: str });
const resiliency = resource(
  "Resiliency",
  "dapr.io/v1alpha1",
  {
    policies: obj({
      timeouts: map(str),
      retries: map(obj({ policy: str, duration: str, maxInterval: str, maxRetries: { type: "integer" } })),
      circuitBreakers: map(
        obj({ maxRequests: { type: "integer" }, interval: str, timeout: str, trip: str }),
      ),
    }),
    targets: obj({
      apps: map(obj({ timeout: str, retry: str, circuitBreaker: str, circuitBreakerCacheSize: { type: "integer" } })),
      actors: map({ type: "object" }),
      components: map(obj({ inbound: pick, outbound: pick })),
    }),
  },
  ["policies", "targets"],
  { scopes: strList },
);

// dapr.io/v1alpha1 Subscription: spec.{pubsubname, topic, route} required, deadLetterTopic,
// metadata (string map), bulkSubscribe; scopes[].
const subscription = resource(
  "Subscription",
  "dapr.io/v1alpha1",
  {
    pubsubname: str,
    topic: str,
    route: str,
    deadLetterTopic: str,
    metadata: map(str),
    bulkSubscribe: { type: "object", required: ["enabled"] },
  },
  ["pubsubname", "topic", "route"],
  { scopes: strList },
);

// chaos-mesh.org/v1alpha1, the fields `ripstop k8s-chaos` writes.
const selector = obj({ namespaces: strList, labelSelectors: map(str) });
const mode = { enum: ["one", "all", "fixed", "fixed-percent", "random-max-percent"] };
const networkChaos = obj(
  {
    action: { enum: ["netem", "delay", "loss", "duplicate", "corrupt", "partition", "bandwidth"] },
    mode,
    value: str,
    selector,
    direction: { enum: ["to", "from", "both"] },
    target: obj({ mode, value: str, selector }, ["mode", "selector"]),
    delay: obj({ latency: str, jitter: str, correlation: str }, ["latency"]),
    duration: str,
  },
  ["action", "mode", "selector"],
);
const podChaos = obj(
  {
    action: { enum: ["pod-kill", "pod-failure", "container-kill"] },
    mode,
    value: str,
    selector,
    gracePeriod: { type: "integer" },
    containerNames: strList,
    duration: str,
  },
  ["action", "mode", "selector"],
);
const workflowTemplate = obj(
  {
    name: str,
    templateType: { enum: ["Serial", "Parallel", "Suspend", "NetworkChaos", "PodChaos"] },
    deadline: str,
    children: strList,
    networkChaos: networkChaos,
    podChaos: podChaos,
  },
  ["name", "templateType"],
);
const workflow = resource(
  "Workflow",
  "chaos-mesh.org/v1alpha1",
  { entry: str, templates: { type: "array", items: workflowTemplate } },
  ["entry", "templates"],
);

export const customSchemas = {
  "dapr.io/v1alpha1/Component": component,
  "dapr.io/v1alpha1/Configuration": configuration,
  "dapr.io/v1alpha1/Resiliency": resiliency,
  "dapr.io/v1alpha1/Subscription": subscription,
  "chaos-mesh.org/v1alpha1/Workflow": workflow,
};
