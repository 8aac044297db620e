/**
 * `GET /v1/logs/{logId}/anchors?size=` (docs/anchoring.md §Reading anchors): the RFC 3161 tokens over
 * one checkpoint — by default the newest checkpoint with at least one
 * verified token — with each TSA's status and the k-of-n quorum status.
 * Scope `proofs:read`. Reads the hot copy (DynamoDB); the same tokens are in
 * the archive under `logs/<logId>/anchors/<size>/`.
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import { toBase64 } from '../../core/bytes.ts';
import { encodePem } from '../../core/pem.ts';
import { decodePemCertificates } from '../../core/rfc3161/pem.ts';
import type { AnchorStore, TsaAnchorRecord } from '../../ports/anchor-store.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

export interface AnchorRoutesDeps {
  readonly anchors: Pick<AnchorStore, 'read' | 'newestAnchoredSize'>;
  readonly principals: Pick<PrincipalService, 'authorize'>;
}

function sizeParam(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new AppError('BAD_REQUEST', 'size must be a non-negative decimal integer', { path: '/query/size' });
  }
  return n;
}

/** The stored chain (concatenated PEM, as the anchor job wrote it) as one PEM string per certificate. */
function pemBlocks(pem: string): string[] {
  return decodePemCertificates(pem).map((der) => encodePem('CERTIFICATE', der));
}

function tsaView(r: TsaAnchorRecord) {
  const g = r.granted;
  return {
    name: r.tsa,
    status: r.status,
    attempts: r.attempts,
    updatedAt: new Date(r.updatedAt).toISOString(),
    ...(g
      ? {
          genTime: g.genTime,
          serialNumber: g.serialNumber,
          policy: g.policy,
          signer: g.signerSubject,
          token: toBase64(g.token),
          chain: pemBlocks(g.chainPem),
          archive: { response: g.responseKey, chain: g.chainKey },
        }
      : {}),
    ...(r.failure ? { error: { code: r.failure.code, message: r.failure.message } } : {}),
  };
}

export function anchorRoutes(deps: AnchorRoutesDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/anchors',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'proofs:read');
        const size = sizeParam(req.query.size) ?? (await deps.anchors.newestAnchoredSize(logId));
        if (size === undefined)
          throw new AppError('NOT_FOUND', `log ${logId} has no anchored checkpoint yet`);
        const { summary, tsas } = await deps.anchors.read(logId, size);
        if (!summary) throw new AppError('NOT_FOUND', `no anchors recorded for ${logId} at size ${size}`);
        return json(200, {
          logId,
          size,
          checkpoint: summary.checkpoint,
          imprint: { hashAlgorithm: 'SHA-256', over: 'checkpoint (the full signed note text, UTF-8)' },
          quorum: {
            required: summary.quorum,
            tsaCount: summary.tsaCount,
            granted: tsas.filter((t) => t.status === 'granted').length,
            met: tsas.filter((t) => t.status === 'granted').length >= summary.quorum,
          },
          updatedAt: new Date(summary.updatedAt).toISOString(),
          tsas: tsas.map(tsaView),
        });
      },
    },
  ];
}
