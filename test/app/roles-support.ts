/**
 * Roles and principals on the in-memory adapters (./admin-harness.ts plus a
 * RoleService over MemoryRoleStore), for the HTTP and CLI tests: the same
 * services as deployed, audited into an in-memory `system` log.
 */
import { MemoryRoleStore } from '../../src/adapters/memory/role-store.ts';
import { PrincipalService } from '../../src/app/principals.ts';
import { RoleService } from '../../src/app/roles.ts';
import type { KeyAgeLimits, Principal } from '../../src/core/principal.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { type AdminEnv, adminEnv } from './admin-harness.ts';

export interface RolesEnv extends AdminEnv {
  roleStore: MemoryRoleStore;
  roles: RoleService;
  /** PrincipalService with roles and key expiry. */
  access: PrincipalService;
  admin: Principal;
  adminKey: string;
}

const DAY = 86_400_000;
export const KEY_LIMITS: KeyAgeLimits = { human: 90 * DAY, application: 365 * DAY, agent: 30 * DAY };

export async function rolesEnv(): Promise<RolesEnv> {
  const env = adminEnv();
  await env.logRegistry.createLog(SYSTEM_LOG_ID);
  const roleStore = new MemoryRoleStore();
  const roles = new RoleService({
    store: roleStore,
    audit: env.sink,
    auditLog: env.auditLog,
    clock: env.clock,
  });
  const access = new PrincipalService({
    store: env.store,
    clock: env.clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    audit: env.sink,
    auditLog: env.auditLog,
    roles,
    keyMaxAgeMs: KEY_LIMITS,
  });
  const boot = await access.bootstrapAdmin({ id: 'ops-admin', name: 'Ops', owner: 'secops' });
  if (!boot.apiKey) throw new Error('no bootstrap key');
  const admin = await access.authenticate(boot.apiKey);
  return { ...env, roleStore, roles, access, admin, adminKey: boot.apiKey };
}
