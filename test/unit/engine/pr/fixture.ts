import { PrInitiator } from '../../../../src/engine/pr';
import { PrOutRequest } from '../../../../src/engine/pr-out-parameters';
import { PrOutSa } from '../../../../src/engine/spec/opcodes';

/**
 * The I_T nexus of `initiatorPort` with port `rtpi` of a target with two ports (relative ids 1
 * and 2); an I_T nexus key is "<initiator port>@<port>" unless `itKey` names the sender's.
 */
export const at = (initiatorPort: string, rtpi: number, itKey = `${initiatorPort}@${rtpi}`): PrInitiator => ({
  itKey, initiatorPort, relativeTargetPortId: rtpi, relativeTargetPortIds: [1, 2],
  nexusKeyAt: (port, r) => (r === 1 || r === 2 ? (port === initiatorPort && r === rtpi ? itKey : `${port}@${r}`) : undefined),
});

/** A decoded PERSISTENT RESERVE OUT request (the parameter list parsed already). */
export function req(sa: PrOutSa, rk: bigint, sark: bigint, type = 0, extra: Partial<PrOutRequest> = {}): PrOutRequest {
  return {
    sa, scope: 0, type, reservationKey: rk, serviceActionReservationKey: sark, specIPt: false, allTgPt: false, aptpl: false,
    transportIds: [], unreg: false, relativeTargetPortId: 0, ...extra,
  };
}

/** An iSCSI TransportID written out by hand (SPC-4 7.6.4.6 tables 392-393). */
export function tid(text: string, format = 0b01, addl = Math.max(20, (text.length + 1 + 3) & ~3), protocol = 0x5): number[] {
  const body = new Array<number>(addl).fill(0);
  [...Buffer.from(text)].forEach((c, i) => { body[i] = c; });
  return [(format << 6) | protocol, 0, addl >> 8, addl & 0xff, ...body];
}
