/**
 * A realistic stream of AI-platform audit events: agents taking tasks and
 * calling tools, configuration changes with before/after values, access
 * grants and revocations, a budget breach with no approved workflow and a
 * denied export, in the shapes the starter rule pack expects. Deterministic
 * for a given seed so tests and benchmarks can replay it.
 */
export interface DemoEventOptions {
  count: number;
  /** Epoch ms of the first event. */
  startMs: number;
  /** Milliseconds between consecutive events. */
  stepMs?: number;
  seed?: number;
}

const AGENTS = [
  { id: 'agent-support-1', name: 'Support triage agent', onBehalfOf: { type: 'human', id: 'u-1042' } },
  { id: 'agent-finops', name: 'FinOps reporting agent', onBehalfOf: { type: 'service', id: 'svc-billing' } },
  { id: 'agent-coder-7', name: 'Code review agent', onBehalfOf: { type: 'human', id: 'u-2210' } },
];
const TOOLS = ['web.search', 'crm.lookup', 'sql.query', 'github.pr.comment', 's3.get_object', 'email.send'];
const HUMANS = [
  { id: 'u-1042', name: 'Dana Ortiz' },
  { id: 'u-2210', name: 'Sam Lee' },
  { id: 'u-0007', name: 'Priya Raman (security)' },
];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

function toolCallMetadata(tool: string, i: number, latencyMs: number, inputTokens: number) {
  const hex = (i * 2654435761 + latencyMs).toString(16).padStart(8, '0').slice(-8);
  return {
    tool,
    server: `mcp-${tool.split('.')[0]}`,
    argumentsDigest: `sha256:${hex.repeat(8)}`,
    resultStatus: 'ok',
    durationMs: latencyMs,
    latencyMs,
    inputTokens,
  };
}

export function demoEvents(opts: DemoEventOptions): Record<string, unknown>[] {
  const r = rng(opts.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < opts.count; i++) {
    const occurredAt = new Date(opts.startMs + i * (opts.stepMs ?? 250)).toISOString();
    const agent = pick(AGENTS);
    const session = `sess-${Math.floor(r() * 1e6).toString(36)}`;
    const context = {
      requestId: `req-${i.toString(36)}-${Math.floor(r() * 1e9).toString(36)}`,
      sessionId: session,
    };
    const roll = r();
    if (roll < 0.15) {
      out.push({
        actor: { type: 'agent', id: agent.id, name: agent.name, onBehalfOf: agent.onBehalfOf },
        action: 'agent.task.submit',
        target: { type: 'task', id: `task-${i}`, name: 'Summarise open tickets' },
        outcome: 'success',
        occurredAt,
        context,
        metadata: { model: 'claude-sonnet', priority: pick(['low', 'normal', 'high']) },
      });
    } else if (roll < 0.7) {
      const tool = pick(TOOLS);
      out.push({
        actor: { type: 'agent', id: agent.id, name: agent.name, onBehalfOf: agent.onBehalfOf },
        action: 'tool.call',
        target: { type: 'tool', id: tool },
        outcome: r() < 0.95 ? 'success' : 'failure',
        occurredAt,
        context: { ...context, traceId: `trace-${Math.floor(r() * 1e12).toString(16)}` },
        // The catalog's tool.call (catalog/tool.call.v1.json); server and digest derive from
        // what is already drawn, so the stream's random sequence is unchanged.
        metadata: toolCallMetadata(tool, i, Math.floor(r() * 900), Math.floor(r() * 4000)),
      });
    } else if (roll < 0.8) {
      const h = pick(HUMANS);
      const before = { temperature: 0.2, maxTokens: 4096, toolsAllowed: ['web.search', 'crm.lookup'] };
      out.push({
        actor: { type: 'human', id: h.id, name: h.name },
        action: 'config.update',
        target: { type: 'agent-config', id: agent.id },
        outcome: 'success',
        occurredAt,
        changes: { before, after: { ...before, toolsAllowed: [...before.toolsAllowed, 'sql.query'] } },
        context: { ...context, ip: '10.20.30.40', userAgent: 'console/3.2' },
      });
    } else if (roll < 0.88) {
      const h = pick(HUMANS);
      const grant = r() < 0.6;
      out.push({
        actor: { type: 'human', id: h.id, name: h.name },
        action: grant ? 'access.grant' : 'access.revoke',
        target: { type: 'role', id: 'prod-db-readonly' },
        outcome: 'success',
        occurredAt,
        // The event catalog of the starter rule pack (docs/detection.md "The starter rule pack"):
        // a grant says whether it is privileged; these name no grantor roles, so the pack's
        // privileged-grant rule reports them.
        ...(grant ? { metadata: { privileged: true } } : {}),
        changes: grant
          ? { before: { members: ['u-0007'] }, after: { members: ['u-0007', agent.id] } }
          : { before: { members: ['u-0007', agent.id] }, after: { members: ['u-0007'] } },
        context,
      });
    } else if (roll < 0.94) {
      out.push({
        actor: { type: 'agent', id: agent.id, name: agent.name, onBehalfOf: agent.onBehalfOf },
        action: 'data.export',
        target: { type: 'dataset', id: 'customers-eu' },
        outcome: 'denied',
        occurredAt,
        context,
        metadata: { format: 'csv', reason: 'policy dlp-eu-1 forbids export outside the EU region' },
      });
    } else {
      out.push({
        actor: { type: 'system', id: 'budget-guard' },
        action: 'budget.threshold.breach',
        target: { type: 'agent', id: agent.id, name: agent.name },
        outcome: 'failure',
        occurredAt,
        changes: { before: { spentUsd: 98.4 }, after: { spentUsd: 103.1 } },
        context,
        metadata: { limitUsd: 100, period: 'daily' },
      });
    }
  }
  return out;
}
