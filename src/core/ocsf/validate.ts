/**
 * Checks an OCSF event against the JSON Schema derived from OCSF 1.1.0
 * (./schema-1.1.0.json, made by scripts/ocsf-schema.py from the ocsf-schema
 * repository at tag v1.1.0; docs/ocsf.md §Validation). Used by the tests on
 * every event the mapper emits, and by the Security Lake writer before it
 * writes a file (a file Security Lake cannot read is worse than none).
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import schema from './schema-1.1.0.json' with { type: 'json' };

export interface OcsfProblem {
  readonly path: string;
  readonly message: string;
}

const doc = schema as unknown as {
  version: string;
  classes: Record<string, Record<string, unknown>>;
  $defs: Record<string, unknown>;
};

/** The OCSF version the schema was derived from. */
export const OCSF_SCHEMA_VERSION: string = doc.version;

let ajv: Ajv2020 | undefined;
const compiled = new Map<number, ValidateFunction>();

function validator(classUid: number): ValidateFunction | undefined {
  const hit = compiled.get(classUid);
  if (hit) return hit;
  const cls = doc.classes[String(classUid)];
  if (!cls) return undefined;
  ajv ??= new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  const fn = ajv.compile({ ...cls, $defs: doc.$defs });
  compiled.set(classUid, fn);
  return fn;
}

/** Problems with `event` under its class's schema; empty when it conforms. */
export function ocsfProblems(event: unknown): OcsfProblem[] {
  const uid = (event as { class_uid?: unknown } | null)?.class_uid;
  if (typeof uid !== 'number') return [{ path: '/class_uid', message: 'class_uid must be a number' }];
  const fn = validator(uid);
  if (!fn) return [{ path: '/class_uid', message: `no OCSF ${OCSF_SCHEMA_VERSION} schema for class ${uid}` }];
  if (fn(event)) {
    // OCSF defines type_uid as class_uid * 100 + activity_id; a schema enum cannot tie the two.
    const e = event as { activity_id: number; type_uid: number };
    return e.type_uid === uid * 100 + e.activity_id
      ? []
      : [
          {
            path: '/type_uid',
            message: `type_uid must be class_uid * 100 + activity_id (${uid * 100 + e.activity_id})`,
          },
        ];
  }
  return (fn.errors ?? []).slice(0, 20).map((e) => ({
    path: e.instancePath || '/',
    message: `${e.message ?? 'invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  }));
}
