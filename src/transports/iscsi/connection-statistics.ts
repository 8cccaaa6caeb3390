// Counters of one iSCSI connection (RFC 7143): PDUs and octets received and sent by opcode,
// header and data digest errors. Counted where the connection frames and queues PDUs (connection.ts,
// pdu-output.ts) with plain increments into arrays made once; R2Ts are the R2T PDUs sent. The
// engine thread's control plane reads them on demand (connectionCounters), never per PDU.

import { dataPathStatistics } from '../../engine/statistics-switch';
import { IscsiOp } from './spec';

/** RFC 7143 11.2.1.2: the opcode is the low six bits of BHS byte 0. */
const OPCODES = 64;

export class ConnectionStatistics {
  readonly pdusIn: number[] = new Array<number>(OPCODES).fill(0);
  readonly octetsIn: number[] = new Array<number>(OPCODES).fill(0);
  readonly pdusOut: number[] = new Array<number>(OPCODES).fill(0);
  readonly octetsOut: number[] = new Array<number>(OPCODES).fill(0);
  /** RFC 7143 7.8: PDUs whose header or data segment failed its CRC32C digest. */
  headerDigestErrors = 0;
  dataDigestErrors = 0;

  /** A PDU received: opcode from BHS byte 0, `octets` its header (BHS and AHS) and data segment. */
  received(byte0: number, octets: number): void {
    if (!dataPathStatistics.enabled) return;
    const op = byte0 & 0x3f;
    this.pdusIn[op]++;
    this.octetsIn[op] += octets;
  }

  /** A PDU queued for sending, counted the same way. */
  sent(byte0: number, octets: number): void {
    if (!dataPathStatistics.enabled) return;
    const op = byte0 & 0x3f;
    this.pdusOut[op]++;
    this.octetsOut[op] += octets;
  }
}

/**
 * The counters by name, as stats.get shows them: `pdusIn.<OPCODE>`, `octetsIn.<OPCODE>`,
 * `pdusOut.<OPCODE>`, `octetsOut.<OPCODE>` for each opcode seen (names of RFC 7143 11.2.1.2 as
 * spelled in IscsiOp), `headerDigestErrors`, `dataDigestErrors` and `r2ts`.
 */
export function connectionCounters(s: ConnectionStatistics): { [name: string]: number } {
  const out: { [name: string]: number } = {};
  for (let op = 0; op < OPCODES; op++) {
    const name = IscsiOp[op] ?? `OPCODE_${op.toString(16).toUpperCase()}H`;
    if (s.pdusIn[op] > 0) { out[`pdusIn.${name}`] = s.pdusIn[op]; out[`octetsIn.${name}`] = s.octetsIn[op]; }
    if (s.pdusOut[op] > 0) { out[`pdusOut.${name}`] = s.pdusOut[op]; out[`octetsOut.${name}`] = s.octetsOut[op]; }
  }
  out.headerDigestErrors = s.headerDigestErrors;
  out.dataDigestErrors = s.dataDigestErrors;
  out.r2ts = s.pdusOut[IscsiOp.R2T];
  return out;
}
