/**
 * The producer half of `npm run demo` (docs/events.md §Producer streams,
 * docs/producer-signatures.md): signed, catalogued events with producer seqs
 * from both SDKs, a deliberately dropped event found as a gap at the source,
 * and the signatures re-checked offline.
 *
 *  1. Registers an Ed25519 key (TypeScript producer) and a P-256 key (Python
 *     producer) for the demo principal with `anchorlog signing-keys register`
 *     (each a `producer_key.register` record in the system log).
 *  2. TypeScript: SpooledAuditClient signs, numbers and spools 20 catalogued
 *     demo events in stream `demo-ts/<run>`, delivered through a "relay" that
 *     silently loses one event of a batch and answers 2xx anyway, as a lossy
 *     webhook or queue in front of anchorlog would: the SDK sees success.
 *  3. Python (if python3 is on PATH): sdk/python/examples/demo_producer.py
 *     sends 10 `model.invoke` events in stream `demo-py/<run>`, P-256-signed
 *     when the `cryptography` package is present (else unsigned, and said).
 *  4. `anchorlog producers` shows the TypeScript stream's gap (exit 1 once it
 *     is overdue; right after the run it is open, not yet overdue).
 *  5. Exports the demo log and the system log, builds TRUST.json, and runs
 *     `anchorlog verify --producer-keys`, which reports per producer how many
 *     signatures verified.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeIo } from '../cli/io.ts';
import { runMain } from '../cli/main.ts';
import { SpooledAuditClient } from '../client/spooled-client.ts';
import { parsePublicKey } from '../core/producer-key.ts';
import { demoEvents } from './demo-events.ts';

export interface DemoStackInfo {
  apiUrl: string;
  apiKey: string;
  adminKey: string;
  logId: string;
  principalId?: string;
}

/** The principal the local stack's demo key belongs to (src/local/stack.ts). */
const DEMO_PRINCIPAL = 'demo-agent-platform';
const TS_EVENTS = 20;
/** The TypeScript event the relay loses (its seq in the stream). */
const DROPPED_SEQ = 8;
const PY_EVENTS = 10;

const say = (t: string) => process.stdout.write(t);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cli(argv: string[], quiet = false): Promise<number> {
  // Echo the command without the API key.
  const shown = argv.map((a, i) => (argv[i - 1] === '--key' ? '…' : a.includes(' ') ? `'${a}'` : a));
  say(`\n$ anchorlog ${shown.join(' ')}\n`);
  const io = nodeIo();
  // `anchorlog trust` prints every fingerprint to compare out of band: one line is enough here.
  if (quiet) {
    const code = await runMain(argv, { ...io, stdout: () => {} });
    say(`(written; exit ${code})\n`);
    return code;
  }
  return runMain(argv, io);
}

async function checkpointSize(info: DemoStackInfo, logId: string, key: string): Promise<number> {
  const res = await fetch(`${info.apiUrl}/v1/logs/${logId}/checkpoint`, {
    headers: { authorization: `Bearer ${key}` },
  });
  if (!res.ok) return 0;
  return Number((await res.text()).split('\n')[1]);
}

async function waitForSeal(info: DemoStackInfo, logId: string, key: string, atLeast: number): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if ((await checkpointSize(info, logId, key)) >= atLeast) return;
    await sleep(1000);
  }
  throw new Error(
    `no checkpoint of log ${logId} reached size ${atLeast} within 60 s (is the sealer running?)`,
  );
}

/** `env`: the environment the Python producer runs with (demo.ts passes its own). */
/** Waits until an RFC 3161 anchor covers `size` (export needs one over its range). */
async function waitForAnchor(info: DemoStackInfo, logId: string, key: string, size: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const res = await fetch(`${info.apiUrl}/v1/logs/${logId}/anchors`, {
      headers: { authorization: `Bearer ${key}` },
    });
    if (res.ok && (((await res.json()) as { size?: number }).size ?? 0) >= size) return;
    await sleep(1000);
  }
  throw new Error(`no anchor of log ${logId} covered size ${size} within 120 s (is the anchorer running?)`);
}

export async function producersDemo(
  info: DemoStackInfo,
  root: string,
  env: Record<string, string | undefined>,
): Promise<number> {
  const run = Date.now().toString(36);
  const dir = join(root, '.anchorlog', 'demo-producers', run);
  mkdirSync(dir, { recursive: true });
  const principal = info.principalId ?? DEMO_PRINCIPAL;
  const api = ['--api', info.apiUrl];
  const startedAt = new Date(Date.now() - 1000).toISOString();
  say(`\n== Producers: signed, catalogued, numbered events from both SDKs (run ${run}) ==\n`);

  // 1. Keys, registered through the admin API (audited in the system log).
  const ed = generateKeyPairSync('ed25519');
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const edPem = ed.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  writeFileSync(join(dir, 'ts-producer.pub.pem'), edPem);
  writeFileSync(join(dir, 'py-producer.pub.pem'), p256.publicKey.export({ format: 'pem', type: 'spki' }));
  const systemBefore = await checkpointSize(info, 'system', info.adminKey);
  const demoBefore = await checkpointSize(info, info.logId, info.apiKey);
  let sent = 0;
  for (const f of ['ts-producer.pub.pem', 'py-producer.pub.pem'])
    if (
      (await cli([
        'signing-keys',
        'register',
        principal,
        '--public-key',
        join(dir, f),
        ...api,
        '--key',
        info.adminKey,
      ])) !== 0
    )
      return 1;

  // 2. TypeScript: spooled, signed, numbered; a relay loses seq DROPPED_SEQ and answers 2xx.
  const tsStream = `demo-ts/${run}`;
  let lost = 0;
  const lossyRelay: typeof fetch = async (input, init) => {
    const body = JSON.parse(String(init?.body)) as { events: { producer?: { seq?: number } }[] };
    const kept = body.events.filter((e) => e.producer?.seq !== DROPPED_SEQ);
    if (kept.length === body.events.length) return fetch(input, init);
    lost += body.events.length - kept.length;
    if (kept.length === 0) return new Response(JSON.stringify({ receipts: [] }), { status: 201 });
    return fetch(input, { ...init, body: JSON.stringify({ events: kept }) });
  };
  const keyId = parsePublicKey(edPem).keyId;
  const client = await SpooledAuditClient.open({
    apiUrl: info.apiUrl,
    apiKey: info.apiKey,
    logId: info.logId,
    spool: { dir: join(dir, 'ts-spool'), stream: tsStream },
    signer: { keyId, alg: 'Ed25519', sign: async (m) => new Uint8Array(nodeSign(null, m, ed.privateKey)) },
    fetch: lossyRelay,
    flushIntervalMs: 20,
  });
  const events = demoEvents({ count: TS_EVENTS, startMs: Date.now() - TS_EVENTS * 250, seed: 7 });
  for (const e of events) await client.append(e);
  await client.flush();
  await client.close();
  sent += TS_EVENTS - lost;
  say(
    `\nTypeScript SDK: ${TS_EVENTS} events in stream ${tsStream}, Ed25519-signed (key ${keyId.slice(0, 12)}…), seqs 1…${TS_EVENTS};\n` +
      `  a lossy relay in front of the API dropped ${lost} of them (seq ${DROPPED_SEQ}) and answered 2xx: the SDK saw success.\n`,
  );

  // 3. Python, if present.
  const pyStream = `demo-py/${run}`;
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (python.status !== 0) {
    say('\nPython SDK: skipped (no python3 on PATH).\n');
  } else {
    const sdk = new URL('../../sdk/python', import.meta.url).pathname;
    const r = spawnSync(
      'python3',
      [
        '-m',
        'examples.demo_producer',
        info.apiUrl,
        info.apiKey,
        info.logId,
        join(dir, 'py-spool'),
        pyStream,
        String(PY_EVENTS),
      ],
      {
        cwd: sdk,
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          ...env,
          PYTHONDONTWRITEBYTECODE: '1',
          ANCHORLOG_DEMO_KEY_PEM: p256.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        },
      },
    );
    if (r.status !== 0) {
      say(`\nPython SDK: failed (exit ${r.status}): ${r.stderr.slice(-2000)}\n`);
      return 1;
    }
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      delivered: number;
      rejected: number;
      signed: boolean;
      alg: string | null;
    };
    sent += out.delivered;
    say(
      `\nPython SDK (${python.stdout.trim() || python.stderr.trim()}): ${out.delivered} model.invoke events in stream ${pyStream}, ` +
        `${out.signed ? `${out.alg}-signed (P-256)` : 'UNSIGNED (the cryptography package is not installed)'}, ${out.rejected} refused.\n`,
    );
  }

  // 4. The gap, seen at the source.
  await cli(['producers', '--log', info.logId, ...api, '--key', info.apiKey]);
  say(
    `(stream ${tsStream}: seq ${DROPPED_SEQ} is missing — the event the relay dropped, found by the log, not by the SDK)\n`,
  );

  // 5. Offline: export both logs, pin trust, verify every producer signature.
  // Export needs the range sealed and time-stamped: wait for the sealer and the anchorer (about a second each here).
  say('\nwaiting for the checkpoints of both logs to be sealed and time-stamped…\n');
  await waitForSeal(info, info.logId, info.apiKey, demoBefore + sent);
  await waitForAnchor(info, info.logId, info.apiKey, demoBefore + sent);
  await waitForSeal(info, 'system', info.adminKey, systemBefore + 2);
  await waitForAnchor(info, 'system', info.adminKey, await checkpointSize(info, 'system', info.adminKey));
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const demoTar = join(dir, `${info.logId}.tar`);
  const systemTar = join(dir, 'system.tar');
  const trustFiles = [join(dir, 'trust-demo.json'), join(dir, 'trust-system.json')];
  const steps: string[][] = [
    [
      'export',
      '--log',
      info.logId,
      '--from',
      startedAt,
      '--to',
      to,
      '-o',
      demoTar,
      ...api,
      '--key',
      info.apiKey,
    ],
    [
      'export',
      '--log',
      'system',
      '--from',
      '2000-01-01T00:00:00Z',
      '--to',
      to,
      '-o',
      systemTar,
      ...api,
      '--key',
      info.adminKey,
    ],
    ['trust', '--log', info.logId, '-o', trustFiles[0] as string, ...api, '--key', info.apiKey],
    ['trust', '--log', 'system', '-o', trustFiles[1] as string, ...api, '--key', info.adminKey],
  ];
  for (const s of steps) if ((await cli(s, s[0] === 'trust')) !== 0) return 1;
  // One TRUST.json pinning both logs' keys: the system log's bundle is verified under the same trust.
  type Trust = { logKeys: string[]; origins: string[] } & Record<string, unknown>;
  const [a, b] = trustFiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Trust) as [Trust, Trust];
  const trust = join(dir, 'TRUST.json');
  writeFileSync(
    trust,
    `${JSON.stringify(
      {
        ...a,
        logKeys: [...a.logKeys, ...b.logKeys],
        origins: [...a.origins, ...b.origins],
      },
      null,
      2,
    )}\n`,
  );
  for (const f of trustFiles) rmSync(f);
  const code = await cli([
    'verify',
    demoTar,
    '--trust',
    trust,
    '--producer-keys',
    systemTar,
    '--allow-incomplete',
  ]);
  say(`\nfiles in ${dir}\n`);
  return code;
}
