// An app written with the official Dapr JS SDK's gRPC server (@dapr/dapr
// DaprServer, CommunicationProtocolEnum.GRPC), behind ripstopd with
// --app-protocol grpc. It serves:
//   - invocation: POST hello (echoes the body, its content type and the
//     query), GET ping, POST fail (throws);
//   - topic events: bus/orders (records them), bus/flaky (RETRY the first
//     time, then SUCCESS), bus/unwanted (DROP), bus/batch (a bulk
//     subscription: OnBulkTopicEventAlpha1);
//   - binding events: "tick" (a cron binding). It does not register "tock".
// Every event it receives is printed as one JSON line on stdout, for
// test_grpc_app.py to read.
// Usage: node sdk_app.mjs <app port> <sidecar gRPC port>
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, HttpMethod } from "@dapr/dapr";

const [appPort, grpcPort] = process.argv.slice(2);
const server = new DaprServer({
  serverHost: "127.0.0.1",
  serverPort: appPort,
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  clientOptions: { daprHost: "127.0.0.1", daprPort: grpcPort, communicationProtocol: CommunicationProtocolEnum.GRPC },
  logger: { level: 1 },
});
const record = (what, fields) => console.log(JSON.stringify({ what, ...fields }));

await server.invoker.listen("hello", async ({ body, query, metadata }) => {
  record("invoke", { method: "hello", body, query, contentType: metadata.contentType });
  return { got: JSON.parse(body), query };
}, { method: HttpMethod.POST });
await server.invoker.listen("ping", async ({ query }) => ({ pong: query }), { method: HttpMethod.GET });
await server.invoker.listen("fail", async () => {
  throw new Error("the handler failed");
}, { method: HttpMethod.POST });

await server.pubsub.subscribe("bus", "orders", async (data, headers) => {
  record("topic", { topic: "orders", data, token: headers["dapr-api-token"] ?? null,
    traceparent: headers.traceparent ?? null });
  return DaprPubSubStatusEnum.SUCCESS;
});
let flaky = 0;
await server.pubsub.subscribe("bus", "flaky", async (data) => {
  flaky += 1;
  record("topic", { topic: "flaky", data, attempt: flaky });
  return flaky === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
});
await server.pubsub.subscribe("bus", "unwanted", async (data) => {
  record("topic", { topic: "unwanted", data });
  return DaprPubSubStatusEnum.DROP;
});

await server.pubsub.subscribeBulk("bus", "batch", async (data) => {
  record("topic", { topic: "batch", data });
  return DaprPubSubStatusEnum.SUCCESS;
}, { maxMessagesCount: 10, maxAwaitDurationMs: 100 });

await server.binding.receive("tick", async (data) => {
  record("binding", { name: "tick", data });
});

await server.start();
record("started", {});
