import { SENSE } from './spec/asc';
import { PrOutSa } from './spec/opcodes';
import { check, invalidParamField, Outcome } from './result';
import { decodeIscsiTransportId } from './transport-id';

/**
 * The PERSISTENT RESERVE OUT parameter lists (SPC-4 6.16.3 basic, 6.16.4 REGISTER AND MOVE),
 * decoded and length-checked before the reservation state sees them.
 */

/** SPC-4 6.16.3: the basic parameter list is 24 bytes; with SPEC_I_PT its TransportIDs follow byte 27. */
export const PROUT_BASIC_LENGTH = 24;
const SPEC_I_PT_HEADER_LENGTH = 28;
/** SPC-4 6.16.4 table 201: the REGISTER AND MOVE list's TransportID starts at byte 24. */
const MOVE_HEADER_LENGTH = 24;

/** An initiator port a TransportID named, with the TransportID's byte offset (the field pointer). */
export interface NamedInitiatorPort {
  initiatorPort: string;
  offset: number;
}

/** The decoded PERSISTENT RESERVE OUT command and its parameter list. */
export interface PrOutRequest {
  sa: PrOutSa;
  scope: number;
  type: number;
  reservationKey: bigint;
  serviceActionReservationKey: bigint;
  specIPt: boolean;
  allTgPt: boolean;
  aptpl: boolean;
  /**
   * SPEC_I_PT: the further initiator ports to register; REGISTER AND MOVE: the one destination
   * initiator port. Empty otherwise.
   */
  transportIds: NamedInitiatorPort[];
  /** REGISTER AND MOVE: unregister the sender's I_T nexus after the move. */
  unreg: boolean;
  /** REGISTER AND MOVE: the target port of the destination I_T nexus. */
  relativeTargetPortId: number;
}

/** Decode the TransportIDs of [start, end) of `b`, one after the other (SPC-4 6.16.3). */
function transportIds(b: Buffer, start: number, end: number): NamedInitiatorPort[] | Outcome {
  const out: NamedInitiatorPort[] = [];
  const list = b.subarray(0, end);
  for (let at = start; at < end;) {
    const d = decodeIscsiTransportId(list, at);
    if ('truncated' in d) return d.truncated ? check(SENSE.PARAMETER_LIST_LENGTH_ERROR) : invalidParamField(d.byte);
    out.push({ initiatorPort: d.initiatorPort, offset: at });
    at += d.lengthBytes;
  }
  return out;
}

/** Parse and length-check a PERSISTENT RESERVE OUT parameter list (SPC-4 6.16.3, 6.16.4). */
export function parsePrOut(sa: PrOutSa, scope: number, type: number, data: Uint8Array | undefined): PrOutRequest | Outcome {
  const len = data?.length ?? 0;
  if (len < PROUT_BASIC_LENGTH || !data) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const req: PrOutRequest = {
    sa, scope, type,
    reservationKey: b.readBigUInt64BE(0), // bytes 0..7 RESERVATION KEY
    serviceActionReservationKey: b.readBigUInt64BE(8), // bytes 8..15 SERVICE ACTION RESERVATION KEY
    specIPt: false, allTgPt: false, aptpl: false, transportIds: [], unreg: false, relativeTargetPortId: 0,
  };
  if (sa === PrOutSa.REGISTER_AND_MOVE) {
    // SPC-4 6.16.4 table 201: byte 17 UNREG (1) | APTPL (0); bytes 18..19 RELATIVE TARGET PORT
    // IDENTIFIER; bytes 20..23 TRANSPORTID PARAMETER DATA LENGTH; the TransportID from byte 24.
    req.unreg = (b[17] & 0x02) !== 0;
    req.aptpl = (b[17] & 0x01) !== 0;
    req.relativeTargetPortId = b.readUInt16BE(18);
    const tidLength = b.readUInt32BE(20);
    // SPC-4 6.16.4: a list that does not hold the whole TransportID is a PARAMETER LIST LENGTH ERROR.
    if (MOVE_HEADER_LENGTH + tidLength !== len) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
    const ids = transportIds(b, MOVE_HEADER_LENGTH, len);
    if (!Array.isArray(ids)) return ids;
    // Exactly one TransportID names the destination.
    if (ids.length !== 1) return invalidParamField(20);
    req.transportIds = ids;
    return req;
  }
  // SPC-4 6.16.3 table 198: byte 20 SPEC_I_PT (3) | ALL_TG_PT (2) | APTPL (0).
  req.specIPt = (b[20] & 0x08) !== 0;
  req.allTgPt = (b[20] & 0x04) !== 0;
  req.aptpl = (b[20] & 0x01) !== 0;
  // SPC-4 6.16.3 table 200: SPEC_I_PT is valid for REGISTER only.
  if (req.specIPt && sa !== PrOutSa.REGISTER) return invalidParamField(20, 3);
  if (!req.specIPt) return len === PROUT_BASIC_LENGTH ? req : check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  // SPC-4 6.16.3: with SPEC_I_PT, bytes 24..27 TRANSPORTID PARAMETER DATA LENGTH, then the
  // TransportIDs; a list that does not hold them all is a PARAMETER LIST LENGTH ERROR.
  if (len < SPEC_I_PT_HEADER_LENGTH || SPEC_I_PT_HEADER_LENGTH + b.readUInt32BE(24) !== len) {
    return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  }
  const ids = transportIds(b, SPEC_I_PT_HEADER_LENGTH, len);
  if (!Array.isArray(ids)) return ids;
  req.transportIds = ids;
  return req;
}
