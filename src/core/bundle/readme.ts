/**
 * README.txt of a bundle: how an auditor checks the parts by hand with
 * tar, sha256sum, base64 and openssl (docs/bundle.md). The commands are
 * exercised by test/core/bundle/hand-check.test.ts; change them together.
 *
 * It is informative and never trusted: the verifier does not read it (a copy
 * that differs from its SHA256SUMS entry is reported, nothing more), so it
 * must state what the exporter *claims*, never what is proved.
 */
import { utf8 } from '../bytes.ts';
import { type BundleHeader, describeFilter } from './format.ts';

export interface ReadmeContext {
  readonly header: BundleHeader;
  /** An anchor to show in the example, if any. */
  readonly anchor?: { readonly size: number; readonly tsa: string };
  /** First records chunk name, if any. */
  readonly firstChunk?: string;
  /** The log key's type: it decides the signature check's commands (default ECDSA P-256). */
  readonly keyType?: 'ecdsa-p256' | 'ed25519';
}

export function readmeText(c: ReadmeContext): Uint8Array {
  const h = c.header;
  const n = h.checkpoint;
  const a = c.anchor ?? { size: n, tsa: 'TSA' };
  const chunk = c.firstChunk ?? 'records/000000.jsonl';
  const count = h.range.lastIndex - h.range.firstIndex + 1;
  const scope =
    h.filter === null
      ? `all ${count} record(s) with fromTime <= receivedAt < toTime
             (range export: anchorlog verify proves it complete, or says up
             to which checkpoint)`
      : `${
          h.filter.actorId === undefined
            ? `records whose action starts with "${h.filter.actionPrefix}"`
            : `records matching ${describeFilter(h.filter)}`
        }
             (filtered export: each record's inclusion can be proved; that
             no matching record is missing CANNOT)`;
  return utf8(`anchorlog evidence bundle, format ${h.version}

THIS FILE IS INFORMATIVE. It is not evidence and nothing checks it: anchorlog
verify does not read it (it only reports a copy that differs from SHA256SUMS).
Below is what the exporter CLAIMS; the claims that count are in header.json
and are proved, or refused, by anchorlog verify.

log:         ${h.logId}
origin:      ${h.origin}
time range:  [${h.range.fromTime}, ${h.range.toTime})  (half-open)
indexes:     ${h.range.firstIndex} .. ${h.range.lastIndex}
content:     ${scope}
proofs are relative to checkpoint size ${n} (checkpoints/${n}.note)

Verify everything, offline, pinning the log key and the TSA roots you trust
(anchorlog trust builds trust.json from a deployment; compare its fingerprints
out of band):

    anchorlog verify bundle.tar --trust trust.json
    # trust.json: { "logKeys": ["${h.origin}+<keyid>+<key>"],
    #               "origins": ["${h.origin}"],
    #               "tsaRoots": ["-----BEGIN CERTIFICATE-----..."],
    #               "witnesses": ["<witness vkey>"], "witnessQuorum": 1 }
    # witnesses (optional): witness keys from the witness operators; their
    # cosignatures in attestations.json are then checked and the quorum required.
    # exit 0: everything proved against your pinned trust; 3: verified, but not
    # against pinned trust; 4: verified, completeness not proved; 1: failed.

Checking the parts by hand (POSIX shell, GNU coreutils, OpenSSL 3)
------------------------------------------------------------------
0. Extract:
       mkdir b && tar -xf bundle.tar -C b && cd b

1. Member integrity (detects damage; authenticity comes from steps 2-4):
       sha256sum -c SHA256SUMS
   SHA256SUMS lists every member except itself and manifest.json;
   manifest.json lists the same hashes and sizes plus the one of SHA256SUMS.

2. The log key: compare keys/log.vkey with the key the log operator
   publishes (GET /v1/keys). keys/log.pem is the same key in PEM form.

${
  c.keyType === 'ed25519'
    ? `3. A checkpoint's signature (C2SP signed note; Ed25519 over the note text):
       sed '/^$/,$d' checkpoints/${n}.note > body.txt
       grep '^— ${h.origin} ' checkpoints/${n}.note | head -n 1 | cut -d ' ' -f 3 \\
         | base64 -d | tail -c +5 > sig.bin
       openssl pkeyutl -verify -pubin -inkey keys/log.pem -rawin -in body.txt -sigfile sig.bin
   body.txt is the signed text (origin, size, root hash lines, up to the blank
   line); the signature line's base64 holds a 4-byte key ID, then the 64-byte
   Ed25519 signature, which tail -c +5 keeps.`
    : `3. A checkpoint's signature (C2SP signed note; ECDSA P-256 over the note text):
       sed '/^$/,$d' checkpoints/${n}.note > body.txt
       grep '^— ${h.origin} ' checkpoints/${n}.note | head -n 1 | cut -d ' ' -f 3 \\
         | base64 -d | tail -c +5 > sig.der
       openssl dgst -sha256 -verify keys/log.pem -signature sig.der body.txt
   body.txt is the signed text (origin, size, root hash lines, up to the blank
   line); the signature line's base64 holds a 4-byte key ID, then the DER
   ECDSA signature, which tail -c +5 keeps.`
}

4. A time-stamp (RFC 3161 TimeStampResp over the whole signed checkpoint file),
   against TSA roots you trust (tsa-roots.pem); the .chain.pem supplies the
   TSA certificate and intermediates, untrusted:
       openssl ts -verify -in anchors/${a.size}/${a.tsa}.tsr -data checkpoints/${a.size}.note \\
         -CAfile tsa-roots.pem -untrusted anchors/${a.size}/${a.tsa}.chain.pem
       openssl ts -reply -in anchors/${a.size}/${a.tsa}.tsr -text | grep 'Time stamp'

5. Records: records/*.jsonl hold the canonical record bytes (RFC 8785), one
   record per line, in index order (cat records/*.jsonl keeps that order).
   A record's leaf hash is SHA-256(0x00 || line without its newline), and the
   next record's "prev" field is that hash in base64:
       (printf '\\000'; sed -n '1p' ${chunk} | head -c -1) | openssl dgst -sha256 -binary | base64
       sed -n '2p' ${chunk}      # its "prev" is the line above
   Merkle proofs (proofs.json, inclusion/*.jsonl) and the completeness of the
   range need a program: anchorlog verify (docs/bundle.md describes them).

6. attestations.json lists every attestation over the checkpoints: the
   time-stamps of step 4 (kind rfc3161) and witness cosignatures (kind
   witness-cosignature, C2SP cosignature/v1 lines over a checkpoint's note
   text). Checking a cosignature needs the witness's key: anchorlog verify.
`);
}
