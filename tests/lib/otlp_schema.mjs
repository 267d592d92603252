// Validates OTLP/HTTP JSON payloads against OpenTelemetry's published protobuf definitions
// (opentelemetry-proto's .proto files, as the npm package @opentelemetry/otlp-grpc-exporter-base
// ships them in build/protos/), read with protobufjs, under the proto3 JSON mapping with the
// OTLP/HTTP JSON rules: field names in lowerCamelCase, enums as integers, trace and span ids as
// hex (not base64), 64-bit integers as numbers or decimal strings.
//
// A line-oriented service for tests/lib/trace_receiver.py (proto_json.mjs's serve): each stdin line is
// one ExportTraceServiceRequest (JSON); each stdout line answers {"errors": [...]} (empty: valid).
import path from "node:path";
import { createRequire } from "node:module";
import protobuf from "protobufjs";
import { INT_RANGE, isEnum, isMessage, message, serve } from "./proto_json.mjs";

const require = createRequire(import.meta.url);
const PROTOS = path.join(path.dirname(require.resolve("@opentelemetry/otlp-grpc-exporter-base/package.json")),
                         "build", "protos");
const SERVICE = "opentelemetry/proto/collector/trace/v1/trace_service.proto";

export function loadRequestType() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTOS, target);
  root.loadSync(SERVICE);
  root.resolveAll();
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

// OTLP/HTTP JSON: these bytes fields are hex, with the byte lengths trace.proto gives them.
const HEX_IDS = { traceId: 16, spanId: 8, parentSpanId: 8 };

function scalar(field, v, where, errs) {
  const t = field.type;
  if (isEnum(field)) {
    // OTLP/HTTP JSON: enum values are integers, and ours must be ones the schema defines
    if (!Number.isInteger(v) || !(v in field.resolvedType.valuesById))
      errs.push(`${where}: ${JSON.stringify(v)} is not a value of enum ${field.resolvedType.fullName} (integers)`);
    return;
  }
  if (isMessage(field)) {
    message(field.resolvedType, v, where, errs, scalar);
    return;
  }
  if (t in INT_RANGE) {
    const ok = (Number.isInteger(v) && Number.isSafeInteger(v)) ||
               (typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v));
    if (!ok) { errs.push(`${where}: ${JSON.stringify(v)} is not an integer (${t})`); return; }
    const n = BigInt(v), [lo, hi] = INT_RANGE[t];
    if (n < lo || n > hi) errs.push(`${where}: ${v} is out of range for ${t}`);
    return;
  }
  switch (t) {
    case "string": if (typeof v !== "string") errs.push(`${where}: not a string`); return;
    case "bool": if (typeof v !== "boolean") errs.push(`${where}: not a boolean`); return;
    case "double": case "float":
      if (typeof v !== "number" && !["NaN", "Infinity", "-Infinity"].includes(v)) errs.push(`${where}: not a number`);
      return;
    case "bytes": {
      const len = HEX_IDS[field.name];
      if (len !== undefined) {
        const ok = typeof v === "string" && (v === "" && field.name === "parentSpanId" ||
                                             new RegExp(`^[0-9a-fA-F]{${2 * len}}$`).test(v));
        if (!ok) errs.push(`${where}: ${JSON.stringify(v)} is not ${len} bytes in hex`);
      } else if (typeof v !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) {
        errs.push(`${where}: not base64`);
      }
      return;
    }
    default: errs.push(`${where}: type ${t} unknown to this checker`);
  }
}

export function validate(type, payload) {
  const errs = [];
  message(type, payload, "ExportTraceServiceRequest", errs, scalar);
  return errs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const type = loadRequestType();
  serve({ protos: PROTOS }, payload => validate(type, payload));
}
