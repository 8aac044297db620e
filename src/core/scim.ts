/**
 * SCIM 2.0 service provider, the pure part (docs/access.md "SCIM"): the
 * schemas anchorlog serves, validation of what an identity provider sends —
 * attacker-controlled input, so every function here checks shapes and sizes
 * and throws ScimError, never anything else — filters, PATCH, and the
 * resources anchorlog answers with.
 *
 * RFC 7643 (schema) and RFC 7644 (protocol). Filters are parsed by
 * `scim2-parse-filter` and PATCH operations applied by `scim-patch` (README
 * "Dependency notes"); both run only on copies, and what they produce is
 * validated against the schema below before anything is stored, so a request
 * is refused whole or applied whole.
 */
import { scimPatch } from 'scim-patch';
import { type Filter, parse as parseFilter, Tester } from 'scim2-parse-filter';
import { toHex, utf8 } from './bytes.ts';
import { sha256 } from './hash.ts';

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SCIM_PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SCIM_LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const SCIM_RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCIM_SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

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

/** Most resources in one ListResponse page (advertised as filter.maxResults). */
export const MAX_PAGE = 100;
const MAX_USERNAME = 256;
const MAX_FILTER = 1024;
const MAX_FILTER_NODES = 64;
const MAX_OPERATIONS = 32;
const MAX_STRING = 1024;
const MAX_VALUES = 20;
/** Most members one Group request may name (a bigger group is sent in several PATCHes). */
export const MAX_MEMBERS = 1000;
/** The kept profile (every attribute but userName and active), as JSON. */
const MAX_PROFILE_BYTES = 8192;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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

// ---------------------------------------------------------------------------
// Schemas (RFC 7643 §7): what /Schemas publishes and what every body is checked against

type AttrType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
interface AttrDef {
  readonly name: string;
  readonly type: AttrType;
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly caseExact?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable';
  readonly description: string;
  readonly subAttributes?: readonly AttrDef[];
}

const s = (name: string, description: string, extra: Partial<AttrDef> = {}): AttrDef => ({
  name,
  type: 'string',
  description,
  ...extra,
});
const multi = (name: string, description: string, subs: readonly AttrDef[]): AttrDef => ({
  name,
  type: 'complex',
  multiValued: true,
  description,
  subAttributes: subs,
});
const typed = (...extra: AttrDef[]) => [
  s('value', 'the value'),
  s('display', 'a label'),
  s('type', 'e.g. work, home'),
  { name: 'primary', type: 'boolean', description: 'the preferred value' } as AttrDef,
  ...extra,
];

const USER_ATTRS: readonly AttrDef[] = [
  s(
    'userName',
    'unique login; the principal id is derived from it, so it cannot change (docs/access.md "SCIM")',
    { required: true, mutability: 'immutable' },
  ),
  {
    name: 'name',
    type: 'complex',
    description: 'the parts of the name',
    subAttributes: [
      s('formatted', 'full name'),
      s('familyName', 'family name'),
      s('givenName', 'given name'),
      s('middleName', 'middle name'),
      s('honorificPrefix', 'e.g. Ms.'),
      s('honorificSuffix', 'e.g. III'),
    ],
  },
  s('displayName', 'the principal name (else name.formatted, else given + family name, else userName)'),
  s('nickName', 'casual name'),
  s('title', 'job title'),
  s('userType', 'e.g. Employee, Contractor'),
  s('preferredLanguage', 'e.g. en-US'),
  s('locale', 'e.g. en-US'),
  s('timezone', 'e.g. Europe/Paris'),
  {
    name: 'active',
    type: 'boolean',
    description: 'false revokes the principal and deprovisions what it owns; revocation is final',
  },
  multi('emails', 'email addresses', typed()),
  multi('phoneNumbers', 'phone numbers', typed()),
  multi(
    'addresses',
    'postal addresses',
    typed(
      s('formatted', 'full address'),
      s('streetAddress', 'street'),
      s('locality', 'city'),
      s('region', 'state or region'),
      s('postalCode', 'postal code'),
      s('country', 'country'),
    ),
  ),
  multi('roles', 'IdP roles, kept for reference; anchorlog access comes from Groups only', typed()),
];

const ENTERPRISE_ATTRS: readonly AttrDef[] = [
  s('employeeNumber', 'employee number'),
  s('costCenter', 'cost center'),
  s('organization', 'organization'),
  s('division', 'division'),
  s('department', 'department'),
  {
    name: 'manager',
    type: 'complex',
    description: 'the user’s manager',
    subAttributes: [s('value', 'manager id'), s('displayName', 'manager name'), s('$ref', 'manager URI')],
  },
];

const GROUP_ATTRS: readonly AttrDef[] = [
  s('displayName', 'the anchorlog role this group is (docs/access.md "Groups map to roles")', {
    required: true,
    mutability: 'immutable',
  }),
  multi('members', 'SCIM users holding the role', [
    s('value', 'the member’s id', { mutability: 'immutable' }),
    s('display', 'the member’s name', { mutability: 'readOnly' }),
    s('type', 'User', { mutability: 'immutable' }),
    s('$ref', 'the member’s URI', { mutability: 'immutable' }),
  ]),
];

/** Attributes every resource has (RFC 7643 §3.1), handled outside the schema check. */
const COMMON = new Set(['schemas', 'id', 'externalid', 'meta']);

function find(defs: readonly AttrDef[], name: string): AttrDef | undefined {
  const n = name.toLowerCase();
  return defs.find((d) => d.name.toLowerCase() === n);
}

function text(v: unknown, path: string, max = MAX_STRING): string {
  if (typeof v !== 'string' || v.length > max || CONTROL.test(v))
    throw new ScimError(
      400,
      'invalidValue',
      `${path} must be a string of at most ${max} characters, no control characters`,
    );
  return v;
}

/** Entra ID sends booleans as "True"/"False" strings. */
function bool(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ScimError(400, 'invalidValue', `${path} must be a boolean`);
}

/** One attribute value checked and normalised (canonical attribute names, booleans as booleans). */
function cleanValue(def: AttrDef, v: unknown, path: string, single = false): unknown {
  if (v === null) return undefined; // RFC 7643 §2.5: null is unassigned
  if (def.multiValued && !single) {
    if (!Array.isArray(v)) throw new ScimError(400, 'invalidValue', `${path} must be an array`);
    if (v.length > MAX_VALUES)
      throw new ScimError(400, 'invalidValue', `${path}: at most ${MAX_VALUES} values`);
    return v.map((x, i) => cleanValue(def, x, `${path}[${i}]`, true));
  }
  switch (def.type) {
    case 'boolean':
      return bool(v, path);
    case 'complex': {
      if (!isObject(v)) throw new ScimError(400, 'invalidValue', `${path} must be an object`);
      return cleanObject(v, def.subAttributes ?? [], path);
    }
    default:
      return text(v, path);
  }
}

function cleanObject(
  v: Record<string, unknown>,
  defs: readonly AttrDef[],
  path: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const def = find(defs, k);
    if (!def)
      throw new ScimError(
        400,
        'invalidSyntax',
        `unknown attribute ${path ? `${path}.` : ''}${k.slice(0, 64)}`,
      );
    const c = cleanValue(def, x, path ? `${path}.${def.name}` : def.name);
    if (c !== undefined) out[def.name] = c;
  }
  return out;
}

/** Throws on any key that could reach an object's prototype, anywhere in a value. */
function refuseForbiddenKeys(v: unknown, depth = 0): void {
  if (depth > 8) throw new ScimError(400, 'invalidValue', 'value nested too deeply');
  if (Array.isArray(v)) for (const x of v) refuseForbiddenKeys(x, depth + 1);
  else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(k)) throw new ScimError(400, 'invalidValue', `attribute name ${k} is refused`);
      refuseForbiddenKeys(x, depth + 1);
    }
}

function checkSchemas(body: Record<string, unknown>, core: string, allowed: readonly string[]): void {
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.some((x) => typeof x === 'string' && x === core))
    throw new ScimError(400, 'invalidSyntax', `schemas must include ${core}`);
  for (const x of schemas)
    if (typeof x !== 'string' || !allowed.includes(x))
      throw new ScimError(400, 'invalidSyntax', `unknown schema ${String(x).slice(0, 100)}`);
}

// ---------------------------------------------------------------------------
// Users

/** What anchorlog keeps of a user: userName and active drive the principal, the rest is its profile. */
export interface ScimUserInput {
  readonly userName: string;
  /** The principal name: displayName, else name.formatted, else "givenName familyName", else userName. */
  readonly displayName: string;
  readonly active: boolean;
  /** Every other attribute, validated (canonical names); stored on the principal as `idpProfile`. */
  readonly profile: Record<string, unknown>;
}

/**
 * A User body (POST, PUT, or the result of a PATCH). `id`, `meta` and
 * `groups` are read-only and ignored (RFC 7644 §3.3, §3.5.1), `password`
 * is dropped unread (write-only, unsupported); an attribute
 * outside the schema anchorlog publishes (`/Schemas`) is 400 invalidSyntax,
 * a value of the wrong type 400 invalidValue.
 */
export function parseScimUser(body: unknown): ScimUserInput {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  refuseForbiddenKeys(body);
  checkSchemas(body, SCIM_USER_SCHEMA, [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_SCHEMA]);
  const core: Record<string, unknown> = {};
  const profile: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const lk = k.toLowerCase();
    if (lk === 'externalid') {
      if (v !== null) profile.externalId = text(v, 'externalId', MAX_USERNAME);
    } else if (lk === SCIM_ENTERPRISE_SCHEMA.toLowerCase()) {
      if (v === null) continue;
      if (!isObject(v))
        throw new ScimError(400, 'invalidValue', `${SCIM_ENTERPRISE_SCHEMA} must be an object`);
      const ext = cleanObject(v, ENTERPRISE_ATTRS, SCIM_ENTERPRISE_SCHEMA);
      if (Object.keys(ext).length > 0) profile[SCIM_ENTERPRISE_SCHEMA] = ext;
    } else if (!COMMON.has(lk) && lk !== 'groups' && lk !== 'password') core[k] = v;
    // `password` (Okta sends one when password sync is on) is dropped unread: anchorlog users
    // authenticate with keys, and a secret must never reach the profile or the audit log.
  }
  const attrs = cleanObject(core, USER_ATTRS, '');
  const name = attrs.userName;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_USERNAME)
    throw new ScimError(400, 'invalidValue', `userName must be a string of 1 to ${MAX_USERNAME} characters`);
  const active = attrs.active !== false;
  const n = isObject(attrs.name) ? attrs.name : {};
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const given = [str(n.givenName), str(n.familyName)].filter((x) => x !== undefined).join(' ');
  const display = str(attrs.displayName) ?? str(n.formatted) ?? (given || name.trim());
  if (display.length > 128)
    throw new ScimError(400, 'invalidValue', 'displayName must be at most 128 characters');
  for (const [k, v] of Object.entries(attrs)) if (k !== 'userName' && k !== 'active') profile[k] = v;
  if (utf8(JSON.stringify(profile)).length > MAX_PROFILE_BYTES)
    throw new ScimError(400, 'invalidValue', `the user's attributes exceed ${MAX_PROFILE_BYTES} bytes`);
  return { userName: name.trim(), displayName: display, active, profile };
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
  readonly idpProfile?: Record<string, unknown>;
}

export function scimUser(p: ScimUserSource): Record<string, unknown> {
  const profile = p.idpProfile ?? {};
  return {
    schemas: profile[SCIM_ENTERPRISE_SCHEMA]
      ? [SCIM_USER_SCHEMA, SCIM_ENTERPRISE_SCHEMA]
      : [SCIM_USER_SCHEMA],
    id: p.id,
    ...profile,
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

// ---------------------------------------------------------------------------
// Groups (a group is an anchorlog role; its members are the SCIM users holding it)

export interface ScimGroupInput {
  readonly displayName: string;
  readonly externalId: string | undefined;
  /** Member ids, distinct, in the order given. */
  readonly members: string[];
}

/** A Group body (POST, PUT, or the result of a PATCH); members are `{ value }` objects. */
export function parseScimGroup(body: unknown): ScimGroupInput {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  refuseForbiddenKeys(body);
  checkSchemas(body, SCIM_GROUP_SCHEMA, [SCIM_GROUP_SCHEMA]);
  const core: Record<string, unknown> = {};
  let externalId: string | undefined;
  for (const [k, v] of Object.entries(body)) {
    const lk = k.toLowerCase();
    if (lk === 'externalid') externalId = v === null ? undefined : text(v, 'externalId', MAX_USERNAME);
    else if (!COMMON.has(lk)) core[k] = v;
  }
  if (Array.isArray(core.members) && core.members.length > MAX_MEMBERS)
    throw new ScimError(400, 'tooMany', `at most ${MAX_MEMBERS} members per request`);
  // members may hold up to MAX_MEMBERS values, more than other multi-valued attributes.
  const membersRaw = core.members;
  delete core.members;
  const attrs = cleanObject(core, GROUP_ATTRS, '');
  const displayName = attrs.displayName;
  if (typeof displayName !== 'string' || displayName.trim() === '')
    throw new ScimError(400, 'invalidValue', 'displayName is required');
  const members: string[] = [];
  if (membersRaw !== undefined && membersRaw !== null) {
    if (!Array.isArray(membersRaw)) throw new ScimError(400, 'invalidValue', 'members must be an array');
    const memberDef = GROUP_ATTRS[1] as AttrDef;
    membersRaw.forEach((m, i) => {
      const c = cleanValue(memberDef, m, `members[${i}]`, true) as Record<string, unknown>;
      if (typeof c.value !== 'string' || c.value === '')
        throw new ScimError(400, 'invalidValue', `members[${i}].value is required`);
      if (c.type !== undefined && String(c.type).toLowerCase() !== 'user')
        throw new ScimError(400, 'invalidValue', `members[${i}]: only users can be members`);
      if (!members.includes(c.value)) members.push(c.value);
    });
  }
  return { displayName: displayName.trim(), externalId, members };
}

export interface ScimGroupSource {
  readonly id: string;
  readonly members: ReadonlyArray<{ id: string; name: string }>;
  readonly roleVersion: number;
}

export function scimGroup(g: ScimGroupSource, opts: { members?: boolean } = {}): Record<string, unknown> {
  return {
    schemas: [SCIM_GROUP_SCHEMA],
    id: g.id,
    displayName: g.id,
    ...(opts.members === false
      ? {}
      : {
          members: g.members.map((m) => ({
            value: m.id,
            display: m.name,
            type: 'User',
            $ref: `/scim/v2/Users/${m.id}`,
          })),
        }),
    meta: {
      resourceType: 'Group',
      location: `/scim/v2/Groups/${g.id}`,
      version: `W/"role-${g.roleVersion}"`,
    },
  };
}

// ---------------------------------------------------------------------------
// Filters (RFC 7644 §3.4.2.2)

/** Comparisons on strings are case-insensitive: every string attribute served is caseExact false. */
class CaseInsensitiveTester extends Tester {
  override eq(r: unknown, v: unknown): boolean {
    return typeof r === 'string' && typeof v === 'string' ? r.toLowerCase() === v.toLowerCase() : r === v;
  }
  override ne(r: unknown, v: unknown): boolean {
    return !this.eq(r, v);
  }
  override co(r: unknown, v: unknown): boolean {
    return super.co(low(r), low(v) as Scalar);
  }
  override sw(r: unknown, v: unknown): boolean {
    return super.sw(low(r), low(v) as Scalar);
  }
  override ew(r: unknown, v: unknown): boolean {
    return super.ew(low(r), low(v) as Scalar);
  }
}
type Scalar = string | number | boolean | null;
const low = (x: unknown) => (typeof x === 'string' ? x.toLowerCase() : x);

export type ScimResourceType = 'User' | 'Group';

function knownPath(type: ScimResourceType, path: string): boolean {
  let p = path;
  let defs: readonly AttrDef[] = type === 'User' ? USER_ATTRS : GROUP_ATTRS;
  const ext = SCIM_ENTERPRISE_SCHEMA.toLowerCase();
  const core = (type === 'User' ? SCIM_USER_SCHEMA : SCIM_GROUP_SCHEMA).toLowerCase();
  if (p.toLowerCase().startsWith(`${ext}:`) && type === 'User') {
    defs = ENTERPRISE_ATTRS;
    p = p.slice(ext.length + 1);
  } else if (p.toLowerCase().startsWith(`${core}:`)) p = p.slice(core.length + 1);
  const parts = p.split('.');
  const head = (parts[0] ?? '').toLowerCase();
  if (parts.length === 1 && (head === 'id' || head === 'externalid')) return true;
  if (head === 'meta')
    return (
      parts.length === 1 ||
      ['created', 'location', 'lastmodified', 'resourcetype', 'version'].includes(
        parts[1]?.toLowerCase() ?? '',
      )
    );
  const def = find(defs, parts[0] ?? '');
  if (!def || parts.length > 2) return false;
  if (parts.length === 1) return true;
  return def.subAttributes !== undefined && find(def.subAttributes, parts[1] ?? '') !== undefined;
}

function checkFilter(type: ScimResourceType, f: Filter, count: { n: number }, depth: number): void {
  if (++count.n > MAX_FILTER_NODES || depth > 16)
    throw new ScimError(400, 'invalidFilter', 'the filter is too complex');
  switch (f.op) {
    case 'and':
    case 'or':
      for (const x of f.filters) checkFilter(type, x, count, depth + 1);
      return;
    case 'not':
      checkFilter(type, f.filter, count, depth + 1);
      return;
    case '[]':
      if (!knownPath(type, f.attrPath))
        throw new ScimError(400, 'invalidFilter', `unknown attribute ${f.attrPath.slice(0, 64)}`);
      checkValueFilter(type, f.attrPath, f.valFilter, count, depth + 1);
      return;
    default:
      if (!knownPath(type, f.attrPath))
        throw new ScimError(400, 'invalidFilter', `unknown attribute ${f.attrPath.slice(0, 64)}`);
  }
}

function checkValueFilter(
  type: ScimResourceType,
  parent: string,
  f: Filter,
  count: { n: number },
  depth: number,
): void {
  if (++count.n > MAX_FILTER_NODES || depth > 16)
    throw new ScimError(400, 'invalidFilter', 'the filter is too complex');
  if (f.op === 'and' || f.op === 'or') {
    for (const x of f.filters) checkValueFilter(type, parent, x, count, depth + 1);
  } else if (f.op === 'not') checkValueFilter(type, parent, f.filter, count, depth + 1);
  else if (f.op === '[]') throw new ScimError(400, 'invalidFilter', 'nested value filters are not supported');
  else {
    const attr = (f as { attrPath: string }).attrPath;
    if (!knownPath(type, `${parent}.${attr}`))
      throw new ScimError(400, 'invalidFilter', `unknown attribute ${parent}.${attr.slice(0, 64)}`);
  }
}

/**
 * A filter as a predicate over resources of `type`: `eq ne co sw ew gt ge lt
 * le pr`, `and`, `or`, `not`, parentheses and value filters
 * (`emails[type eq "work"]`), as `scim2-parse-filter` parses them. Attribute
 * names must be in the schema; anything unparsable, unknown or too big is
 * 400 invalidFilter.
 */
export function compileScimFilter(type: ScimResourceType, filter: string): (r: unknown) => boolean {
  if (typeof filter !== 'string' || filter.length > MAX_FILTER)
    throw new ScimError(400, 'invalidFilter', `the filter must be at most ${MAX_FILTER} characters`);
  if (CONTROL.test(filter)) throw new ScimError(400, 'invalidFilter', 'the filter has control characters');
  let ast: Filter;
  try {
    ast = parseFilter(filter);
  } catch (err) {
    throw new ScimError(
      400,
      'invalidFilter',
      `the filter does not parse: ${String((err as Error)?.message).slice(0, 120)}`,
    );
  }
  if (!isObject(ast)) throw new ScimError(400, 'invalidFilter', 'the filter does not parse');
  checkFilter(type, ast, { n: 0 }, 0);
  const tester = new CaseInsensitiveTester();
  return (r) => {
    try {
      return tester.test(r, ast);
    } catch {
      return false;
    }
  };
}

/**
 * §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; count above MAX_PAGE is
 * MAX_PAGE (the service provider may return fewer than asked). Values must
 * be integers.
 */
export function parsePaging(startIndex: string | undefined, count: string | undefined) {
  const int = (name: string, v: string | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!/^[-+]?[0-9]{1,30}$/.test(v)) throw new ScimError(400, 'invalidValue', `${name} must be an integer`);
    return Math.min(Number(v), Number.MAX_SAFE_INTEGER);
  };
  return {
    startIndex: Math.max(1, int('startIndex', startIndex, 1)),
    count: Math.min(MAX_PAGE, Math.max(0, int('count', count, MAX_PAGE))),
  };
}

// ---------------------------------------------------------------------------
// PATCH (RFC 7644 §3.5.2)

const URN_PATH = /^urn:[a-z0-9:._-]+:/i;

/** The attribute a PATCH path starts at must exist in the schema (else 400 invalidPath). */
function checkPatchPath(type: ScimResourceType, path: string, i: number): void {
  if (path.length > 512 || CONTROL.test(path))
    throw new ScimError(400, 'invalidPath', `Operations[${i}].path is malformed`);
  // attr, attr.sub, attr[filter], attr[filter].sub, urn:…:attr(.sub)
  const m = /^((?:urn:[a-z0-9:._-]+:)?[a-z$][a-z0-9$_-]*)(\[(.*)\])?(?:\.([a-z$][a-z0-9$_-]*))?$/is.exec(
    path,
  );
  const simple = /^((?:urn:[a-z0-9:._-]+:)?[a-z$][a-z0-9$_-]*(?:\.[a-z$][a-z0-9$_-]*)?)$/i.exec(path);
  if (simple) {
    if (
      !knownPath(type, path) &&
      !(type === 'User' && path.toLowerCase() === SCIM_ENTERPRISE_SCHEMA.toLowerCase())
    )
      throw new ScimError(400, 'invalidPath', `Operations[${i}]: unknown attribute ${path.slice(0, 100)}`);
    return;
  }
  if (!m) throw new ScimError(400, 'invalidPath', `Operations[${i}].path is malformed`);
  const attr = m[1] as string;
  if (!knownPath(type, attr))
    throw new ScimError(400, 'invalidPath', `Operations[${i}]: unknown attribute ${attr.slice(0, 100)}`);
  if (m[4] !== undefined && !knownPath(type, `${attr}.${m[4]}`))
    throw new ScimError(
      400,
      'invalidPath',
      `Operations[${i}]: unknown attribute ${attr}.${m[4].slice(0, 64)}`,
    );
  try {
    checkValueFilter(type, attr.replace(URN_PATH, ''), parseFilter(m[3] as string), { n: 0 }, 0);
  } catch (err) {
    if (err instanceof ScimError) throw new ScimError(400, 'invalidPath', err.message);
    throw new ScimError(400, 'invalidPath', `Operations[${i}]: the value filter does not parse`);
  }
}

const LIB_SCIM_TYPES: Record<string, ScimType> = {
  invalidSyntax: 'invalidSyntax',
  invalidPath: 'invalidPath',
  noTarget: 'noTarget',
  invalidValue: 'invalidValue',
  mutability: 'mutability',
};

/**
 * Applies a PatchOp body to a copy of `resource` and returns the copy; the
 * caller validates it (parseScimUser / parseScimGroup) and compares what may
 * not change. Accepted shapes include what Okta and Entra ID send: `op` in
 * any case (`Replace`), no-path value objects (`{ "active": false }`, Entra's
 * `{ "name.givenName": "…" }` keys), value-filter paths
 * (`emails[type eq "work"].value`), `remove` with a value (Entra's member
 * removal) and the string booleans "True"/"False".
 */
export function applyScimPatch(
  type: ScimResourceType,
  resource: Record<string, unknown>,
  body: unknown,
): Record<string, unknown> {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'the body must be a JSON object');
  if (!Array.isArray(body.schemas) || !body.schemas.includes(SCIM_PATCH_SCHEMA))
    throw new ScimError(400, 'invalidSyntax', `schemas must include ${SCIM_PATCH_SCHEMA}`);
  const ops = body.Operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new ScimError(400, 'invalidSyntax', 'Operations must be a non-empty array');
  if (ops.length > MAX_OPERATIONS)
    throw new ScimError(400, 'tooMany', `at most ${MAX_OPERATIONS} operations per request`);
  refuseForbiddenKeys(ops);
  const normalised = ops.flatMap((op, i): Array<{ op: string; path?: string; value?: unknown }> => {
    if (!isObject(op)) throw new ScimError(400, 'invalidSyntax', `Operations[${i}] must be an object`);
    const kind = typeof op.op === 'string' ? op.op.toLowerCase() : '';
    if (kind !== 'add' && kind !== 'replace' && kind !== 'remove')
      throw new ScimError(400, 'invalidSyntax', `Operations[${i}].op must be add, replace or remove`);
    for (const k of Object.keys(op))
      if (k !== 'op' && k !== 'path' && k !== 'value')
        throw new ScimError(400, 'invalidSyntax', `Operations[${i}]: unknown member ${k.slice(0, 64)}`);
    if (op.path !== undefined) {
      if (typeof op.path !== 'string' || op.path === '')
        throw new ScimError(400, 'invalidPath', `Operations[${i}].path must be a string`);
      checkPatchPath(type, op.path, i);
    } else if (kind === 'remove') {
      throw new ScimError(400, 'noTarget', `Operations[${i}]: remove needs a path`);
    } else {
      if (!isObject(op.value))
        throw new ScimError(
          400,
          'invalidValue',
          `Operations[${i}].value must be an object when there is no path`,
        );
      for (const k of Object.keys(op.value)) {
        const lk = k.toLowerCase();
        if (COMMON.has(lk) || (type === 'User' && lk === SCIM_ENTERPRISE_SCHEMA.toLowerCase())) continue;
        if (lk === 'groups' || lk === 'password') continue; // refused by the resource check
        checkPatchPath(type, k, i);
      }
    }
    if (kind !== 'remove' && !('value' in op))
      throw new ScimError(400, 'invalidValue', `Operations[${i}] needs a value`);
    // Entra ID removes members with a value list; as value-filter removes they match by id
    // alone (the members held carry display, type and $ref too, which a whole-value match misses).
    if (
      kind === 'remove' &&
      type === 'Group' &&
      typeof op.path === 'string' &&
      op.path.toLowerCase() === 'members' &&
      op.value !== undefined
    ) {
      if (!Array.isArray(op.value) || op.value.length > MAX_MEMBERS)
        throw new ScimError(400, 'invalidValue', `Operations[${i}].value must be an array of members`);
      return op.value.map((m, j) => {
        if (
          !isObject(m) ||
          typeof m.value !== 'string' ||
          m.value.length > MAX_STRING ||
          CONTROL.test(m.value)
        )
          throw new ScimError(400, 'invalidValue', `Operations[${i}].value[${j}].value must be a member id`);
        return { op: 'remove', path: `members[value eq ${JSON.stringify(m.value)}]` };
      });
    }
    return [
      {
        op: kind,
        ...(op.path !== undefined ? { path: op.path } : {}),
        ...('value' in op ? { value: op.value } : {}),
      },
    ];
  });
  let out: Record<string, unknown>;
  try {
    out = scimPatch(structuredClone(resource) as never, normalised as never, {
      mutateDocument: false,
      treatMissingAsAdd: true,
    }) as unknown as Record<string, unknown>;
  } catch (err) {
    const code = (err as { scimCode?: unknown })?.scimCode;
    const scimType = typeof code === 'string' ? LIB_SCIM_TYPES[code] : undefined;
    throw new ScimError(
      400,
      scimType ?? 'invalidValue',
      `the patch cannot be applied: ${String((err as Error)?.message ?? err).slice(0, 200)}`,
    );
  }
  if (!isObject(out)) throw new ScimError(400, 'invalidValue', 'the patch cannot be applied');
  return out;
}

/** RFC 7644 §3.5.2: attributes a PATCH may not change (same value is fine: Okta repeats `id`). */
export function checkImmutable(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  names: readonly string[],
): void {
  for (const n of names) {
    const a = JSON.stringify(after[n]);
    const b = JSON.stringify(before[n]);
    const same =
      n === 'userName' || n === 'displayName'
        ? typeof after[n] === 'string' && String(after[n]).toLowerCase() === String(before[n]).toLowerCase()
        : a === b;
    if (!same) throw new ScimError(400, 'mutability', `${n} cannot be changed`);
  }
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

// ---------------------------------------------------------------------------
// Discovery (RFC 7644 §4)

export function serviceProviderConfig(): Record<string, unknown> {
  return {
    schemas: [SCIM_SPC_SCHEMA],
    documentationUri: 'docs/access.md#scim',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_PAGE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer API key',
        description: 'an anchorlog API key holding only scim:provision on *',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: '/scim/v2/ServiceProviderConfig' },
  };
}

export function resourceTypes(): Record<string, unknown>[] {
  return [
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'a human principal provisioned by the identity provider',
      schema: SCIM_USER_SCHEMA,
      schemaExtensions: [{ schema: SCIM_ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: '/scim/v2/ResourceTypes/User' },
    },
    {
      schemas: [SCIM_RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'an anchorlog role; its members are the SCIM users holding it',
      schema: SCIM_GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: '/scim/v2/ResourceTypes/Group' },
    },
  ];
}

function attrDoc(d: AttrDef): Record<string, unknown> {
  return {
    name: d.name,
    type: d.type,
    multiValued: d.multiValued ?? false,
    description: d.description,
    required: d.required ?? false,
    ...(d.type === 'string' ? { caseExact: d.caseExact ?? false } : {}),
    mutability: d.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: d.name === 'userName' ? 'server' : 'none',
    ...(d.subAttributes ? { subAttributes: d.subAttributes.map(attrDoc) } : {}),
  };
}

export function scimSchemas(): Record<string, unknown>[] {
  const schema = (id: string, name: string, description: string, attrs: readonly AttrDef[]) => ({
    schemas: [SCIM_SCHEMA_SCHEMA],
    id,
    name,
    description,
    attributes: attrs.map(attrDoc),
    meta: { resourceType: 'Schema', location: `/scim/v2/Schemas/${id}` },
  });
  return [
    schema(SCIM_USER_SCHEMA, 'User', 'a human principal', USER_ATTRS),
    schema(SCIM_ENTERPRISE_SCHEMA, 'EnterpriseUser', 'kept for reviewers; grants nothing', ENTERPRISE_ATTRS),
    schema(SCIM_GROUP_SCHEMA, 'Group', 'an anchorlog role', GROUP_ATTRS),
  ];
}
