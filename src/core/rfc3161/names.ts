/**
 * Human-readable forms of X.500 names and GeneralNames, for results and
 * messages only. Equality is never decided on these strings: comparisons use
 * pkijs `RelativeDistinguishedNames.isEqual` (RFC 5280 §7.1 matching) or DER.
 */
import type * as asn1js from 'asn1js';
import type { GeneralName, RelativeDistinguishedNames } from 'pkijs';

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.13': 'description',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.25': 'DC',
};

function attrValue(v: asn1js.AsnType): string {
  const block = (v as { valueBlock?: { value?: unknown } }).valueBlock;
  return typeof block?.value === 'string' ? block.value : '#';
}

/** `CN=…, O=…` in the order the name is encoded (as `openssl x509 -subject` prints it). */
export function nameToString(name: RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `${SHORT[tv.type] ?? tv.type}=${attrValue(tv.value)}`).join(', ');
}

/** RFC 5280 §4.2.1.6 GeneralName, rendered with a type prefix for the non-directory forms. */
export function generalNameToString(gn: GeneralName): string {
  switch (gn.type) {
    case 1:
      return `email:${String(gn.value)}`;
    case 2:
      return `DNS:${String(gn.value)}`;
    case 4:
      return nameToString(gn.value as RelativeDistinguishedNames);
    case 6:
      return `URI:${String(gn.value)}`;
    default:
      return `GeneralName[${gn.type}]`;
  }
}
