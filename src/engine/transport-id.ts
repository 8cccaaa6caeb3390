/**
 * SPC-4 7.6.4 TransportIDs: how PERSISTENT RESERVE names an initiator port, in READ FULL STATUS
 * (6.15.5) and in the parameter lists of REGISTER with SPEC_I_PT and REGISTER AND MOVE (6.16.3,
 * 6.16.4). Nexus's target ports are iSCSI ports (the local transport names its initiators the same
 * way), so the iSCSI TransportID (7.6.4.6) is the one it encodes and accepts.
 */

/** SPC-4 7.6.1 table 360: PROTOCOL IDENTIFIER of iSCSI. */
export const ISCSI_PROTOCOL_ID = 0x5;

/** SPC-4 7.6.4.6: FORMAT CODE 00b names an initiator device, 01b an initiator port (name + ISID). */
export const enum IscsiTransportIdFormat {
  INITIATOR_DEVICE = 0b00,
  INITIATOR_PORT = 0b01,
}

/** The separator of an iSCSI initiator port name (RFC 7143 4.2.7.1, SPC-4 7.6.4.6 table 393). */
const ISID_SEPARATOR = /,i,0x([0-9a-fA-F]+)$/;

/**
 * SPC-4 7.6.4.6 tables 392-393: the iSCSI TransportID. Format 01b carries "<name>,i,0x<ISID>"
 * for an initiator port with an ISID, format 00b the name alone; the string is NUL-terminated and
 * padded to a multiple of four, with an ADDITIONAL LENGTH of at least 20.
 */
export function iscsiTransportId(initiatorPort: string): Buffer {
  const withIsid = ISID_SEPARATOR.test(initiatorPort);
  const name = Buffer.from(initiatorPort, 'utf8');
  const addl = Math.max(20, (name.length + 1 + 3) & ~3);
  const b = Buffer.alloc(4 + addl);
  // byte 0: FORMAT CODE (7..6) | PROTOCOL IDENTIFIER (3..0)
  b[0] = ((withIsid ? IscsiTransportIdFormat.INITIATOR_PORT : IscsiTransportIdFormat.INITIATOR_DEVICE) << 6) | ISCSI_PROTOCOL_ID;
  b.writeUInt16BE(addl, 2); // bytes 2..3 ADDITIONAL LENGTH
  name.copy(b, 4); // bytes 4..n iSCSI NAME, NUL-terminated and padded
  return b;
}

/** A TransportID read from a parameter list: the initiator port it names and its length in bytes. */
export interface DecodedTransportId {
  initiatorPort: string;
  lengthBytes: number;
}

/** Why a TransportID could not be read: it runs past the list, or a field is wrong (its byte). */
export type TransportIdError = { truncated: true } | { truncated: false; byte: number };

/**
 * Read the iSCSI TransportID at `offset` of `b` (SPC-4 7.6.4.6). The initiator port comes back
 * spelled as Nexus spells I_T nexus identities: "<name>,i,0x<ISID>" with the ISID in lower case
 * (format 01b), or the name alone (format 00b, an initiator without an ISID).
 */
export function decodeIscsiTransportId(b: Buffer, offset: number): DecodedTransportId | TransportIdError {
  if (offset + 4 > b.length) return { truncated: true };
  const protocol = b[offset] & 0x0f;
  const format = b[offset] >> 6;
  // SPC-4 7.6.4.1: a TransportID of another SCSI transport protocol names no port of this target.
  if (protocol !== ISCSI_PROTOCOL_ID) return { truncated: false, byte: offset };
  if (format !== IscsiTransportIdFormat.INITIATOR_DEVICE && format !== IscsiTransportIdFormat.INITIATOR_PORT) {
    return { truncated: false, byte: offset };
  }
  const addl = b.readUInt16BE(offset + 2);
  const end = offset + 4 + addl;
  if (end > b.length) return { truncated: true };
  // SPC-4 7.6.4.6: ADDITIONAL LENGTH is a multiple of four, at least 20.
  if (addl < 20 || addl % 4 !== 0) return { truncated: false, byte: offset + 2 };
  const field = b.subarray(offset + 4, end);
  const nul = field.indexOf(0);
  // The name is NUL-terminated within the field.
  if (nul <= 0) return { truncated: false, byte: offset + 4 };
  const text = field.subarray(0, nul).toString('utf8');
  const m = ISID_SEPARATOR.exec(text);
  if (format === IscsiTransportIdFormat.INITIATOR_PORT) {
    // RFC 7143 10.12.5: the ISID is 6 bytes, 12 hex digits.
    if (!m || m[1].length !== 12) return { truncated: false, byte: offset + 4 };
    return { initiatorPort: `${text.slice(0, m.index)},i,0x${m[1].toLowerCase()}`, lengthBytes: 4 + addl };
  }
  if (m) return { truncated: false, byte: offset };
  return { initiatorPort: text, lengthBytes: 4 + addl };
}
