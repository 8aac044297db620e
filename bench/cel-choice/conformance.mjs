// Runs the cel-spec conformance suite (as shipped in @bufbuild/cel-spec 0.6.1, upstream cel-spec v0.25.1)
// against both libraries, on the tests that need no protobuf message types, no container and no
// type-checker-only assertion: the core language a rule uses (literals, operators, conversions,
// strings, lists, maps, macros, timestamps, errors).

import * as buf from '@bufbuild/cel';
import { tests } from '@bufbuild/cel-spec/testdata/conformance.js';
import * as marc from '@marcbachmann/cel-js';

const MarcUint = marc.evaluate('0u').constructor;
const marcEnv = new marc.Environment({
  unlistedVariablesAreDyn: true,
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
});

const b64 = (s) => Uint8Array.from(Buffer.from(s, 'base64'));
// expected JSON value -> canonical
function canon(v) {
  if ('int64Value' in v) return { t: 'int', v: BigInt(v.int64Value) };
  if ('uint64Value' in v) return { t: 'uint', v: BigInt(v.uint64Value) };
  if ('doubleValue' in v) return { t: 'double', v: Number(v.doubleValue) };
  if ('stringValue' in v) return { t: 'string', v: v.stringValue };
  if ('boolValue' in v) return { t: 'bool', v: v.boolValue };
  if ('nullValue' in v) return { t: 'null' };
  if ('bytesValue' in v) return { t: 'bytes', v: Buffer.from(b64(v.bytesValue)).toString('hex') };
  if ('listValue' in v) {
    const xs = (v.listValue.values ?? []).map(canon);
    return xs.includes(undefined) ? undefined : { t: 'list', v: xs };
  }
  if ('mapValue' in v) {
    const es = (v.mapValue.entries ?? []).map((e) => [canon(e.key), canon(e.value)]);
    return es.flat().includes(undefined) ? undefined : { t: 'map', v: es };
  }
  return undefined; // typeValue, objectValue, enumValue: out of scope
}
function input(c, lib) {
  switch (c.t) {
    case 'int':
      return c.v;
    case 'uint':
      return lib === 'buf' ? buf.celUint(c.v) : new MarcUint(c.v);
    case 'double':
      return c.v;
    case 'string':
    case 'bool':
      return c.v;
    case 'null':
      return null;
    case 'bytes':
      return Uint8Array.from(Buffer.from(c.v, 'hex'));
    case 'list':
      return c.v.map((x) => input(x, lib));
    case 'map':
      return new Map(c.v.map(([k, x]) => [input(k, lib), input(x, lib)]));
  }
}
function fromBuf(x) {
  if (typeof x === 'bigint') return { t: 'int', v: x };
  if (buf.isCelUint(x)) return { t: 'uint', v: x.value };
  if (typeof x === 'number') return { t: 'double', v: x };
  if (typeof x === 'string') return { t: 'string', v: x };
  if (typeof x === 'boolean') return { t: 'bool', v: x };
  if (x === null) return { t: 'null' };
  if (x instanceof Uint8Array) return { t: 'bytes', v: Buffer.from(x).toString('hex') };
  if (buf.isCelList(x)) return { t: 'list', v: [...x].map(fromBuf) };
  if (buf.isCelMap(x)) return { t: 'map', v: [...x.entries()].map(([k, v]) => [fromBuf(k), fromBuf(v)]) };
  return { t: 'other' };
}
function fromMarc(x) {
  if (typeof x === 'bigint') return { t: 'int', v: x };
  if (x instanceof MarcUint) return { t: 'uint', v: x.value };
  if (typeof x === 'number') return { t: 'double', v: x };
  if (typeof x === 'string') return { t: 'string', v: x };
  if (typeof x === 'boolean') return { t: 'bool', v: x };
  if (x === null) return { t: 'null' };
  if (x instanceof Uint8Array) return { t: 'bytes', v: Buffer.from(x).toString('hex') };
  if (Array.isArray(x)) return { t: 'list', v: x.map(fromMarc) };
  if (x instanceof Map) return { t: 'map', v: [...x.entries()].map(([k, v]) => [fromMarc(k), fromMarc(v)]) };
  if (x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype)
    return { t: 'map', v: Object.entries(x).map(([k, v]) => [{ t: 'string', v: k }, fromMarc(v)]) };
  return { t: 'other' };
}
// CEL equality of canonical values (maps unordered; NaN != NaN as in the spec's tests, which avoid it)
function eq(a, b) {
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'null':
      return true;
    case 'double':
      return Object.is(a.v, b.v) || a.v === b.v;
    case 'list':
      return a.v.length === b.v.length && a.v.every((x, i) => eq(x, b.v[i]));
    case 'map':
      return (
        a.v.length === b.v.length && a.v.every(([k, v]) => b.v.some(([k2, v2]) => eq(k, k2) && eq(v, v2)))
      );
    default:
      return a.v === b.v;
  }
}
const PROTO =
  /TestAllTypes|NestedTestAllTypes|google\.protobuf|cel\.expr|\bproto\.|Any\b|\.Value\{|TestRequired|GlobalEnum|NestedEnum/;
function eligible(o) {
  if (o.container || o.checkOnly || o.typedResult) return false;
  if (PROTO.test(o.expr)) return false;
  if (
    (o.typeEnv ?? []).some(
      (d) => JSON.stringify(d).includes('messageType') || JSON.stringify(d).includes('function'),
    )
  )
    return false;
  if (o.value) {
    if (canon(o.value) === undefined) return false;
  } else if (!o.evalError) return false;
  for (const b of Object.values(o.bindings ?? {})) if (!b.value || canon(b.value) === undefined) return false;
  return true;
}
const ERR = { t: 'error' };
function runBuf(o) {
  const bindings = Object.fromEntries(
    Object.entries(o.bindings ?? {}).map(([k, b]) => [k, input(canon(b.value), 'buf')]),
  );
  try {
    const r = buf.run(o.expr, bindings);
    return buf.isCelError(r) ? ERR : fromBuf(r);
  } catch {
    return ERR;
  }
}
function runMarc(o) {
  const bindings = Object.fromEntries(
    Object.entries(o.bindings ?? {}).map(([k, b]) => [k, input(canon(b.value), 'marc')]),
  );
  try {
    return fromMarc(marcEnv.evaluate(o.expr, bindings));
  } catch {
    return ERR;
  }
}
const per = new Map();
let total = 0;
const failures = { buf: [], marc: [] };
function walk(s, path) {
  for (const t of s.tests ?? []) {
    const o = t.original;
    total++;
    if (!eligible(o)) continue;
    const want = o.value ? canon(o.value) : ERR;
    const suite = path.split('/')[1];
    const row = per.get(suite) ?? { n: 0, buf: 0, marc: 0 };
    per.set(suite, row);
    row.n++;
    for (const [lib, f] of [
      ['buf', runBuf],
      ['marc', runMarc],
    ]) {
      const got = f(o);
      const ok = want === ERR ? got === ERR : got !== ERR && eq(want, got);
      if (ok) row[lib]++;
      else failures[lib].push(`${path}/${o.name}: ${o.expr}`);
    }
  }
  for (const c of s.suites ?? []) walk(c, `${path}/${c.name}`);
}
walk(tests, '');
let n = 0,
  bo = 0,
  mo = 0;
console.log('| suite | tests run | @bufbuild/cel | @marcbachmann/cel-js |\n| --- | --: | --: | --: |');
for (const [k, r] of [...per].sort()) {
  n += r.n;
  bo += r.buf;
  mo += r.marc;
  console.log(`| ${k} | ${r.n} | ${r.buf} | ${r.marc} |`);
}
console.log(
  `| **all** | ${n} of ${total} | ${bo} (${((100 * bo) / n).toFixed(1)}%) | ${mo} (${((100 * mo) / n).toFixed(1)}%) |`,
);
if (process.argv[2]) for (const f of failures[process.argv[2]]) console.log(f);
