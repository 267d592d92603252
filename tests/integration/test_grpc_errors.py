"""Dapr's rich error details, as daprd sends them, from the one error table
(src/sidecar/errors/errors.h): over gRPC the grpc-status-details-bin
trailer (a google.rpc.Status) decoded by hand (tests/lib/h2grpc.py), over
HTTP the JSON body's "details". State store not found, an illegal key (a
BadRequest), pub/sub not found, an empty topic and a forbidden topic (with
ResourceInfo and metadata); lock errors have none, as in daprd."""

import json

import h2grpc as g
import ripstop_testlib as t
from pubsub_fixtures import redis_pubsub_yaml

INVALID_ARGUMENT, PERMISSION_DENIED = 3, 7


class GrpcErrorDetails(t.ProcTestCase):
    def setUp(self):
        super().setUp()
        self.redis = self.track(t.Redis())
        files = {"state.yaml": t.redis_state_yaml("store", self.redis),
                 "lock.yaml": t.redis_state_yaml("lockstore", self.redis).replace("state.redis", "lock.redis"),
                 "pubsub.yaml": redis_pubsub_yaml("bus", self.redis, publishingScopes="errapp=allowed")}
        self.sc = self.track(t.Sidecar("errapp", resources=t.write_resources(files)))

    def call(self, method, msg):
        c = g.Client(self.sc.grpc_port)
        self.addCleanup(c.close)
        return c.call(method, msg)

    def details(self, reply, code):
        """The reply's status and its decoded details; the Status in the trailer repeats code and message."""
        self.assertEqual(reply.status, code, reply.message)
        st = g.status_details(reply)
        self.assertIsNotNone(st, "no grpc-status-details-bin")
        self.assertEqual(st[:2], (code, reply.message))
        return st[2]

    def test_state_store_not_found(self):
        r = self.call("GetState", g.get_state("nosuch", "k"))
        self.assertEqual(r.message, "state store nosuch is not found")
        # daprd: no ResourceInfo for a store that is not there, and no metadata over gRPC
        self.assertEqual(self.details(r, INVALID_ARGUMENT),
                         [("google.rpc.ErrorInfo", {"reason": "DAPR_STATE_NOT_FOUND", "domain": "dapr.io"})])
        h = self.sc.req("GET", "/v1.0/state/nosuch/k")
        self.assertEqual(h.status, 400)
        self.assertEqual(h.json(), {
            "errorCode": "ERR_STATE_STORE_NOT_FOUND", "message": "state store nosuch is not found",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "DAPR_STATE_NOT_FOUND",
                         "domain": "dapr.io", "metadata": {"appID": "errapp"}}]})

    def test_illegal_key_is_a_bad_request(self):
        r = self.call("SaveState", g.save_state("store", "a||b", "v"))
        msg = "input key/keyPrefix 'a||b' can't contain '||'"
        self.assertEqual(r.message, msg)
        self.assertEqual(self.details(r, INVALID_ARGUMENT), [
            ("google.rpc.BadRequest", {"field_violations": [{"field": "a||b", "description": msg}]}),
            ("google.rpc.ResourceInfo", {"resource_type": "state", "resource_name": "store"}),
            ("google.rpc.ErrorInfo", {"reason": "DAPR_STATE_ILLEGAL_KEY", "domain": "dapr.io"})])
        h = self.sc.req("GET", "/v1.0/state/store/a%7C%7Cb")
        self.assertEqual(h.status, 400)
        body = h.json()
        self.assertEqual(body["errorCode"], "ERR_MALFORMED_REQUEST")
        self.assertEqual([d["@type"].rsplit(".", 1)[1] for d in body["details"]],
                         ["BadRequest", "ResourceInfo", "ErrorInfo"])
        self.assertEqual(body["details"][0]["field_violations"], [{"field": "a||b", "description": msg}])
        self.assertEqual(body["details"][1]["resource_name"], "store")

    def test_pubsub_not_found(self):
        r = self.call("PublishEvent", g.publish_event("nosuch", "t", b"{}", {"ttlInSeconds": "5"}))
        self.assertEqual(self.details(r, INVALID_ARGUMENT),
                         [("google.rpc.ErrorInfo", {"reason": "DAPR_PUBSUB_NOT_FOUND", "domain": "dapr.io"})])
        # over HTTP daprd echoes the request's metadata
        h = self.sc.req("POST", "/v1.0/publish/nosuch/t?metadata.ttlInSeconds=5", body=b"{}")
        self.assertEqual(h.status, 404)
        self.assertEqual(h.json()["details"], [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "DAPR_PUBSUB_NOT_FOUND", "domain": "dapr.io",
                                                "metadata": {"ttlInSeconds": "5"}}])

    def test_topic_empty_has_resource_and_request_metadata(self):
        r = self.call("PublishEvent", g.publish_event("bus", "", b"{}", {"k": "v"}))
        self.assertEqual(self.details(r, INVALID_ARGUMENT), [
            ("google.rpc.ResourceInfo", {"resource_type": "pubsub", "resource_name": "bus",
                                         "description": r.message}),
            ("google.rpc.ErrorInfo", {"reason": "DAPR_PUBSUB_TOPIC_NAME_EMPTY", "domain": "dapr.io",
                                      "metadata": {"k": "v"}})])

    def test_forbidden_topic(self):
        r = self.call("PublishEvent", g.publish_event("bus", "secret", b"{}"))
        self.assertEqual(r.message, "topic secret is not allowed for app id errapp")
        details = self.details(r, PERMISSION_DENIED)
        self.assertEqual(details[1], ("google.rpc.ErrorInfo", {
            "reason": "DAPR_PUBSUB_FORBIDDEN", "domain": "dapr.io",
            "metadata": {"topic": "secret", "error": r.message}}))
        self.assertEqual(details[0][1]["resource_name"], "bus")
        # the allowed topic still publishes
        self.assertEqual(self.call("PublishEvent", g.publish_event("bus", "allowed", b"{}")).status, 0)

    def test_lock_errors_have_no_details(self):
        r = self.call("TryLockAlpha1", g.try_lock("nosuch", "res", "me", 10))
        self.assertEqual((r.status, r.message), (INVALID_ARGUMENT, "lock store nosuch not found"))
        self.assertIsNone(g.status_details(r))
        h = self.sc.req("POST", "/v1.0-alpha1/lock/nosuch",
                        body=json.dumps({"resourceId": "r", "lockOwner": "o", "expiryInSeconds": 5}).encode())
        self.assertEqual(h.status, 400)
        self.assertEqual(set(h.json()), {"errorCode", "message"})


if __name__ == "__main__":
    t.main()
