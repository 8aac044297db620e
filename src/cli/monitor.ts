/**
 * `anchorlog monitor` — recompute every class log of a log from its main
 * log's records and compare with the class roots its signed checkpoint
 * commits (docs/classes.md §Monitor). Reads the checkpoint and entry bundles
 * through the read API (scope events:read), verifies the checkpoint against a
 * pinned key, and resumes from `--state FILE` (written back after a clean
 * check), so each run reads only what was appended since.
 *
 * Exit: 0 no divergence (pinned key), 1 divergence found or a check failed
 * (reason code), 2 usage error, 3 no divergence but against the server's key.
 */
import { rename, writeFile } from 'node:fs/promises';
import { fromUtf8, utf8 } from '../core/bytes.ts';
import { type MonitorState, monitorLog } from '../core/classes/monitor-run.ts';
import { defineCommand, option } from './args.ts';
import { runCommand } from './command.ts';
import { CheckError } from './errors.ts';
import type { CliIo } from './io.ts';
import { printableJson, printableLines } from './printable.ts';
import {
  apiGet,
  apiOptions,
  fetchVerifiedCheckpoint,
  PIN_GROUP,
  PIN_OPTIONS,
  pinnedLogKeys,
  type ReadApiDeps,
  serverVerifiers,
} from './read-api.ts';
import { inputFile, logId } from './values.ts';
import { logKeyHeadline, logKeyVerdict, VERIFICATION_FAILED } from './verdict.ts';

export const MONITOR = defineCommand({
  path: ['monitor'],
  summary: "recompute a log's class indexes from its records and compare with the signed class roots",
  description: `Reads a log's latest checkpoint and the records appended since the last check, recomputes
the main tree and every class log (docs/classes.md) from the records, and compares them with the
signed roots. Reports the first divergence: a class log the sealer did not keep honestly, which
would let a class answer omit records without detection. With --state, resumes from and saves
the sizes and right edges checked so far.`,
  options: {
    log: option(logId, 'the log id', { required: true }),
    state: option(inputFile(), 'monitor state: read if it exists, written after a clean check'),
    ...PIN_OPTIONS,
    ...apiOptions('with events:read on the log'),
  },
  exclusive: [PIN_GROUP],
  json: '{ ok, verified, verdict, log, previousSize, checkedSize, classes, divergence }',
  examples: [
    {
      title: 'after every seal, or daily, from the last checked size',
      command: 'anchorlog monitor --log prod --trust TRUST.json --state prod.monitor.json',
    },
  ],
  exitStatus: `0 no divergence, against a pinned key; 1 divergence or a failed check; 2 usage; 3 no divergence, against the server's key`,
});

async function readState(io: CliIo, path: string | undefined): Promise<MonitorState | undefined> {
  if (path === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await io.readFile(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new CheckError('INPUT_UNREADABLE', `--state ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(fromUtf8(bytes)) as MonitorState;
  } catch {
    throw new CheckError('INPUT_UNREADABLE', `--state ${path} is not JSON`);
  }
}

export function runMonitor(argv: string[], io: CliIo, deps: ReadApiDeps): Promise<number> {
  return runCommand(
    MONITOR,
    argv,
    io,
    deps.env,
    async (args) => {
      const target = { url: args.api, key: args.key };
      const pinned = await pinnedLogKeys(io, args);
      const head = await fetchVerifiedCheckpoint(deps, io, target, args.log, pinned);
      const verifiers = head.trustedServerKey ? await serverVerifiers(deps, target, args.log) : pinned.keys;
      const state = await readState(io, args.state);
      const report = await monitorLog({
        source: {
          checkpoint: async () => head.text,
          get: async (path) => apiGet(deps, target, `/v1/logs/${args.log}/${path}`, { followRedirect: true }),
        },
        origin: head.checkpoint.origin,
        verifiers,
        ...(state ? { state } : {}),
      });
      if (report.divergence === undefined && args.state !== undefined) {
        const tmp = `${args.state}.part`;
        await writeFile(tmp, utf8(`${JSON.stringify(report.state, null, 2)}\n`));
        await rename(tmp, args.state);
      }
      const verdict = logKeyVerdict(head.trustedServerKey, args['allow-untrusted']);
      const d = report.divergence;
      if (args.json)
        io.stdout(
          printableJson(
            {
              ok: d === undefined && verdict.exitCode === 0,
              verified: d === undefined,
              verdict: d === undefined ? verdict : { exitCode: 1, status: 'failed' },
              log: args.log,
              previousSize: report.previousSize,
              checkedSize: report.checkedSize,
              classes: report.classes,
              divergence: d ?? null,
            },
            2,
          ),
        );
      else
        io.stdout(
          printableLines(
            d === undefined
              ? [
                  logKeyHeadline(verdict),
                  `monitor: log ${args.log}: sizes ${report.previousSize}..${report.checkedSize} checked, no divergence`,
                  `classes: ${report.classes.length > 0 ? report.classes.join(', ') : '(none)'}`,
                ]
              : [
                  'Monitor: DIVERGENCE (exit 1)',
                  `first divergence at checkpoint ${d.checkpointSize}` +
                    (d.className === undefined ? ' in the main log' : ` in class ${d.className}`) +
                    `: ${d.reason}`,
                ],
          ),
        );
      return d === undefined ? verdict.exitCode : 1;
    },
    VERIFICATION_FAILED,
  );
}
