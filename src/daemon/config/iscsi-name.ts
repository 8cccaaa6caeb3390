/**
 * iSCSI name formats (RFC 7143 4.2.7.1-4.2.7.5; RFC 3721 for the rationale):
 *   iqn.<yyyy-mm>.<reversed domain>[:<unique string>]   "iqn.2026-11.io.nexus:demo"
 *   eui.<16 hex digits>                                 "eui.02004567A425678D"
 *   naa.<16 or 32 hex digits>                           "naa.52004567BA64678D" (RFC 3980)
 * Names are case-insensitive (the stringprep profile of RFC 3722 folds them to lower case) and at
 * most 223 bytes of UTF-8.
 */

export type NameCheck = { ok: true } | { ok: false; message: string };

/** RFC 7143 4.2.7.1: iSCSI names are at most 223 bytes. */
export const ISCSI_NAME_MAX_BYTES = 223;

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
// RFC 7143 4.2.7.4: the naming authority is a reversed domain name; after ':' any string made of
// the characters the stringprep profile allows (letters, digits, '-', '.', ':', and non-ASCII).
const IQN_RE = new RegExp(`^iqn\\.(\\d{4})-(\\d{2})\\.${LABEL}(?:\\.${LABEL})*(?::[a-z0-9.:\\-\\u0080-\\uffff]*)?$`, 'i');
const EUI_RE = /^eui\.[0-9a-f]{16}$/i;
const NAA_RE = /^naa\.(?:[0-9a-f]{16}|[0-9a-f]{32})$/i;

export function checkIscsiName(name: string): NameCheck {
  if (Buffer.byteLength(name, 'utf8') > ISCSI_NAME_MAX_BYTES) {
    return { ok: false, message: `iSCSI name is longer than ${ISCSI_NAME_MAX_BYTES} bytes (RFC 7143 4.2.7.1)` };
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('iqn.')) {
    const m = IQN_RE.exec(name);
    if (m === null) {
      return { ok: false, message: `"${name}" is not a valid iqn name: expected iqn.yyyy-mm.reversed.domain[:identifier] (RFC 7143 4.2.7.4)` };
    }
    const month = Number(m[2]);
    if (month < 1 || month > 12) return { ok: false, message: `"${name}": month ${m[2]} in the iqn date is not 01..12` };
    return { ok: true };
  }
  if (lower.startsWith('eui.')) {
    return EUI_RE.test(name) ? { ok: true }
      : { ok: false, message: `"${name}" is not a valid eui name: expected "eui." and 16 hex digits (RFC 7143 4.2.7.5)` };
  }
  if (lower.startsWith('naa.')) {
    return NAA_RE.test(name) ? { ok: true }
      : { ok: false, message: `"${name}" is not a valid naa name: expected "naa." and 16 or 32 hex digits (RFC 7143 4.2.7.6)` };
  }
  return { ok: false, message: `"${name}" is not an iSCSI name: it must start with "iqn.", "eui." or "naa." (RFC 7143 4.2.7.2)` };
}
