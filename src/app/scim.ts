/**
 * SCIM 2.0 provisioning of human principals by an identity provider
 * (docs/access.md "SCIM"; RFC 7644). The IdP authenticates with a principal
 * of its own holding only `scim:provision` on `*`; every change is a
 * principal change through PrincipalService — `principal.create` and
 * `principal.revoke` events in the `system` log whose actor and submitter
 * are the IdP principal — recorded before the response.
 *
 * A SCIM user is a human principal whose id is scimUserId(userName) and
 * whose idpIdentity is the userName (src/core/scim.ts): other principals
 * are invisible here and cannot be changed through SCIM. Deactivation
 * (`active: false`, or DELETE) revokes the principal: its key answers 401
 * from the next request on. Revocation is final, so a deactivated user
 * cannot be re-activated (400 mutability).
 */
import { hasScope, type Principal } from '../core/principal.ts';
import {
  parsePaging,
  parseScimCreate,
  parseScimFilter,
  parseScimPatch,
  ScimError,
  scimList,
  scimUser,
  scimUserId,
} from '../core/scim.ts';
import { AppError } from './errors.ts';
import { actorOf, type PrincipalService } from './principals.ts';

export interface ScimServiceDeps {
  principals: Pick<PrincipalService, 'provisionHuman' | 'peek' | 'revokeAs' | 'reviewSnapshotInput'>;
}

type Json = Record<string, unknown>;

function isScimUser(p: Principal | undefined): p is Principal & { idpIdentity: string } {
  return (
    p !== undefined &&
    p.kind === 'human' &&
    typeof p.idpIdentity === 'string' &&
    scimUserId(p.idpIdentity) === p.id
  );
}

const userOf = (p: Principal & { idpIdentity: string }) => scimUser(p);

export class ScimService {
  readonly #d: ScimServiceDeps;

  constructor(deps: ScimServiceDeps) {
    this.#d = deps;
  }

  /** POST /Users: 201 with the user; 409 uniqueness when the userName is provisioned already. */
  async create(actor: Principal, body: unknown, opts: { requestId?: string } = {}): Promise<Json> {
    this.#require(actor);
    const input = parseScimCreate(body);
    const id = scimUserId(input.userName);
    let created: Principal;
    try {
      created = await this.#d.principals.provisionHuman(
        actor,
        { id, name: input.displayName, idpIdentity: input.userName },
        opts,
      );
    } catch (err) {
      if (err instanceof AppError && err.code === 'CONFLICT')
        throw new ScimError(
          409,
          'uniqueness',
          `userName ${JSON.stringify(input.userName)} is already provisioned`,
        );
      if (err instanceof AppError && err.code === 'BAD_REQUEST')
        throw new ScimError(400, 'invalidValue', err.message);
      throw err;
    }
    // Created inactive: provisioned and deprovisioned in one request, each change recorded.
    if (!input.active) created = await this.#d.principals.revokeAs(actorOf(actor), id, opts);
    return userOf(created as Principal & { idpIdentity: string });
  }

  async get(actor: Principal, id: string): Promise<Json> {
    this.#require(actor);
    return userOf(await this.#user(id));
  }

  /** GET /Users[?filter=userName eq "…"&startIndex=&count=]: a ListResponse in id order. */
  async list(
    actor: Principal,
    q: { filter?: string | undefined; startIndex?: string | undefined; count?: string | undefined },
  ): Promise<Json> {
    this.#require(actor);
    const { startIndex, count } = parsePaging(q.startIndex, q.count);
    if (q.filter !== undefined) {
      const { userName } = parseScimFilter(q.filter);
      const p = await this.#d.principals.peek(scimUserId(userName));
      const hits = isScimUser(p) && p.idpIdentity.toLowerCase() === userName.toLowerCase() ? [userOf(p)] : [];
      return scimList(hits.slice(startIndex - 1, startIndex - 1 + count), hits.length, startIndex);
    }
    const all = (await this.#d.principals.reviewSnapshotInput()).principals
      .filter(isScimUser)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return scimList(all.slice(startIndex - 1, startIndex - 1 + count).map(userOf), all.length, startIndex);
  }

  /** PATCH /Users/{id}: `active` only; false revokes at once. Checked whole before anything is applied. */
  async patch(actor: Principal, id: string, body: unknown, opts: { requestId?: string } = {}): Promise<Json> {
    this.#require(actor);
    const { active } = parseScimPatch(body);
    const user = await this.#user(id);
    if (active === true && user.status !== 'active')
      throw new ScimError(
        400,
        'mutability',
        'a deprovisioned user cannot be re-activated; its revocation is final',
      );
    if (active === false && user.status === 'active')
      return userOf((await this.#d.principals.revokeAs(actorOf(actor), id, opts)) as typeof user);
    return userOf(user);
  }

  /** DELETE /Users/{id}: revokes (principals are never erased: the system log keeps their history). */
  async delete(actor: Principal, id: string, opts: { requestId?: string } = {}): Promise<void> {
    this.#require(actor);
    const user = await this.#user(id);
    if (user.status === 'active') await this.#d.principals.revokeAs(actorOf(actor), id, opts);
  }

  #require(actor: Principal): void {
    if (!hasScope(actor, '*', 'scim:provision'))
      throw new ScimError(403, undefined, `principal ${actor.id} lacks scope scim:provision on log *`);
  }

  async #user(id: string): Promise<Principal & { idpIdentity: string }> {
    const p = typeof id === 'string' ? await this.#d.principals.peek(id) : undefined;
    if (!isScimUser(p))
      throw new ScimError(404, undefined, `no user ${JSON.stringify(String(id).slice(0, 80))}`);
    return p;
  }
}
