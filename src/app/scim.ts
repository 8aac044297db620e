/**
 * SCIM 2.0 service provider (docs/access.md "SCIM"; RFC 7643/7644): an
 * identity provider holding only `scim:provision` on `*` provisions human
 * principals (Users) and their role memberships (Groups). Every change is a
 * principal change through PrincipalService, recorded in the `system` log
 * with the IdP principal as actor and submitter before the response.
 *
 * Users. A SCIM user is a human principal whose id is scimUserId(userName)
 * and whose idpIdentity is the userName; other principals are invisible
 * here and cannot be changed through SCIM. A user deleted through SCIM is
 * revoked and marked `idpDeletedAt`, then answers 404 (its history stays).
 *
 * Groups. A group is an anchorlog role: the group named `auditors` (its
 * displayName, else its externalId, lower-cased) is the role `auditors`,
 * and its members are the SCIM users holding that role. The IdP cannot
 * create roles (they are declared by admins, `anchorlog roles apply`), so a
 * group naming no role is 400 invalidValue; and it cannot give privileged
 * roles — any granting `admin`, `scim:provision` or `access:review` — which
 * are invisible here (404). Membership changes are `principal.roles.update`
 * events, one per member changed.
 *
 * Deprovisioning (`active: false`, PUT or PATCH, or DELETE) revokes the
 * human's key and, in the same request, flags or revokes (config
 * `scimOwnedPrincipals`) every active agent and application it owns.
 *
 * Invariant: a request is refused whole or applied whole. Everything the
 * IdP sent is validated, and every write planned, before the first write.
 * Writes are per principal (each its own recorded change); if one of them
 * fails on the store or the audit log (a 5xx), the IdP retries, and every
 * step is idempotent — setting roles to what they are, revoking the revoked,
 * flagging the flagged record nothing — and deprovisioning re-runs its
 * cascade on a user already revoked, so the retry completes the request.
 */
import { hasScope, type Principal } from '../core/principal.ts';
import type { Role } from '../core/role.ts';
import {
  applyScimPatch,
  checkImmutable,
  compileScimFilter,
  parsePaging,
  parseScimGroup,
  parseScimUser,
  resourceTypes,
  ScimError,
  type ScimUserInput,
  scimGroup,
  scimList,
  scimSchemas,
  scimUser,
  scimUserId,
  serviceProviderConfig,
} from '../core/scim.ts';
import { AppError } from './errors.ts';
import { actorOf, type ChangeOptions, type PrincipalService } from './principals.ts';

export interface ScimServiceDeps {
  principals: Pick<
    PrincipalService,
    | 'provisionHuman'
    | 'peek'
    | 'reviewSnapshotInput'
    | 'scimUpdateAs'
    | 'revokeAs'
    | 'setRolesAs'
    | 'flagOwnerDeprovisionedAs'
  >;
  /** What deprovisioning a human does to the agents and applications it owns (config). Default `flag`. */
  ownedPrincipals?: 'flag' | 'disable';
}

type Json = Record<string, unknown>;
type ScimUser = Principal & { idpIdentity: string };
interface GroupsContext {
  users: ScimUser[];
  groups: Array<{ id: string; roleVersion: number; members: Array<{ id: string; name: string }> }>;
}
type Query = {
  filter?: string | undefined;
  startIndex?: string | undefined;
  count?: string | undefined;
  excludedAttributes?: string | undefined;
};

/** Scopes the identity provider may never hand out through a group. */
const PRIVILEGED = ['admin', 'scim:provision', 'access:review'];

function isScimUser(p: Principal | undefined): p is ScimUser {
  return (
    p !== undefined &&
    p.kind === 'human' &&
    typeof p.idpIdentity === 'string' &&
    scimUserId(p.idpIdentity) === p.id &&
    p.idpDeletedAt === undefined
  );
}

function mappable(role: Role): boolean {
  return !Object.values(role.scopes).some((list) => list.some((x) => PRIVILEGED.includes(x)));
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function page<T>(all: readonly T[], q: Query): { items: T[]; total: number; startIndex: number } {
  const { startIndex, count } = parsePaging(q.startIndex, q.count);
  return { items: all.slice(startIndex - 1, startIndex - 1 + count), total: all.length, startIndex };
}

export class ScimService {
  readonly #d: ScimServiceDeps;
  readonly #policy: 'flag' | 'disable';

  constructor(deps: ScimServiceDeps) {
    this.#d = deps;
    this.#policy = deps.ownedPrincipals ?? 'flag';
  }

  // -------------------------------------------------------------------------
  // Users

  /** POST /Users: 201 with the user; 409 uniqueness when the userName is provisioned already. */
  async create(actor: Principal, body: unknown, opts: { requestId?: string } = {}): Promise<Json> {
    this.#require(actor);
    const input = parseScimUser(body);
    const id = scimUserId(input.userName);
    let created: Principal;
    try {
      created = await this.#d.principals.provisionHuman(
        actor,
        { id, name: input.displayName, idpIdentity: input.userName, idpProfile: input.profile },
        opts,
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new ScimError(
          409,
          'uniqueness',
          `userName ${JSON.stringify(input.userName)} is already provisioned (a deprovisioned userName cannot be reused: revocation is final)`,
        );
      if (err instanceof AppError && err.code === 'BAD_REQUEST')
        throw new ScimError(400, 'invalidValue', err.message);
      throw err;
    }
    // Created inactive: provisioned and deprovisioned in one request, each change recorded.
    if (!input.active) created = await this.#deprovision(actor, created as ScimUser, input, false, opts);
    return scimUser(created as ScimUser);
  }

  async get(actor: Principal, id: string): Promise<Json> {
    this.#require(actor);
    return scimUser(await this.#user(id));
  }

  /** GET /Users[?filter=…&startIndex=&count=]: a ListResponse in id order. */
  async list(actor: Principal, q: Query): Promise<Json> {
    this.#require(actor);
    const match = q.filter !== undefined ? compileScimFilter('User', q.filter) : () => true;
    parsePaging(q.startIndex, q.count); // refuse bad paging before reading anything
    const all = (await this.#d.principals.reviewSnapshotInput()).principals
      .filter(isScimUser)
      .sort(byId)
      .map(scimUser)
      .filter(match);
    const { items, total, startIndex } = page(all, q);
    return scimList(items, total, startIndex);
  }

  /** PUT /Users/{id}: replaces every attribute (userName must stay; re-activation refused). */
  async replace(actor: Principal, id: string, body: unknown, opts: ChangeOptions = {}): Promise<Json> {
    this.#require(actor);
    const user = await this.#user(id);
    const input = parseScimUser(body);
    checkImmutable({ userName: user.idpIdentity }, { userName: input.userName }, ['userName']);
    return scimUser((await this.#apply(actor, user, input, opts)) as ScimUser);
  }

  /** PATCH /Users/{id}: applied to the current resource, the result validated whole, then stored. */
  async patch(actor: Principal, id: string, body: unknown, opts: ChangeOptions = {}): Promise<Json> {
    this.#require(actor);
    const user = await this.#user(id);
    const before = scimUser(user);
    const after = applyScimPatch('User', before, body);
    checkImmutable(before, after, ['id', 'meta', 'userName', 'groups']);
    return scimUser((await this.#apply(actor, user, parseScimUser(after), opts)) as ScimUser);
  }

  /** DELETE /Users/{id}: revokes and deprovisions; the user then answers 404 (its history stays). */
  async delete(actor: Principal, id: string, opts: ChangeOptions = {}): Promise<void> {
    this.#require(actor);
    const user = await this.#user(id);
    const input: ScimUserInput = {
      userName: user.idpIdentity,
      displayName: user.name,
      active: false,
      profile: user.idpProfile ?? {},
    };
    await this.#deprovision(actor, user, input, true, opts);
  }

  async #apply(actor: Principal, user: ScimUser, input: ScimUserInput, opts: ChangeOptions) {
    if (input.active && user.status !== 'active')
      throw new ScimError(
        400,
        'mutability',
        'a deprovisioned user cannot be re-activated; its revocation is final',
      );
    if (!input.active) return this.#deprovision(actor, user, input, false, opts);
    return this.#d.principals.scimUpdateAs(
      actorOf(actor),
      user.id,
      { name: input.displayName, idpProfile: input.profile, deactivate: false, deleted: false },
      opts,
    );
  }

  /**
   * Revokes the user (with its latest attributes) and deals with what it
   * owns per policy. Re-run on a user already revoked, it completes a
   * cascade an earlier request left unfinished.
   */
  async #deprovision(
    actor: Principal,
    user: ScimUser,
    input: ScimUserInput,
    deleted: boolean,
    opts: ChangeOptions,
  ): Promise<Principal> {
    const { principals } = await this.#d.principals.reviewSnapshotInput();
    const owned = principals
      .filter((p) => p.owner === user.id && p.kind !== 'human' && p.status === 'active')
      .filter((p) => this.#policy === 'disable' || p.ownerDeprovisionedAt === undefined)
      .sort(byId);
    const who = actorOf(actor);
    const after = await this.#d.principals.scimUpdateAs(
      who,
      user.id,
      { name: input.displayName, idpProfile: input.profile, deactivate: true, deleted },
      opts,
    );
    for (const p of owned) {
      if (this.#policy === 'disable') await this.#d.principals.revokeAs(who, p.id, opts);
      else await this.#d.principals.flagOwnerDeprovisionedAs(who, p.id, opts);
    }
    return after;
  }

  // -------------------------------------------------------------------------
  // Groups

  async getGroup(actor: Principal, id: string, q: Query = {}): Promise<Json> {
    this.#require(actor);
    const { groups } = await this.#groups();
    const g = groups.find((x) => x.id === id);
    if (!g) throw new ScimError(404, undefined, `no group ${JSON.stringify(String(id).slice(0, 80))}`);
    return scimGroup(g, { members: !excludesMembers(q) });
  }

  async listGroups(actor: Principal, q: Query): Promise<Json> {
    this.#require(actor);
    const match = q.filter !== undefined ? compileScimFilter('Group', q.filter) : () => true;
    parsePaging(q.startIndex, q.count);
    const { groups } = await this.#groups();
    const members = !excludesMembers(q);
    const all = groups.filter((g) => match(scimGroup(g))).map((g) => scimGroup(g, { members }));
    const { items, total, startIndex } = page(all, q);
    return scimList(items, total, startIndex);
  }

  /**
   * POST /Groups: links the group to the role its displayName (else
   * externalId) names and makes its SCIM members exactly those given. 201.
   */
  async createGroup(actor: Principal, body: unknown, opts: ChangeOptions = {}): Promise<Json> {
    this.#require(actor);
    const input = parseScimGroup(body);
    const ctx = await this.#groups();
    const roleId = [input.displayName, input.externalId]
      .filter((x): x is string => x !== undefined)
      .map((x) => x.trim().toLowerCase())
      .find((x) => ctx.groups.some((g) => g.id === x));
    if (roleId === undefined)
      throw new ScimError(
        400,
        'invalidValue',
        `no role named ${JSON.stringify(input.displayName.slice(0, 80))} that the identity provider may assign; ` +
          'declare it first (anchorlog roles apply) — groups map to existing roles (docs/access.md "Groups map to roles")',
      );
    return this.#setMembers(actor, roleId, input.members, ctx, opts);
  }

  async replaceGroup(actor: Principal, id: string, body: unknown, opts: ChangeOptions = {}): Promise<Json> {
    this.#require(actor);
    const ctx = await this.#groups();
    const g = ctx.groups.find((x) => x.id === id);
    if (!g) throw new ScimError(404, undefined, `no group ${JSON.stringify(String(id).slice(0, 80))}`);
    const input = parseScimGroup(body);
    checkImmutable({ displayName: g.id }, { displayName: input.displayName }, ['displayName']);
    return this.#setMembers(actor, g.id, input.members, ctx, opts);
  }

  /** PATCH /Groups/{id}: members add / remove / replace (Okta and Entra ID shapes); displayName stays. */
  async patchGroup(actor: Principal, id: string, body: unknown, opts: ChangeOptions = {}): Promise<Json> {
    this.#require(actor);
    const ctx = await this.#groups();
    const g = ctx.groups.find((x) => x.id === id);
    if (!g) throw new ScimError(404, undefined, `no group ${JSON.stringify(String(id).slice(0, 80))}`);
    const before = scimGroup(g);
    const after = applyScimPatch('Group', before, body);
    checkImmutable(before, after, ['id', 'meta', 'displayName']);
    const input = parseScimGroup(after);
    return this.#setMembers(actor, g.id, input.members, ctx, opts);
  }

  /** DELETE /Groups/{id}: every SCIM member loses the role (the role itself stays: admins declare roles). */
  async deleteGroup(actor: Principal, id: string, opts: ChangeOptions = {}): Promise<void> {
    this.#require(actor);
    const ctx = await this.#groups();
    if (!ctx.groups.some((x) => x.id === id))
      throw new ScimError(404, undefined, `no group ${JSON.stringify(String(id).slice(0, 80))}`);
    await this.#setMembers(actor, id, [], ctx, opts);
  }

  /**
   * Makes the SCIM users holding `roleId` exactly `memberIds`. Every member
   * is checked (an active SCIM user, room for one more role) before the
   * first write.
   */
  async #setMembers(
    actor: Principal,
    roleId: string,
    memberIds: readonly string[],
    ctx: GroupsContext,
    opts: ChangeOptions,
  ): Promise<Json> {
    const users = new Map(ctx.users.map((u) => [u.id, u]));
    const plan: Array<{ id: string; roles: string[] }> = [];
    for (const m of memberIds) {
      const u = users.get(m);
      if (u?.status !== 'active')
        throw new ScimError(
          400,
          'invalidValue',
          `member ${JSON.stringify(m.slice(0, 80))} is not an active user provisioned through SCIM`,
        );
      const roles = u.roles ?? [];
      if (!roles.includes(roleId)) plan.push({ id: u.id, roles: [...roles, roleId].sort() });
    }
    for (const u of ctx.users)
      if (u.status === 'active' && (u.roles ?? []).includes(roleId) && !memberIds.includes(u.id))
        plan.push({ id: u.id, roles: (u.roles ?? []).filter((r) => r !== roleId) });
    for (const p of plan)
      if (p.roles.length > 16)
        throw new ScimError(400, 'invalidValue', `user ${p.id} would hold more than 16 roles`);
    const who = actorOf(actor);
    for (const p of plan) await this.#d.principals.setRolesAs(who, p.id, p.roles, opts);
    const members = ctx.users
      .filter((u) => memberIds.includes(u.id))
      .map((u) => ({ id: u.id, name: u.name }))
      .sort(byId);
    const role = ctx.groups.find((g) => g.id === roleId);
    return scimGroup({ id: roleId, members, roleVersion: role?.roleVersion ?? 0 });
  }

  /** Every group the IdP may manage, with its active SCIM members, and every SCIM user. */
  async #groups(): Promise<GroupsContext> {
    const { principals, roles } = await this.#d.principals.reviewSnapshotInput();
    const users = principals.filter(isScimUser).sort(byId);
    const groups = [...roles.values()]
      .filter(mappable)
      .sort(byId)
      .map((r) => ({
        id: r.id,
        roleVersion: r.version,
        members: users
          .filter((u) => u.status === 'active' && (u.roles ?? []).includes(r.id))
          .map((u) => ({ id: u.id, name: u.name })),
      }));
    return { users, groups };
  }

  // -------------------------------------------------------------------------
  // Discovery (RFC 7644 §4)

  serviceProviderConfig(actor: Principal): Json {
    this.#require(actor);
    return serviceProviderConfig();
  }

  resourceTypes(actor: Principal, id?: string): Json {
    this.#require(actor);
    const all = resourceTypes();
    if (id === undefined) return scimList(all, all.length, 1);
    const one = all.find((r) => r.id === id);
    if (!one) throw new ScimError(404, undefined, `no resource type ${JSON.stringify(id.slice(0, 80))}`);
    return one;
  }

  schemas(actor: Principal, id?: string): Json {
    this.#require(actor);
    const all = scimSchemas();
    if (id === undefined) return scimList(all, all.length, 1);
    const one = all.find((r) => r.id === id);
    if (!one) throw new ScimError(404, undefined, `no schema ${JSON.stringify(id.slice(0, 120))}`);
    return one;
  }

  #require(actor: Principal): void {
    if (!hasScope(actor, '*', 'scim:provision'))
      throw new ScimError(403, undefined, `principal ${actor.id} lacks scope scim:provision on log *`);
  }

  async #user(id: string): Promise<ScimUser> {
    const p = typeof id === 'string' ? await this.#d.principals.peek(id) : undefined;
    if (!isScimUser(p))
      throw new ScimError(404, undefined, `no user ${JSON.stringify(String(id).slice(0, 80))}`);
    return p;
  }
}

function excludesMembers(q: Query): boolean {
  return (q.excludedAttributes ?? '').split(',').some((a) => a.trim().toLowerCase() === 'members');
}
