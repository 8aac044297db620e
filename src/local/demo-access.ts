/**
 * `npm run demo:access`: access governance on the running local stack
 * (settings from .anchorlog/local-stack.json; docs/access.md, docs/soc2.md
 * CC6.1–CC6.3). Over HTTP, as an identity provider and an admin would:
 *   1. the admin declares a role `auditors` and gives an IdP principal only `scim:provision`;
 *   2. the IdP provisions three users (Okta's body shape), pushes the group `auditors`
 *      (Okta) and adds a member (Entra ID's PATCH), deprovisions one (Entra ID's
 *      `"active": "False"`), whose agent is flagged in the same request;
 *   3. the admin runs an access review: keep one auditor, revoke another, close it, and
 *      prints the report (every decision, reviewer and time, and what was left undecided).
 * Every step is an event in the `system` log; the last lines say how to export and verify it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
let info: { apiUrl: string; adminKey: string };
try {
  info = JSON.parse(readFileSync(join(root, '.anchorlog', 'local-stack.json'), 'utf8'));
} catch {
  process.stderr.write('No .anchorlog/local-stack.json: start the local stack first with `npm start`.\n');
  process.exit(2);
}

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const run = Date.now().toString(36);
const out = (s: string) => process.stdout.write(`${s}\n`);

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, read field by field
async function call(method: string, path: string, key: string, body?: unknown): Promise<any> {
  const scim = path.startsWith('/scim/');
  const res = await fetch(`${info.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': scim ? 'application/scim+json' : 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
}

// 1. Roles and the IdP's credential (admin).
const admin = info.adminKey;
await call('PUT', '/v1/admin/roles/auditors', admin, {
  description: 'read every log and its proofs',
  purpose: 'external and internal audit (SOC 2 CC6.1: job function → permissions)',
  scopes: { '*': ['events:read', 'proofs:read'] },
});
const idp = await call('POST', '/v1/admin/principals', admin, {
  id: `demo-idp-${run}`,
  name: 'Demo identity provider (SCIM)',
  kind: 'application',
  owner: 'local-admin',
  purpose: 'SCIM provisioning of humans and their groups',
  scopes: { '*': ['scim:provision'] },
});
const idpKey = idp.apiKey as string;
out(`role auditors declared; IdP principal ${idp.principal.id} holds only scim:provision`);

// 2. Provisioning (IdP).
const users: Record<string, string> = {};
const people: Array<[string, string]> = [
  ['Ada', 'Lovelace'],
  ['Grace', 'Hopper'],
  ['Alan', 'Turing'],
];
for (const [given, family] of people) {
  const userName = `${given.toLowerCase()}.${run}@example.com`;
  const u = await call('POST', '/scim/v2/Users', idpKey, {
    schemas: [USER],
    userName,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: `${given} ${family}`,
    externalId: `okta-${given}-${run}`,
    active: true,
  });
  users[given] = u.id;
  out(`provisioned ${userName} → principal ${u.id}`);
}
const pushed = await call('POST', '/scim/v2/Groups', idpKey, {
  schemas: [GROUP],
  displayName: 'auditors',
  members: [{ value: users.Ada }, { value: users.Grace }],
});
await call('PATCH', '/scim/v2/Groups/auditors', idpKey, {
  schemas: [PATCH],
  Operations: [{ op: 'Add', path: 'members', value: [{ value: users.Alan }] }],
});
const group = await call('GET', '/scim/v2/Groups/auditors', idpKey);
out(
  `group ${pushed.id}: ${group.members.map((m: { display: string }) => m.display).join(', ')} (role auditors)`,
);
const agent = await call('POST', '/v1/admin/principals', admin, {
  name: `Alan's research agent ${run}`,
  kind: 'agent',
  owner: users.Alan,
  purpose: 'summarises audit findings',
  scopes: { demo: ['events:read'] },
});
await call('PATCH', `/scim/v2/Users/${users.Alan}`, idpKey, {
  schemas: [PATCH],
  Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
});
const flagged = await call('GET', `/v1/admin/principals/${agent.principal.id}`, admin);
out(
  `deprovisioned Alan: key revoked; his agent ${agent.principal.id} flagged at ${flagged.principal?.ownerDeprovisionedAt ?? flagged.ownerDeprovisionedAt}`,
);

// 3. Access review (admin as reviewer).
const { review } = await call('POST', '/v1/admin/access-reviews', admin, { name: `demo ${run}` });
await call('POST', `/v1/admin/access-reviews/${review.id}/decisions`, admin, {
  principalId: users.Ada,
  decision: 'keep',
  reason: 'leads the external audit',
});
await call('POST', `/v1/admin/access-reviews/${review.id}/decisions`, admin, {
  principalId: users.Grace,
  decision: 'revoke',
  reason: 'moved to another team',
});
await call('POST', `/v1/admin/access-reviews/${review.id}/close`, admin, {});
const csv = (await call('GET', `/v1/admin/access-reviews/${review.id}/report?format=csv`, admin)) as string;
const lines = csv.trim().split('\n');
out(`\naccess review ${review.id} closed; report: ${lines.length - 1} rows (first 6 below)`);
for (const l of lines.slice(0, 7)) out(`  ${l}`);
out(
  `\nEvidence (docs/soc2.md CC6.1–CC6.3):\n` +
    `  ANCHORLOG_API_URL=${info.apiUrl} ANCHORLOG_API_KEY=<admin key> npx anchorlog access-reviews report ${review.id} --format csv\n` +
    `  npx anchorlog roles drift       # principals whose permissions differ from their roles\n` +
    `  the system log holds every step above (principal.create / roles.update / revoke / flag, access_review.*)`,
);
