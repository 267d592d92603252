// Walks a parsed JSON value against a protobufjs message type, as a JSON mapping of protobuf lays
// messages out: an object whose keys are the fields' lowerCamelCase names, repeated fields as arrays,
// map fields as objects, at most one field of each oneof, no null. What a leaf (scalar, enum or
// bytes) looks like differs between mappings (OTLP/HTTP JSON, Zipkin's JSON v2), so the caller's
// leaf(field, value, where, errs) checks those; it calls message() again for a nested message.
// Shared by otlp_schema.mjs and zipkin_schema.mjs.
import protobuf from "protobufjs";

export const INT_RANGE = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n], sint32: [-(2n ** 31n), 2n ** 31n - 1n], sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n], fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], sint64: [-(2n ** 63n), 2n ** 63n - 1n], sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n], fixed64: [0n, 2n ** 64n - 1n],
};

export function isMessage(field) {
  return field.resolvedType instanceof protobuf.Type;
}

export function isEnum(field) {
  return field.resolvedType instanceof protobuf.Enum;
}

export function message(type, obj, where, errs, leaf) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    errs.push(`${where}: not a JSON object (message ${type.fullName})`);
    return;
  }
  const oneofs = new Map();
  for (const [key, v] of Object.entries(obj)) {
    const field = type.fields[key];
    const at = `${where}.${key}`;
    if (!field) { errs.push(`${at}: no field of that (lowerCamelCase) name in ${type.fullName}`); continue; }
    if (v === null) { errs.push(`${at}: null`); continue; }
    if (field.partOf) {
      const n = (oneofs.get(field.partOf.name) || 0) + 1;
      oneofs.set(field.partOf.name, n);
      if (n > 1) errs.push(`${where}: more than one field of oneof ${field.partOf.name}`);
    }
    if (field.map) {
      if (typeof v !== "object" || Array.isArray(v)) { errs.push(`${at}: not a map object`); continue; }
      for (const [k, x] of Object.entries(v)) leaf(field, x, `${at}[${JSON.stringify(k)}]`, errs);
    } else if (field.repeated) {
      if (!Array.isArray(v)) { errs.push(`${at}: not an array (repeated)`); continue; }
      v.forEach((x, i) => leaf(field, x, `${at}[${i}]`, errs));
    } else {
      leaf(field, v, at, errs);
    }
  }
}

// One JSON value per stdin line in, {"errors": [...]} per stdout line out (empty: valid), after a
// first line {"ready": ...}. check(value) returns the objections.
export function serve(ready, check) {
  return import("node:readline").then(({ default: readline }) => {
    process.stdout.write(JSON.stringify({ ready }) + "\n");
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    rl.on("line", line => {
      let errors;
      try {
        errors = check(JSON.parse(line));
      } catch (e) {
        errors = [`not JSON: ${e.message}`];
      }
      process.stdout.write(JSON.stringify({ errors: errors.slice(0, 20) }) + "\n");
    });
  });
}
