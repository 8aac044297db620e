/**
 * SCIM 2.0 Users, the subset anchorlog serves (docs/access.md "SCIM"). Pure:
 * parsing of what an identity provider sends — attacker-controlled input, so
 * every function here checks shapes and sizes and throws ScimError, never
 * anything else — and the User resource anchorlog answers with.
 *
 * RFC 7643 (schema) and RFC 7644 (protocol). Served: create (§3.3), get
 * (§3.4.1), list with the filter `userName eq "…"` and pagination (§3.4.2),
 * PATCH of `active` in the shapes Okta and Entra ID send (§3.5.2), DELETE
 * (§3.6). Not served (an error, never a silent partial): other filters, PUT,
 * Groups, and changes to anything but `active`.
 */
import { toHex, utf8 } from './bytes.ts';
import { sha256 } from './hash.ts';

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12 Table 9 (the ones used here). */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue';

/** An error with its HTTP status and, for 400/409, its RFC 7644 `scimType`. */
export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  constructor(status: number, scimType: ScimType | undefined, detail: string) {
    super(detail);
    this.status = status;
    this.scimType = scimType;
  }
}

/** The RFC 7644 §3.12 error body. */
export function scimErrorBody(err: ScimError): Record<string, unknown> {
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(err.status),
    ...(err.scimType ? { scimType: err.scimType } : {}),
    detail: err.message,
  };
}

export const MAX_PAGE = 100;
const MAX_USERNAME = 256;
const MAX_FILTER = 1024;
const MAX_OPERATIONS = 32;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The principal id of the user with this userName: `p_` and 32 hex digits of
 * SHA-256("scim-user:" + lower-cased userName). userName is case-insensitive
 * (RFC 7643 §4.1.1, caseExact false), so two spellings are one user; and
 * creation is create-only on the id, so of two concurrent creates of one
 * userName exactly one succeeds (409 uniqueness for the other).
 */
export function scimUserId(userName: string): string {
  return `p_${toHex(sha256(utf8(`scim-user:${userName.toLowerCase()}`))).slice(0, 32)}`;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function userName(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_USERNAME || CONTROL.test(v))
    throw new ScimError(400, 'invalidValue', `userName must be a string of 1 to ${MAX_USERNAME} characters`);
  return v.trim();
}

export interface ScimCreate {
  readonly userName: string;
  /** displayName, else name.formatted, else "givenName familyName", else userName. */
  readonly displayName: string;
  readonly active: boolean;
}

/**
 * A POST /Users body. Attributes anchorlog does not keep (emails, externalId,
 * locale, …) are accepted and ignored, as IdPs send them; `id` and `meta`
 * from the client are ignored (§3.3: the service provider assigns them).
 */
export function parseScimCreate(body: unknown): ScimCreate {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_USER_SCHEMA))
    throw new ScimError(400, 'invalidSyntax', `schemas must include ${SCIM_USER_SCHEMA}`);
  const name = userName(body.userName);
  const n = isObject(body.name) ? body.name : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const given = [str(n.givenName), str(n.familyName)].filter((x) => x !== undefined).join(' ');
  const display = str(body.displayName) ?? str(n.formatted) ?? (given || name);
  if (display.length > 256 || CONTROL.test(display))
    throw new ScimError(
      400,
      'invalidValue',
      'displayName must be at most 256 characters, no control characters',
    );
  if (body.active !== undefined && typeof body.active !== 'boolean')
    throw new ScimError(400, 'invalidValue', 'active must be a boolean');
  return { userName: name, displayName: display, active: body.active !== false };
}

/** `userName eq "…"` (attribute and operator case-insensitive, §3.4.2.2); anything else is invalidFilter. */
export function parseScimFilter(filter: string): { userName: string } {
  if (filter.length > MAX_FILTER) throw new ScimError(400, 'invalidFilter', 'the filter is too long');
  const m = /^\s*userName\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i.exec(filter);
  if (!m) throw new ScimError(400, 'invalidFilter', 'only the filter userName eq "<value>" is supported');
  let value: unknown;
  try {
    value = JSON.parse(m[1] as string);
  } catch {
    throw new ScimError(400, 'invalidFilter', 'the filter value is not a valid string');
  }
  if (typeof value !== 'string' || value.length > MAX_USERNAME)
    throw new ScimError(400, 'invalidFilter', 'the filter value is not a userName');
  return { userName: value };
}

/** §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; count is capped at MAX_PAGE. */
export function parsePaging(startIndex: string | undefined, count: string | undefined) {
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!/^-?[0-9]{1,9}$/.test(v)) throw new ScimError(400, 'invalidValue', `${name} must be an integer`);
    return Number(v);
  };
  return {
    startIndex: Math.max(1, int('startIndex', startIndex, 1)),
    count: Math.min(MAX_PAGE, Math.max(0, int('count', count, MAX_PAGE))),
  };
}

/** Entra ID sends booleans as "True"/"False" strings in PATCH values. */
function bool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ScimError(400, 'invalidValue', 'active must be a boolean');
}

/**
 * A PATCH body (§3.5.2) reduced to what it does to `active`: the last value
 * set, or undefined when it does not touch it. The whole body is checked
 * before anything is applied, so a request with one bad operation changes
 * nothing. Accepted shapes (Okta, Entra ID): `{ op: "replace", value: {
 * active: false } }`, `{ op: "Replace", path: "active", value: "False" }`,
 * `add` alike. Anything else — another path, remove, an unknown op — is an
 * error naming it.
 */
export function parseScimPatch(body: unknown): { active: boolean | undefined } {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCIM_PATCH_SCHEMA))
    throw new ScimError(400, 'invalidSyntax', `schemas must include ${SCIM_PATCH_SCHEMA}`);
  const ops = body.Operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimError(400, 'invalidSyntax', 'Operations must be a non-empty array');
  if (ops.length > MAX_OPERATIONS)
    throw new ScimError(400, 'tooMany', `at most ${MAX_OPERATIONS} operations per request`);
  let active: boolean | undefined;
  ops.forEach((op, i) => {
    if (!isObject(op)) throw new ScimError(400, 'invalidSyntax', `Operations[${i}] must be an object`);
    const kind = typeof op.op === 'string' ? op.op.toLowerCase() : '';
    if (kind === 'remove')
      throw new ScimError(400, 'mutability', `Operations[${i}]: remove is not supported here`);
    if (kind !== 'replace' && kind !== 'add')
      throw new ScimError(400, 'invalidSyntax', `Operations[${i}].op must be add, replace or remove`);
    if (op.path !== undefined) {
      if (typeof op.path !== 'string' || op.path.toLowerCase() !== 'active')
        throw new ScimError(400, 'mutability', `Operations[${i}]: only active can be changed here`);
      active = bool(op.value);
      return;
    }
    if (!isObject(op.value))
      throw new ScimError(400, 'invalidValue', `Operations[${i}].value must be an object without a path`);
    for (const [k, v] of Object.entries(op.value)) {
      if (k.toLowerCase() !== 'active')
        throw new ScimError(
          400,
          'mutability',
          `Operations[${i}]: only active can be changed here, not ${k.slice(0, 64)}`,
        );
      active = bool(v);
    }
  });
  return { active };
}

/** What a User resource is made from (a human principal provisioned through SCIM). */
export interface ScimUserSource {
  readonly id: string;
  readonly idpIdentity: string;
  readonly name: string;
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export function scimUser(p: ScimUserSource): Record<string, unknown> {
  return {
    schemas: [SCIM_USER_SCHEMA],
    id: p.id,
    userName: p.idpIdentity,
    displayName: p.name,
    active: p.status === 'active',
    meta: {
      resourceType: 'User',
      created: p.createdAt,
      lastModified: p.updatedAt,
      location: `/scim/v2/Users/${p.id}`,
      version: `W/"${p.version}"`,
    },
  };
}

export function scimList(
  resources: readonly Record<string, unknown>[],
  total: number,
  startIndex: number,
): Record<string, unknown> {
  return {
    schemas: [SCIM_LIST_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
