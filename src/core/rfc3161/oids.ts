/**
 * Object identifiers used by RFC 3161 time-stamping and its CMS envelope.
 * Kept in one place so that every comparison uses the same constant.
 */

/** RFC 5652 §5.1: id-signedData. */
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
/** RFC 3161 §2.4.2: id-ct-TSTInfo, the eContentType of a time-stamp token. */
export const OID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4';
/** RFC 5652 §11.1: content-type attribute. */
export const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
/** RFC 5652 §11.2: message-digest attribute. */
export const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
/** RFC 2634 §5.4: id-aa-signingCertificate (ESSCertID, SHA-1). */
export const OID_ATTR_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
/** RFC 5035 §3 / RFC 5816: id-aa-signingCertificateV2 (ESSCertIDv2). */
export const OID_ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
/** RFC 5280 §4.2.1.12: id-kp-timeStamping. */
export const OID_KP_TIMESTAMPING = '1.3.6.1.5.5.7.3.8';
/** RFC 5280 extensions we interpret. */
export const OID_EXT_KEY_USAGE = '2.5.29.15';
export const OID_EXT_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_EXT_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_EXT_EXT_KEY_USAGE = '2.5.29.37';
