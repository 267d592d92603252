// The official Dapr JS SDK (@dapr/dapr) in gRPC mode against ripstopd: the
// client calls of the HTTP suite, one after another. Each step's outcome is
// recorded (its value, or the gRPC code and message it failed with) and the
// whole record is printed as one JSON object for test_grpc_sdk.py to check.
// Usage: node sdk_client.mjs <grpc port> <app id of the invoke target or "">
import { DaprClient, CommunicationProtocolEnum } from "@dapr/dapr";

const [grpcPort, invokeTarget] = process.argv.slice(2);
const client = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort: grpcPort,
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  logger: { level: 0 },
});

const out = {};
async function step(name, fn) {
  try {
    out[name] = { ok: await fn() };
  } catch (e) {
    const err = e && e.error ? e.error : e; // publish wraps the error
    out[name] = { code: err && err.code, message: String(err && (err.rawMessage || err.message)) };
  }
}
const raw = () => client.daprClient.getClient();

await client.start();
const S = "store";
await step("save", () => client.state.save(S, [{ key: "k1", value: { n: 1 } }, { key: "k2", value: "plain" }]));
await step("get", () => client.state.get(S, "k1"));
await step("get_missing", () => client.state.get(S, "nope"));
await step("etag", async () => (await (await raw()).getState({ storeName: S, key: "k1" })).etag);
await step("save_stale_etag", () => client.state.save(S, [{ key: "k1", value: { n: 2 }, etag: "999",
  options: { concurrency: 1 } }]));
await step("bulk", async () => (await client.state.getBulk(S, ["k1", "k2", "nope"])).map((i) => [i.key, i.data]));
await step("transaction", () => client.state.transaction(S, [
  { operation: "upsert", request: { key: "t1", value: "one" } },
  { operation: "delete", request: { key: "k2" } }]));
await step("after_transaction", async () => [await client.state.get(S, "t1"), await client.state.get(S, "k2")]);
await step("delete", () => client.state.delete(S, "t1"));
await step("after_delete", () => client.state.get(S, "t1"));
await step("delete_bulk", async () => {
  await (await raw()).deleteBulkState({ storeName: S, states: [{ key: "k1" }, { key: "k2" }] });
  return await client.state.get(S, "k1");
});
await step("unknown_store", () => client.state.get("nostore", "k"));
await step("publish", () => client.pubsub.publish("bus", "orders", { id: 7 }));
await step("publish_unknown", () => client.pubsub.publish("nobus", "orders", { id: 7 }));
await step("publish_bulk", async () => (await client.pubsub.publishBulk("bus", "orders", [{ a: 1 }, { b: 2 }])).failedMessages.length);
await step("binding", async () => {
  const r = await client.binding.send("files", "create", "hello", { fileName: "g.txt" });
  return Buffer.from(r.data).length;
});
await step("binding_bad_op", () => client.binding.send("files", "nosuchop", "x"));
await step("secret", () => client.secret.get("secrets", "db-password"));
await step("secret_bulk", () => client.secret.getBulk("secrets"));
await step("lock", () => client.lock.lock("lockstore", "res1", "owner1", 30));
await step("lock_other", () => client.lock.lock("lockstore", "res1", "owner2", 30));
await step("unlock_other", () => client.lock.unlock("lockstore", "res1", "owner2"));
await step("unlock", () => client.lock.unlock("lockstore", "res1", "owner1"));
await step("set_metadata", () => client.metadata.set("color", "blue"));
await step("metadata", async () => {
  const m = await client.metadata.get();
  return { id: m.id, extended: m.extended, components: m.components.map((c) => c.name).sort() };
});
await step("unimplemented", async () => (await raw()).getConfiguration({ storeName: "x", keys: [] }));
if (invokeTarget) {
  await step("invoke", () => client.invoker.invoke(invokeTarget, "echo", "POST", { hello: "grpc" }));
  await step("invoke_404", () => client.invoker.invoke(invokeTarget, "missing", "GET"));
  await step("invoke_unknown_app", () => client.invoker.invoke("no-such-app", "echo", "POST", {}));
}
console.log(JSON.stringify(out));
