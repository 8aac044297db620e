/**
 * One-time migration after upgrading a deployment whose principals predate
 * audit bindings (docs/operations.md §Binding principals to the system log).
 * Until it runs, those principals — the bootstrap admin included — get 401
 * (reason `unaudited`). Runs on the operator's machine with credentials that
 * can do what the admin role does (read-write `P#*`, write the `system` log);
 * it is not a Lambda mode, so the API has no path to it.
 *
 *   ANCHORLOG_TABLE=<TableName> ANCHORLOG_ARCHIVE_BUCKET=<ArchiveBucketName> AWS_REGION=<region> \
 *     npx tsx scripts/bind-principals.ts
 *
 * Each principal whose stored state is exactly what the system log last
 * recorded for it gets one `principal.bind` event (actor `system:bind`) and
 * works again; the others are listed with the reason and stay refused
 * (PrincipalService.bindLegacy). Idempotent. Exit status 1 when any principal
 * was refused, so a pipeline notices.
 */
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';

const services = createServices(loadConfig());
const { bound, refused } = await services.principals.bindLegacy();
process.stdout.write(`${JSON.stringify({ bound, refused }, null, 2)}\n`);
if (refused.length > 0) {
  process.stderr.write(
    `${refused.length} principal(s) were not bound and stay refused: review them against the system log, ` +
      'then revoke them or re-create them through the admin API.\n',
  );
  process.exitCode = 1;
}
