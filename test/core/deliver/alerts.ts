/** Alert documents for the delivery tests: one ordinary, one whose text tries to be markup. */

import type { AlertNotice } from '../../../src/core/deliver/payloads.ts';
import type { AlertDocument } from '../../../src/core/detect/alert.ts';

export const ALERT: AlertDocument = {
  v: 1,
  id: 'alr_6c1f0e0d8b9a4c1e2f3a4b5c6d7e8f90',
  logId: 'acme',
  rule: {
    id: 'ai.data-export.volume',
    version: 3,
    title: 'Large data export volume by one principal',
    severity: 'high',
    owner: 'secops',
    runbook: 'https://runbooks.example/ai/data-export',
    kind: 'threshold',
  },
  key: 'agent-7',
  firedAt: '2026-03-01T03:12:44.120Z',
  trigger: { index: 18231, receivedAt: '2026-03-01T03:12:44.120Z' },
  summary: 'sum 5.2e9 > 5e9 over 1h (sliding) for agent-7',
  value: 5200000000,
  threshold: 5000000000,
  evidence: {
    from: '2026-03-01T02:13:00.000Z',
    to: '2026-03-01T03:12:44.121Z',
    indexes: [18001, 18100, 18231],
  },
  dedup: { key: 'agent-7', until: '2026-03-01T09:12:44.120Z' },
  suppressed: null,
  destinations: ['secops-pager'],
  labels: { pack: 'ai-platform' },
};

export const CHECKPOINT = {
  size: 18240,
  checkpoint:
    'anchorlog.local/acme\n18240\nq2mJ1y7nSpVZgC6bY0l3x0mH1zF3bq5cQG0R1c3cS2E=\n\n— anchorlog.local/acme Az3+ZA==\n',
};

export const NOTICE: AlertNotice = { alert: ALERT, checkpoint: CHECKPOINT };

/** A producer chose an actor id that looks like Slack markup and carries control characters. */
export const HOSTILE: AlertNotice = {
  alert: {
    ...ALERT,
    id: 'alr_00000000000000000000000000000001',
    rule: { ...ALERT.rule, title: 'Überwachung <b>&</b> “quotes”', severity: 'critical', kind: 'match' },
    key: '<!channel> agent\n\u0007evil',
    summary: 'matched for <!here> & <https://evil.example|click>\r\nsecond line',
    value: null,
    threshold: null,
    trigger: null,
    dedup: null,
    destinations: [],
    labels: {},
  },
  checkpoint: null,
};
