/**
 * PKIStatusInfo (RFC 3161 §2.4.2, from RFC 2510 / RFC 4210 §5.2.3): whether
 * the TSA granted the request, and if not, why.
 */
import type * as asn1js from 'asn1js';
import { PKIStatusInfo } from 'pkijs';
import { malformedUnless } from './der.ts';
import { TimestampError } from './errors.ts';

const STATUS_NAMES = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
] as const;

// PKIFailureInfo bit positions, RFC 3161 §2.4.2.
const FAIL_INFO_BITS: Record<number, string> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

export interface PkiStatus {
  /** 0..5 as on the wire. */
  readonly status: number;
  /** `granted`, `rejection`, … */
  readonly statusName: string;
  /** statusString (PKIFreeText), as sent by the TSA. Attacker-chosen text: display only. */
  readonly statusStrings: readonly string[];
  /** Names of the failInfo bits set (`bit<N>` for unknown bits). */
  readonly failInfo: readonly string[];
}

export const GRANTED_STATUS: PkiStatus = {
  status: 0,
  statusName: 'granted',
  statusStrings: [],
  failInfo: [],
};

export function parseStatus(node: asn1js.AsnType): PkiStatus {
  const info = malformedUnless('PKIStatusInfo', () => new PKIStatusInfo({ schema: node }));
  const statusStrings = (info.statusStrings ?? []).map((s) => {
    const v = (s as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    return typeof v === 'string' ? v : '';
  });
  const failInfo: string[] = [];
  if (info.failInfo) {
    const bits = info.failInfo.valueBlock.valueHexView;
    const total = bits.length * 8 - info.failInfo.valueBlock.unusedBits;
    for (let i = 0; i < total && i < 64; i++) {
      if ((((bits[i >> 3] as number) >> (7 - (i & 7))) & 1) === 1)
        failInfo.push(FAIL_INFO_BITS[i] ?? `bit${i}`);
    }
  }
  return {
    status: info.status,
    statusName: STATUS_NAMES[info.status] ?? `status${info.status}`,
    statusStrings,
    failInfo,
  };
}

/** RFC 3161 §2.4.2: only granted(0) and grantedWithMods(1) carry a usable token. */
export function assertGranted(s: PkiStatus): void {
  if (s.status === 0 || s.status === 1) return;
  const parts = [`TSA returned status ${s.statusName}(${s.status})`];
  if (s.failInfo.length > 0) parts.push(`failInfo=${s.failInfo.join(',')}`);
  if (s.statusStrings.length > 0) parts.push(`statusString=${JSON.stringify(s.statusStrings.join('; '))}`);
  throw new TimestampError('STATUS_NOT_GRANTED', parts.join('; '));
}
