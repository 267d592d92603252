// Validates Zipkin v2 JSON payloads (POST /api/v2/spans: an array of spans) against Zipkin's published
// v2 model, zipkin.proto (package zipkin.proto3), read with protobufjs, under Zipkin's JSON v2 mapping
// of that model (as zipkin2-api.yaml defines the JSON form):
//   - field names in lowerCamelCase (traceId, parentId, localEndpoint.serviceName, ...), no others;
//   - traceId 16 or 32 lower-case hex (8 or 16 bytes), id and parentId 16 lower-case hex (8 bytes);
//     traceId and id are required (zipkin.proto: "This field is required");
//   - kind one of the Kind enum's names other than SPAN_KIND_UNSPECIFIED ("interpreted as absent");
//   - timestamp, duration, annotations[].timestamp: integer microseconds as JSON numbers, at least 1
//     (zipkin.proto: "zero is an invalid timestamp and an invalid duration"; absent instead);
//   - Endpoint.ipv4 a dotted-quad string, ipv6 an IPv6 address string (the proto's 4 and 16 bytes),
//     port a JSON integer in int32's range; tags an object of strings; annotations {timestamp, value};
//     debug and shared booleans.
// The proto comes from Debian's golang-github-openzipkin-zipkin-go-dev: installed, or the copy
// scripts/setup.sh extracts into $RIPSTOP_ZIPKIN_PROTO_DIR (default ~/.cache/ripstop/zipkin-proto).
//
// A line-oriented service for tests/lib/trace_receiver.py (proto_json.mjs's serve): each stdin line is
// one payload (JSON); each stdout line answers {"errors": [...]} (empty: valid).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import protobuf from "protobufjs";
import { INT_RANGE, isEnum, isMessage, message, serve } from "./proto_json.mjs";

const INSTALLED = "/usr/share/gocode/src/github.com/openzipkin/zipkin-go/proto/v2/zipkin.proto";

export function findProto() {
  const dir = process.env.RIPSTOP_ZIPKIN_PROTO_DIR ||
              path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "ripstop", "zipkin-proto");
  const cached = path.join(dir, "zipkin.proto");
  if (fs.existsSync(cached)) {
    const stamp = cached + ".source";  // the .deb's Package and Version fields, written by setup.sh
    const source = fs.existsSync(stamp) ? fs.readFileSync(stamp, "utf8").trim().replace(/\n/g, ", ") : "unknown";
    return { proto: cached, source };
  }
  if (fs.existsSync(INSTALLED)) return { proto: INSTALLED, source: "installed golang-github-openzipkin-zipkin-go-dev" };
  throw new Error(`zipkin.proto is neither in ${dir} nor at ${INSTALLED}: run scripts/setup.sh`);
}

export function loadSpanType(proto) {
  const root = protobuf.loadSync(proto);
  root.resolveAll();
  return root.lookupType("zipkin.proto3.Span");
}

// Zipkin JSON v2: these bytes fields are lower-case hex of these byte lengths (zipkin.proto's comments)
const HEX_IDS = { traceId: [8, 16], id: [8], parentId: [8] };
// ... and these are addresses in text form (4 and 16 bytes in the proto)
const ADDRESSES = { ipv4: net.isIPv4, ipv6: net.isIPv6 };
// "zero is an invalid timestamp and an invalid duration" (zipkin.proto): absent instead
const NATURAL = new Set(["timestamp", "duration"]);

function leaf(field, v, where, errs) {
  if (isMessage(field)) {
    message(field.resolvedType, v, where, errs, leaf);
    return;
  }
  if (isEnum(field)) {
    const values = field.resolvedType.values;
    if (typeof v !== "string" || !(v in values) || values[v] === 0)
      errs.push(`${where}: ${JSON.stringify(v)} is not a name of enum ${field.resolvedType.fullName} ` +
                `(${Object.keys(values).filter(k => values[k] !== 0).join("/")})`);
    return;
  }
  const t = field.type;
  if (t in INT_RANGE) {
    // Zipkin's JSON writes integers as JSON numbers, never as strings
    if (!Number.isSafeInteger(v)) { errs.push(`${where}: ${JSON.stringify(v)} is not a JSON integer (${t})`); return; }
    const [lo, hi] = INT_RANGE[t];
    if (BigInt(v) < lo || BigInt(v) > hi) errs.push(`${where}: ${v} is out of range for ${t}`);
    else if (NATURAL.has(field.name) && v < 1) errs.push(`${where}: ${v} is not a natural number (zero is invalid)`);
    return;
  }
  switch (t) {
    case "string": if (typeof v !== "string") errs.push(`${where}: ${JSON.stringify(v)} is not a string`); return;
    case "bool": if (typeof v !== "boolean") errs.push(`${where}: ${JSON.stringify(v)} is not a boolean`); return;
    case "bytes": {
      const lens = HEX_IDS[field.name];
      if (lens) {
        if (typeof v !== "string" || !lens.some(n => new RegExp(`^[0-9a-f]{${2 * n}}$`).test(v)))
          errs.push(`${where}: ${JSON.stringify(v)} is not ${lens.join(" or ")} bytes in lower-case hex`);
      } else if (ADDRESSES[field.name]) {
        if (typeof v !== "string" || !ADDRESSES[field.name](v))
          errs.push(`${where}: ${JSON.stringify(v)} is not an ${field.name} address`);
      } else {
        errs.push(`${where}: bytes field ${field.name} has no Zipkin JSON form known to this checker`);
      }
      return;
    }
    default: errs.push(`${where}: type ${t} unknown to this checker`);
  }
}

export function validate(span, payload) {
  const errs = [];
  if (!Array.isArray(payload)) return ["not a JSON array of spans (ListOfSpans)"];
  payload.forEach((s, i) => {
    const where = `spans[${i}]`;
    message(span, s, where, errs, leaf);
    if (s && typeof s === "object")
      for (const req of ["traceId", "id"]) if (!(req in s)) errs.push(`${where}.${req}: required (zipkin.proto)`);
  });
  return errs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = findProto();
  const span = loadSpanType(found.proto);
  serve(found, payload => validate(span, payload));
}
