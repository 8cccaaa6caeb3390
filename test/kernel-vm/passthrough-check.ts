// Runs inside the kernel VM (guest/passthrough.sh), compiled to dist/: the asynchronous sg queue on
// a real sg node, then two initiators sharing a passthrough LUN that Nexus exports from a
// scsi_debug disk on the guest's loopback. Prints "KVMTEST: PASS|FAIL <step>" per step.
//   node passthrough-check.js sg <sgPath>
//   node passthrough-check.js shared <host> <port> <iqn> <scsi_debug sysfs dir> [<lun> <step prefix>]
// (the same shared steps run against tgtd's bs_sg as the peer: LUN 2, steps tgt-*)
//   node passthrough-check.js medium <host> <port> <iqn> <lun> <sgPath> <scsi_debug sysfs dir>
//   node passthrough-check.js gone <host> <port> <iqn> <lun> <sgPath>
// (scsi_debug's injected medium error through Nexus; the device deleted and scanned again)
import * as fs from 'node:fs';
import * as native from '../../src/native';
import { SteadySession, CommandResult } from '../fuzz/client';
import { tmfPdu, Op } from '../fuzz/wire';

let failed = 0;
function report(step: string, ok: boolean, why = ''): void {
  if (!ok) failed++;
  console.log(`KVMTEST: ${ok ? 'PASS' : 'FAIL'} ${step}${ok || !why ? '' : ` (${why})`}`);
}

const be16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number): number[] => [v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const CDB = {
  tur: () => [0, 0, 0, 0, 0, 0],
  inquiry: () => [0x12, 0, 0, 0, 96, 0],
  read10: (lba: number, n: number) => [0x28, 0, ...be32(lba), 0, ...be16(n), 0],
  write10: (lba: number, n: number) => [0x2a, 0, ...be32(lba), 0, ...be16(n), 0],
  reserve6: () => [0x16, 0, 0, 0, 0, 0],
  release6: () => [0x17, 0, 0, 0, 0, 0],
  prOut: (sa: number, type = 0) => [0x5f, sa, type, 0, 0, 0, 0, 0, 24, 0],
};

function sgRun(q: native.SgQueue, req: native.SgRequest): Promise<native.SgResult | native.NativeError> {
  return new Promise(resolve => q.submit(req, resolve));
}

/** The native queue against the real driver: many in flight, data both ways, argument checks, reset. */
async function sgSteps(sgPath: string): Promise<void> {
  const q = native.openSgQueue(sgPath, { depth: 8 });
  if (native.isNativeError(q)) { report('sg-open', false, `${q.errno} ${q.message}`); return; }
  report('sg-open', true);
  const inq = await sgRun(q, { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in', data: new Uint8Array(96) });
  report('sg-inquiry', !native.isNativeError(inq) && inq.status === 0 && inq.hostStatus === 0, JSON.stringify(inq));
  // A freshly loaded device reports POWER ON, RESET once (to the first command that is not INQUIRY).
  for (let i = 0; i < 4; i++) {
    const t = await sgRun(q, { cdb: Uint8Array.from(CDB.tur()), dir: 'none' });
    if (!native.isNativeError(t) && t.status === 0) break;
  }
  // 32 writes then 32 reads of 8 blocks each, all submitted at once: at most `depth` in the kernel.
  const pool = new Uint8Array(native.allocAlignedShared(64 * 4096));
  for (let i = 0; i < 32; i++) pool.fill(i + 1, i * 4096, (i + 1) * 4096);
  let maxInFlight = 0;
  const writes = [];
  for (let i = 0; i < 32; i++) {
    writes.push(sgRun(q, { cdb: Uint8Array.from(CDB.write10(i * 8, 8)), dir: 'out', data: pool.subarray(i * 4096, (i + 1) * 4096) }));
    maxInFlight = Math.max(maxInFlight, q.inFlight);
  }
  const w = await Promise.all(writes);
  const reads = [];
  for (let i = 0; i < 32; i++) reads.push(sgRun(q, { cdb: Uint8Array.from(CDB.read10(i * 8, 8)), dir: 'in', data: pool.subarray((32 + i) * 4096, (33 + i) * 4096) }));
  const r = await Promise.all(reads);
  const good = (x: native.SgResult | native.NativeError): boolean => !native.isNativeError(x) && x.status === 0 && x.hostStatus === 0 && x.residual === 0;
  const same = Buffer.from(pool.buffer, 0, 32 * 4096).equals(Buffer.from(pool.buffer, 32 * 4096, 32 * 4096));
  const direct = r.filter(x => !native.isNativeError(x) && x.direct).length;
  console.log(`KVMTEST: sg queue depth ${q.depth}, most in the kernel at once ${maxInFlight}, ${direct}/32 reads by direct I/O`);
  report('sg-many-in-flight', w.every(good) && r.every(good) && same && maxInFlight <= 8 && maxInFlight > 1,
    `writes ${w.filter(good).length}/32 reads ${r.filter(good).length}/32 same ${same} max ${maxInFlight}`);
  // A CHECK CONDITION with its sense: READ beyond the end (ILLEGAL REQUEST, LBA OUT OF RANGE).
  const beyond = await sgRun(q, { cdb: Uint8Array.from(CDB.read10(0x7fffffff, 1)), dir: 'in', data: new Uint8Array(512) });
  report('sg-sense', !native.isNativeError(beyond) && beyond.status === 2 && (beyond.sense[2] & 0x0f) === 5 && beyond.sense[12] === 0x21, JSON.stringify(beyond));
  // Wrong values answer EINVAL through the callback (ported from the unit test of the SG_IO call).
  const bad: native.SgRequest[] = [
    { cdb: new Uint8Array(0), dir: 'none' },
    { cdb: new Uint8Array(256), dir: 'none' },
    { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in' },
    { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in', data: new Uint8Array(0) },
    { cdb: Uint8Array.from(CDB.tur()), dir: 'none', data: new Uint8Array(8) },
    { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in', data: new Uint8Array(36), senseMax: 256 },
    { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in', data: new Uint8Array(36), timeoutMs: -1 },
    { cdb: Uint8Array.from(CDB.inquiry()), dir: 'in', data: new Uint8Array(36), timeoutMs: 1.5 },
  ];
  let sync = true;
  const einval = Promise.all(bad.map(b => sgRun(q, b)));
  sync = false;
  const answers = await einval;
  let typeErrors = 0;
  const submit = q.submit.bind(q) as unknown as (...a: unknown[]) => void;
  for (const args of [[{ cdb: CDB.tur(), dir: 'none' }, () => 0], [{ cdb: Uint8Array.from(CDB.tur()), dir: 'sideways' }, () => 0], [null, () => 0], [{ cdb: Uint8Array.from(CDB.tur()), dir: 'none' }]]) {
    try { submit(...args); } catch (e) { if (e instanceof TypeError) typeErrors++; }
  }
  report('sg-argument-checks', !sync && answers.every(a => native.isNativeError(a) && a.errno === 'EINVAL') && typeErrors === 4, JSON.stringify(answers));
  // sg(4) BLKSECTGET answers in bytes: the queue's max_sectors, which sd set for this disk
  // (max_sectors_kb); without it a device with no block driver would have no limit to go by.
  const blockDir = `/sys/class/scsi_generic/${sgPath.replace(/^.*\//, '')}/device/block`;
  const sd = fs.existsSync(blockDir) ? fs.readdirSync(blockDir)[0] : undefined;
  const maxKb = sd ? Number(fs.readFileSync(`/sys/block/${sd}/queue/max_sectors_kb`, 'utf8')) : NaN;
  report('sg-max-transfer', q.maxTransferBytes > 0 && q.maxTransferBytes === maxKb * 1024, `${q.maxTransferBytes} bytes, ${sd} max_sectors_kb ${maxKb}`);
  const reset = await new Promise<native.NativeError | undefined>(resolve => q.reset('device', resolve));
  const after = await sgRun(q, { cdb: Uint8Array.from(CDB.tur()), dir: 'none' });
  report('sg-reset', reset === undefined && !native.isNativeError(after) && (after.status === 0 || (after.sense[2] & 0x0f) === 6), JSON.stringify([reset, after]));
  q.close();
}

const kcq = (c: CommandResult): string => (c.sense.length >= 14 ? [c.sense[2] & 0x0f, c.sense[12], c.sense[13]].map(x => x.toString(16)).join('/') : `status ${c.status}`);

/** The initiator's unit attentions cleared (POWER ON at login and the like). */
async function settle(s: SteadySession, lun: number): Promise<void> {
  for (let i = 0; i < 8; i++) if ((await s.command(lun, CDB.tur())).status === 0) return;
}

async function lunReset(s: SteadySession, lun: number): Promise<number> {
  const self = s as unknown as { cmdSN: number; expStatSN: number; itt: number };
  const itt = 0x7000;
  s.wire.send(tmfPdu({ fn: 5, lun, itt, refItt: 0xffffffff, cmdSN: self.cmdSN, expStatSN: self.expStatSN, refCmdSN: 0 }));
  const r = await s.wire.waitFor(p => p.itt === itt, 20000);
  if (typeof r === 'string' || r.op !== Op.TASK_MGMT_RESP) return -1;
  self.expStatSN = (r.statSN + 1) >>> 0;
  return r.b2;
}

/** `prefix` names the steps (pt for Nexus, tgt for the tgtd peer); `L` is the LUN of the shared disk. */
async function sharedSteps(host: string, port: number, iqn: string, sdebug: string, L: number, prefix: string): Promise<void> {
  const a = await SteadySession.open(host, port, 'iqn.2026-11.io.nexus:kvm-a', iqn);
  const b = await SteadySession.open(host, port, 'iqn.2026-11.io.nexus:kvm-b', iqn);
  await settle(a, L); await settle(b, L);
  const inq = await a.command(L, CDB.inquiry(), { readLength: 96 });
  report(`${prefix}-inquiry`, inq.status === 0 && inq.data.subarray(16, 26).toString() === 'scsi_debug', inq.data.subarray(8, 32).toString());
  // RESERVE(6) by A: B conflicts; released, B reads.
  const res = await a.command(L, CDB.reserve6());
  const bRead = await b.command(L, CDB.read10(0, 1), { readLength: 512 });
  await a.command(L, CDB.release6());
  const bAfter = await b.command(L, CDB.read10(0, 1), { readLength: 512 });
  report(`${prefix}-reserve-conflict`, res.status === 0 && bRead.status === 0x18 && bAfter.status === 0, `${res.status} ${bRead.status} ${bAfter.status}`);
  // PR REGISTER + RESERVE Write Exclusive by A: B's write conflicts, its read passes.
  const key = Buffer.alloc(24); key.writeBigUInt64BE(0xabcn, 8);
  const reg = await a.command(L, CDB.prOut(0x00), { dataOut: key });
  const rkey = Buffer.alloc(24); rkey.writeBigUInt64BE(0xabcn, 0);
  const rsv = await a.command(L, CDB.prOut(0x01, 0x01), { dataOut: rkey });
  const bw = await b.command(L, CDB.write10(0, 1), { dataOut: Buffer.alloc(512) });
  const br = await b.command(L, CDB.read10(0, 1), { readLength: 512 });
  const clr = await a.command(L, CDB.prOut(0x03), { dataOut: rkey });
  report(`${prefix}-pr-write-exclusive`, reg.status === 0 && rsv.status === 0 && bw.status === 0x18 && br.status === 0 && clr.status === 0,
    `${reg.status} ${rsv.status} ${bw.status} ${br.status} ${clr.status}`);
  await settle(a, L); await settle(b, L);
  // Data round trip: A writes 64 KiB, B reads it back.
  const data = Buffer.alloc(65536);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32BE(i ^ 0x5a5a5a5a, i);
  const wr = await a.command(L, CDB.write10(1000, 128), { dataOut: data });
  const rd = await b.command(L, CDB.read10(1000, 128), { readLength: 65536 });
  report(`${prefix}-data-round-trip`, wr.status === 0 && rd.status === 0 && rd.data.equals(data), `${wr.status} ${rd.status} ${kcq(wr)}`);
  // LUN RESET from A reaches B as BUS DEVICE RESET FUNCTION OCCURRED.
  const tmf = await lunReset(a, L);
  const bUa = await b.command(L, CDB.tur());
  report(`${prefix}-lun-reset-ua`, tmf === 0 && bUa.status === 2 && kcq(bUa) === '6/29/3', `tmf ${tmf} ${kcq(bUa)}`);
  await settle(a, L); await settle(b, L);
  // A unit attention the device itself raises (scsi_debug: a changed virtual_gb is CAPACITY DATA
  // HAS CHANGED on its devices) reaches both: A from the device, B from the engine.
  fs.writeFileSync(`${sdebug}/virtual_gb`, '1');
  const aUa = await a.command(L, CDB.tur());
  const bUa2 = await b.command(L, CDB.tur());
  fs.writeFileSync(`${sdebug}/virtual_gb`, '0');
  report(`${prefix}-device-ua-both`, kcq(aUa) === '6/2a/9' && kcq(bUa2) === '6/2a/9', `${kcq(aUa)} ${kcq(bUa2)}`);
  await settle(a, L); await settle(b, L);
  a.close(); b.close();
}

/** Sense key, ASC, ASCQ and INFORMATION of fixed (70h/71h) or descriptor (72h/73h) sense data. */
function senseOf(sense: Uint8Array): { kcq: string; info: bigint | undefined } {
  const b = Buffer.from(sense);
  if (b.length < 8) return { kcq: 'none', info: undefined };
  if ((b[0] & 0x7f) >= 0x72) {
    // SPC-4 4.5.2: descriptor format; descriptor type 00h is INFORMATION (8 bytes at +4).
    let info: bigint | undefined;
    for (let i = 8; i + 2 <= 8 + b[7] && i + 2 <= b.length; i += 2 + b[i + 1]) {
      if (b[i] === 0x00 && i + 12 <= b.length) info = b.readBigUInt64BE(i + 4);
    }
    return { kcq: [b[1] & 0x0f, b[2], b[3]].map(x => x.toString(16)).join('/'), info };
  }
  // SPC-4 4.5.3: fixed format; VALID (byte 0 bit 7) says bytes 3..6 are the INFORMATION field.
  const info = b[0] & 0x80 ? BigInt(b.readUInt32BE(3)) : undefined;
  return { kcq: b.length >= 14 ? [b[2] & 0x0f, b[12], b[13]].map(x => x.toString(16)).join('/') : 'short', info };
}

/**
 * scsi_debug's medium error (module option opts bit 1, 2 = medium_err): a read of an LBA in
 * [medium_error_start, +medium_error_count) fails with MEDIUM ERROR, UNRECOVERED READ ERROR. The
 * initiator behind Nexus gets the same sense as a read on the sg node itself, INFORMATION included.
 */
async function mediumSteps(host: string, port: number, iqn: string, L: number, sgPath: string, sdebug: string): Promise<void> {
  const start = Number(fs.readFileSync('/sys/module/scsi_debug/parameters/medium_error_start', 'utf8'));
  const s = await SteadySession.open(host, port, 'iqn.2026-11.io.nexus:kvm-a', iqn);
  await settle(s, L);
  const q = native.openSgQueue(sgPath, { depth: 1 });
  if (native.isNativeError(q)) { report('pt-medium-error', false, `${q.errno} ${q.message}`); s.close(); return; }
  fs.writeFileSync(`${sdebug}/opts`, '2');
  try {
    const direct = await sgRun(q, { cdb: Uint8Array.from(CDB.read10(start + 1, 1)), dir: 'in', data: new Uint8Array(512) });
    const through = await s.command(L, CDB.read10(start + 1, 1), { readLength: 512 });
    const d = native.isNativeError(direct) ? { kcq: direct.errno, info: undefined } : senseOf(direct.sense);
    const t = senseOf(through.sense);
    // A read outside the range still succeeds while the option is on.
    const clean = await s.command(L, CDB.read10(start + 64, 1), { readLength: 512 });
    console.log(`KVMTEST: medium error at LBA ${start + 1}: device ${d.kcq} info ${d.info}, through Nexus ${t.kcq} info ${t.info}`);
    report('pt-medium-error', through.status === 2 && d.kcq === '3/11/0' && t.kcq === d.kcq && t.info === d.info && clean.status === 0,
      `status ${through.status} device ${d.kcq}/${d.info} nexus ${t.kcq}/${t.info} clean ${clean.status}`);
  } finally {
    fs.writeFileSync(`${sdebug}/opts`, '0');
    q.close();
  }
  s.close();
}

/**
 * The device removed from this host (`echo 1 > .../device/delete`): Nexus's commands to it fail
 * with LOGICAL UNIT NOT SUPPORTED; scanned again (`echo "- - -" > .../scan`), the same device is
 * back and every I_T nexus first gets POWER ON, RESET (06h/29h/00h), then GOOD.
 */
async function goneSteps(host: string, port: number, iqn: string, L: number, sgPath: string): Promise<void> {
  const a = await SteadySession.open(host, port, 'iqn.2026-11.io.nexus:kvm-a', iqn);
  const b = await SteadySession.open(host, port, 'iqn.2026-11.io.nexus:kvm-b', iqn);
  await settle(a, L); await settle(b, L);
  const sg = sgPath.replace(/^.*\//, '');
  const deviceDir = fs.realpathSync(`/sys/class/scsi_generic/${sg}/device`);
  const hostName = deviceDir.split('/').find(p => /^host\d+$/.test(p))!;
  const before = await a.command(L, CDB.read10(0, 1), { readLength: 512 });
  fs.writeFileSync(`${deviceDir}/delete`, '1');
  const aGone = await a.command(L, CDB.read10(0, 1), { readLength: 512 });
  const bGone = await b.command(L, CDB.tur());
  report('pt-device-gone', before.status === 0 && kcq(aGone) === '5/25/0' && kcq(bGone) === '5/25/0', `${before.status} ${kcq(aGone)} ${kcq(bGone)}`);
  fs.writeFileSync(`/sys/class/scsi_host/${hostName}/scan`, '- - -');
  const t0 = Date.now();
  let aBack = await a.command(L, CDB.tur());
  while (kcq(aBack) === '5/25/0' && Date.now() - t0 < 20000) {
    await new Promise(res => setTimeout(res, 300));
    aBack = await a.command(L, CDB.tur());
  }
  const bBack = await b.command(L, CDB.tur());
  const aRead = await a.command(L, CDB.read10(0, 1), { readLength: 512 });
  const bRead = await b.command(L, CDB.read10(0, 1), { readLength: 512 });
  console.log(`KVMTEST: device back as ${fs.existsSync(sgPath) ? sgPath : 'another node'} after ${Date.now() - t0} ms`);
  report('pt-device-back', kcq(aBack) === '6/29/0' && kcq(bBack) === '6/29/0' && aRead.status === 0 && bRead.status === 0 &&
    aRead.data.equals(before.data), `${kcq(aBack)} ${kcq(bBack)} ${aRead.status} ${bRead.status}`);
  a.close(); b.close();
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  try {
    if (mode === 'sg') await sgSteps(args[0]);
    else if (mode === 'medium') await mediumSteps(args[0], Number(args[1]), args[2], Number(args[3]), args[4], args[5]);
    else if (mode === 'gone') await goneSteps(args[0], Number(args[1]), args[2], Number(args[3]), args[4]);
    else await sharedSteps(args[0], Number(args[1]), args[2], args[3], Number(args[4] ?? 0), args[5] ?? 'pt');
  } catch (e) {
    report(`${mode}-run`, false, (e as Error).message);
  }
  process.exit(failed === 0 ? 0 : 1);
}

void main();
