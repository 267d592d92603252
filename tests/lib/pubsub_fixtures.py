"""Resource YAML builders shared by the pub/sub integration tests (not a test file itself)."""

import json

import ripstop_testlib as rt


def redis_pubsub_yaml(name, redis, **meta):
    items = {"redisHost": redis.addr}
    items.update(meta)
    lines = "".join(f"  - name: {k}\n    value: \"{v}\"\n" for k, v in items.items())
    return f"""apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: pubsub.redis
  version: v1
  metadata:
{lines}"""


def sub_v1_yaml(name, pubsub, topic, route, dead_letter=None, raw=False, scopes=None, bulk=None):
    """bulk: (maxMessagesCount, maxAwaitDurationMs) enables bulkSubscribe."""
    text = f"""apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: {name}
spec:
  pubsubname: {pubsub}
  topic: {topic}
  route: {route}
"""
    if dead_letter:
        text += f"  deadLetterTopic: {dead_letter}\n"
    if raw:
        text += "  metadata:\n    rawPayload: \"true\"\n"
    if bulk:
        text += (f"  bulkSubscribe:\n    enabled: true\n    maxMessagesCount: {bulk[0]}\n"
                 f"    maxAwaitDurationMs: {bulk[1]}\n")
    if scopes:
        text += "scopes:\n" + "".join(f"- {s}\n" for s in scopes)
    return text


def sub_v2_yaml(name, pubsub, topic, rules, default=None, dead_letter=None):
    text = f"""apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: {name}
spec:
  pubsubname: {pubsub}
  topic: {topic}
  routes:
    rules:
"""
    for match, path in rules:
        text += f"    - match: {json.dumps(match)}\n      path: {path}\n"
    if default:
        text += f"    default: {default}\n"
    if dead_letter:
        text += f"  deadLetterTopic: {dead_letter}\n"
    return text


def resiliency_yaml(component, inbound=None, outbound=None, retries=None, timeouts=None, breakers=None):
    """inbound/outbound: dicts like {"retry": "r", "timeout": "t", "circuitBreaker": "cb"}."""
    doc = {"apiVersion": "dapr.io/v1alpha1", "kind": "Resiliency", "metadata": {"name": "pubsub-res"},
           "spec": {"policies": {}, "targets": {"components": {component: {}}}}}
    if retries:
        doc["spec"]["policies"]["retries"] = retries
    if timeouts:
        doc["spec"]["policies"]["timeouts"] = timeouts
    if breakers:
        doc["spec"]["policies"]["circuitBreakers"] = breakers
    if inbound:
        doc["spec"]["targets"]["components"][component]["inbound"] = inbound
    if outbound:
        doc["spec"]["targets"]["components"][component]["outbound"] = outbound
    return json.dumps(doc)  # JSON is valid YAML


def publish(sidecar, pubsub, topic, body=None, ctype="application/json", metadata=None, headers=None):
    q = "&".join(f"metadata.{k}={v}" for k, v in (metadata or {}).items())
    path = f"/v1.0/publish/{pubsub}/{topic}" + (f"?{q}" if q else "")
    hdrs = {"Content-Type": ctype} if ctype else {}
    hdrs.update(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    return sidecar.req("POST", path, body=body if body is not None else b"", headers=hdrs)


def pending_count(redis, topic, group):
    out = redis.cli("XPENDING", topic, group)
    first = out.splitlines()[0] if out else "0"
    return int(first) if first.strip().isdigit() else 0


def group_info(redis, topic):
    """The first consumer group of a stream as a dict (XINFO GROUPS), or {}."""
    lines = redis.cli("XINFO", "GROUPS", topic).splitlines()
    return dict(zip(lines[0::2], lines[1::2])) if lines and not lines[0].startswith("ERR") else {}


__all__ = ["rt", "redis_pubsub_yaml", "sub_v1_yaml", "sub_v2_yaml", "resiliency_yaml", "publish", "pending_count", "group_info"]
