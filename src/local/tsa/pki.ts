/**
 * Generates the local RFC 3161 PKI with the openssl CLI: for each flavour a
 * self-signed root and a TSA certificate whose extendedKeyUsage is exactly
 * id-kp-timeStamping and critical (RFC 3161 §2.3). Two flavours, so clients
 * are exercised against both signature families and both certificate-ID forms:
 *   - ecdsa: P-256 keys, ESSCertIDv2 (SHA-256, RFC 5816)
 *   - rsa:   RSA-2048 keys, ESSCertID v1 (SHA-1, RFC 2634)
 * Files are written once into `dir` and reused; generation is idempotent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type TsaFlavour = 'ecdsa' | 'rsa';

export interface TsaPki {
  flavour: TsaFlavour;
  dir: string;
  rootCertPath: string;
  tsaCertPath: string;
  tsaKeyPath: string;
  configPath: string;
  /** ESSCertID version the TSA puts in its tokens. */
  essCertId: 'v1' | 'v2';
}

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function keyArgs(flavour: TsaFlavour): string[] {
  return flavour === 'ecdsa'
    ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
    : ['-newkey', 'rsa:2048'];
}

export function ensureTsaPki(baseDir: string, flavour: TsaFlavour): TsaPki {
  const dir = join(baseDir, flavour);
  const pki: TsaPki = {
    flavour,
    dir,
    rootCertPath: join(dir, 'root.crt'),
    tsaCertPath: join(dir, 'tsa.crt'),
    tsaKeyPath: join(dir, 'tsa.key'),
    configPath: join(dir, 'tsa.cnf'),
    essCertId: flavour === 'ecdsa' ? 'v2' : 'v1',
  };
  if (existsSync(pki.configPath) && existsSync(pki.tsaCertPath)) return pki;
  mkdirSync(dir, { recursive: true });

  writeFileSync(
    join(dir, 'root.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  writeFileSync(
    join(dir, 'tsa.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' +
      'extendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
  );
  openssl(
    [
      'req',
      '-x509',
      ...keyArgs(flavour),
      '-nodes',
      '-keyout',
      'root.key',
      '-out',
      'root.crt',
      '-days',
      '3650',
      '-subj',
      `/O=anchorlog local/CN=anchorlog local TSA root (${flavour})`,
      '-extensions',
      'v3',
      '-config',
      writeReqConfig(dir),
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-new',
      ...keyArgs(flavour),
      '-nodes',
      '-keyout',
      'tsa.key',
      '-out',
      'tsa.csr',
      '-subj',
      `/O=anchorlog local/CN=anchorlog local TSA (${flavour})`,
    ],
    dir,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'root.crt',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-out',
      'tsa.crt',
      '-days',
      '1825',
      '-extfile',
      'tsa.ext',
      '-sha256',
    ],
    dir,
  );
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    pki.configPath,
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'crypto_device = builtin',
      'signer_cert = $dir/tsa.crt',
      'certs = $dir/tsa.crt',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 2.25.311372542347146424392158434349587262593.1',
      'other_policies = 2.25.311372542347146424392158434349587262593.2',
      'digests = sha256, sha384, sha512',
      'accuracy = secs:1, millisecs:0, microsecs:0',
      'clock_precision_digits = 3',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      `ess_cert_id_alg = ${pki.essCertId === 'v1' ? 'sha1' : 'sha256'}`,
      '',
    ].join('\n'),
  );
  return pki;
}

function writeReqConfig(dir: string): string {
  const path = join(dir, 'req.cnf');
  writeFileSync(
    path,
    '[ req ]\ndistinguished_name = dn\n[ dn ]\n[ v3 ]\nbasicConstraints=critical,CA:TRUE\n' +
      'keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  return path;
}

/** All roots of the given PKIs concatenated as one PEM bundle (what a client pins). */
export function rootsPem(pkis: TsaPki[]): string {
  return pkis.map((p) => readFileSync(p.rootCertPath, 'utf8')).join('');
}
