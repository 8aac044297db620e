// Evaluation speed of typical rule expressions in both libraries (see README.txt).
import * as buf from '@bufbuild/cel';
import * as marc from '@marcbachmann/cel-js';

const exprs = {
  simple: `event.action == "data.export"`,
  typical: `event.action == "data.export" && event.actor.type == "agent" && has(event.metadata.bytes) && event.metadata.bytes > 1000000.0`,
  startsWith: `event.action.startsWith("tool.") && event.outcome == "denied" && submitter != "svc-ci"`,
  macro: `event.action == "principal.scopes.update" && has(event.changes.after.scopes) && event.changes.after.scopes.exists(s, s.scope == "admin")`,
};
const recs = Array.from({ length: 1000 }, (_, i) => ({
  submitter: 'svc-' + (i % 7),
  receivedAt: '2026-03-01T12:00:00.000Z',
  event: {
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: i % 2 ? 'agent' : 'human', id: 'agent-' + (i % 50) },
    action: ['data.export', 'tool.call', 'principal.scopes.update'][i % 3],
    outcome: i % 5 ? 'success' : 'denied',
    target: { type: 'dataset', id: 'ds-' + i },
    metadata: { bytes: i * 5000, tool: 't' + (i % 13) },
    changes: {
      after: {
        scopes: [
          { scope: 'admin', log: '*' },
          { scope: 'events:read', log: 'a' },
        ],
      },
    },
  },
}));
const env = buf.celEnv();
const menv = new marc.Environment({ unlistedVariablesAreDyn: true });
function bench(name, f) {
  for (let i = 0; i < 20000; i++) f(recs[i % 1000]);
  const N = 300000;
  const t = performance.now();
  let c = 0;
  for (let i = 0; i < N; i++) if (f(recs[i % 1000]) === true) c++;
  const ms = performance.now() - t;
  return { name, perSec: Math.round((N / ms) * 1000), nsPerEval: Math.round((ms * 1e6) / N), c };
}
const rows = [];
for (const [k, e] of Object.entries(exprs)) {
  const pb = buf.plan(env, buf.parse(e));
  const pm = menv.parse(e);
  const b = bench('buf', (r) => pb({ event: r.event, submitter: r.submitter }));
  const m = bench('marc', (r) => pm({ event: r.event, submitter: r.submitter }));
  rows.push({
    expr: k,
    buf_per_s: b.perSec,
    buf_ns: b.nsPerEval,
    marc_per_s: m.perSec,
    marc_ns: m.nsPerEval,
    same: b.c === m.c,
  });
}
console.table(rows);
// parse+plan cost
let t = performance.now();
for (let i = 0; i < 2000; i++) buf.plan(env, buf.parse(exprs.typical + ' && ' + i + ' > 0'));
console.log('buf parse+plan us', (((performance.now() - t) / 2000) * 1000).toFixed(0));
t = performance.now();
for (let i = 0; i < 2000; i++) menv.parse(exprs.typical + ' && ' + i + ' > 0');
console.log('marc parse us', (((performance.now() - t) / 2000) * 1000).toFixed(0));
