/**
 * iSCSI PDU hot path: framing a received byte stream (PduFramer), decoding a SCSI Command BHS
 * (decodeInitiatorPdu), and encoding the Data-In and SCSI Response headers the target sends
 * back (encodeDataIn, encodeScsiResponse) into a reused buffer.
 *
 *   npx tsx bench/micro/pdu.bench.ts
 */
import { Bench } from 'tinybench';
import { PduFramer } from '../../src/transports/iscsi/framer';
import { decodeInitiatorPdu, decodeScsiCommandInto, newScsiCommand } from '../../src/transports/iscsi/initiator-pdu';
import { encodeDataIn, encodeDataInStatus, encodeScsiResponse } from '../../src/transports/iscsi/target-pdu';
import { ResidualKind } from '../../src/engine/command';
import { headerDigest, writeDigest } from '../../src/transports/iscsi/digest';
import { ScsiServiceResponse } from '../../src/transports/iscsi/spec';

const BATCH = 32;

/** RFC 7143 11.3: SCSI Command BHS, built byte by byte. */
function scsiCommand(itt: number, read: boolean, edtl: number, cdb: number[], dataLen: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = 0x01; // SCSI Command
  b[1] = 0x80 | (read ? 0x40 : 0x20) | 0x01; // F, R or W, SIMPLE
  b[5] = (dataLen >>> 16) & 0xff; // DataSegmentLength
  b[6] = (dataLen >>> 8) & 0xff;
  b[7] = dataLen & 0xff;
  b[9] = 0x02; // LUN 2, single-level
  b.writeUInt32BE(itt, 16);
  b.writeUInt32BE(edtl, 20);
  b.writeUInt32BE(itt + 1, 24); // CmdSN
  b.writeUInt32BE(itt, 28); // ExpStatSN
  Buffer.from(cdb).copy(b, 32);
  return b;
}

const READ10 = [0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0];
const WRITE10 = [0x2a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0];

/** BATCH PDUs back to back, as one TCP read would deliver them. */
function stream(write: boolean, digest: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < BATCH; i++) {
    const data = write ? Buffer.alloc(4096, i) : Buffer.alloc(0);
    const bhs = scsiCommand(i + 1, !write, 4096, write ? WRITE10 : READ10, data.length);
    parts.push(bhs);
    if (digest) {
      const d = Buffer.alloc(4);
      writeDigest(d, 0, headerDigest(bhs));
      parts.push(d);
    }
    parts.push(data);
  }
  return Buffer.concat(parts);
}

/** ops/s, mean and p99 per task. */
function printBench(bench: Bench, perTask: Record<string, string> = {}): void {
  console.table(bench.tasks.map((t) => {
    const r = t.result;
    if (!r || r.error) return { task: t.name, error: String(r?.error) };
    return {
      task: t.name,
      'ops/s': Math.round(r.hz).toLocaleString('en-US'),
      'mean ns': (r.mean * 1e6).toFixed(0),
      'p99 ns': (r.p99 * 1e6).toFixed(0),
      samples: r.samples.length,
      ...(perTask[t.name] !== undefined ? { note: perTask[t.name] } : {}),
    };
  }));
}

async function main(): Promise<void> {
  let pdus = 0;
  let bytes = 0;
  const sink = { pdu: (_h: Buffer, d: Buffer) => { pdus++; bytes += d.length; }, error: (e: unknown) => { throw new Error(`framer: ${JSON.stringify(e)}`); } };
  const framers = {
    plain: new PduFramer(sink, { maxRecvDataSegmentLength: 262144 }),
    digest: new PduFramer(sink, { maxRecvDataSegmentLength: 262144, headerDigest: true }),
  };
  const reads = stream(false, false);
  const writes = stream(true, false);
  const readsHd = stream(false, true);
  // Sanity: every PDU comes out.
  framers.plain.feed(reads);
  framers.plain.feed(writes);
  framers.digest.feed(readsHd);
  if (pdus !== 3 * BATCH || bytes !== BATCH * 4096) throw new Error(`framer delivered ${pdus} PDUs / ${bytes} bytes`);

  const cmd = scsiCommand(7, true, 4096, READ10, 0);
  const decoded = decodeInitiatorPdu(cmd);
  if (!decoded.ok || decoded.pdu.op !== 0x01) throw new Error('decodeInitiatorPdu refused the SCSI Command');

  const view = newScsiCommand();
  const EMPTY_DATA = Buffer.alloc(0);
  if (!decodeScsiCommandInto(cmd, EMPTY_DATA, view)) throw new Error('decodeScsiCommandInto refused the SCSI Command');

  const out = Buffer.alloc(48 * BATCH);
  const dataIn = { final: true, status: 0, lun: 2, itt: 7, ttt: 0xffffffff, statSN: 1, expCmdSN: 2, maxCmdSN: 130, dataSN: 0,
    bufferOffset: 0, residual: ResidualKind.NONE, residualCount: 0, dataSegmentLength: 4096 };
  const resp = { itt: 7, response: ScsiServiceResponse.COMMAND_COMPLETED_AT_TARGET, status: 0, statSN: 1, expCmdSN: 2, maxCmdSN: 130,
    expDataSN: 0, residual: ResidualKind.NONE, residualCount: 0, dataSegmentLength: 0 };

  const bench = new Bench({ time: 500, warmupTime: 100 });
  bench
    .add(`framer: ${BATCH} x READ cmd (48 B) per chunk`, () => framers.plain.feed(reads))
    .add(`framer: ${BATCH} x READ cmd + header digest per chunk`, () => framers.digest.feed(readsHd))
    .add(`framer: ${BATCH} x WRITE cmd + 4 KiB immediate per chunk`, () => framers.plain.feed(writes))
    .add('decodeInitiatorPdu: SCSI Command READ(10)', () => { if (!decodeInitiatorPdu(cmd).ok) throw new Error('refused'); })
    .add('decodeScsiCommandInto: SCSI Command READ(10), reused object', () => {
      if (!decodeScsiCommandInto(cmd, EMPTY_DATA, view)) throw new Error('refused');
    })
    .add('encodeDataIn: final with status', () => { dataIn.itt++; encodeDataIn(out, 0, dataIn); })
    .add('encodeDataInStatus: the single Data-In of a 4 KiB read', () => {
      encodeDataInStatus(out, 0, 0, 2, ++dataIn.itt, 1, 2, 130, ResidualKind.NONE, 0, 4096);
    })
    .add('encodeScsiResponse: GOOD', () => { resp.itt++; encodeScsiResponse(out, 48, resp); })
    .add(`encodeDataIn + headerDigest x ${BATCH} (one batch of responses)`, () => {
      for (let i = 0; i < BATCH; i++) {
        dataIn.itt++;
        encodeDataIn(out, i * 48, dataIn);
        headerDigest(out, i * 48, i * 48 + 48);
      }
    });
  await bench.warmup();
  await bench.run();
  const notes: Record<string, string> = {};
  for (const t of bench.tasks) {
    if (t.name.startsWith('framer') || t.name.includes(`x ${BATCH}`)) {
      notes[t.name] = `${((t.result?.mean ?? 0) * 1e6 / BATCH).toFixed(0)} ns per PDU`;
    }
  }
  printBench(bench, notes);
  if (pdus < 0) console.log(pdus);
}

void main();
