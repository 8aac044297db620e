/**
 * One-off after the first `cdk deploy`: creates the `system` log (where admin
 * actions are audited) and the first global admin principal, and prints its
 * API key once. Runs on the operator's machine with the operator's AWS
 * credentials (DynamoDB access to the stack's table); it is not a Lambda
 * mode, so the deployed API has no unauthenticated path to an admin key.
 *
 *   ANCHORLOG_TABLE=<TableName> ANCHORLOG_ARCHIVE_BUCKET=<ArchiveBucketName> AWS_REGION=<region> \
 *     npx tsx scripts/bootstrap-admin.ts --id ops-admin --name "Operations admin" --owner secops@example.com
 *
 * Idempotent (PrincipalService.bootstrapAdmin): running it again prints the
 * principal without a key; a run that crashed before showing its key is
 * completed by rotating, so the key printed is always usable.
 */
import { parseArgs } from 'node:util';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { SYSTEM_LOG_ID } from '../src/core/principal.ts';

const { values } = parseArgs({
  options: { id: { type: 'string' }, name: { type: 'string' }, owner: { type: 'string' } },
});
if (!values.id || !values.name || !values.owner) {
  process.stderr.write('usage: bootstrap-admin --id ID --name NAME --owner CONTACT\n');
  process.exit(2);
}

const services = createServices(loadConfig());
await services.logRegistry.createLog(SYSTEM_LOG_ID);
const { principal, apiKey } = await services.principals.bootstrapAdmin({
  id: values.id,
  name: values.name,
  owner: values.owner,
});
process.stdout.write(`${JSON.stringify({ principal, ...(apiKey ? { apiKey } : {}) }, null, 2)}\n`);
if (!apiKey)
  process.stderr.write(
    `principal ${principal.id} already exists as an admin; its key is not shown again (rotate it with 'anchorlog principals rotate').\n`,
  );
