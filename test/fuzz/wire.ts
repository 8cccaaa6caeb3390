// iSCSI initiator PDUs built by hand for the fuzz tests (RFC 7143 11), and a reader that cuts
// the target's byte stream into PDUs. Written independently of src/transports/iscsi so the
// target's own codec never produces the inputs it is tested with.

/** RFC 7143 11.2.1.2: opcodes, spelled out here on purpose (not imported from the target). */
export const Op = {
  NOP_OUT: 0x00, SCSI_COMMAND: 0x01, TASK_MGMT_REQ: 0x02, LOGIN_REQ: 0x03, TEXT_REQ: 0x04,
  SCSI_DATA_OUT: 0x05, LOGOUT_REQ: 0x06, SNACK_REQ: 0x10,
  NOP_IN: 0x20, SCSI_RESPONSE: 0x21, TASK_MGMT_RESP: 0x22, LOGIN_RESP: 0x23, TEXT_RESP: 0x24,
  SCSI_DATA_IN: 0x25, LOGOUT_RESP: 0x26, R2T: 0x31, ASYNC_MSG: 0x32, REJECT: 0x3f,
} as const;

export const TARGET_OPCODES: ReadonlySet<number> = new Set([0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x31, 0x32, 0x3f]);
export const NO_TAG = 0xffffffff;

export interface BhsFields {
  op: number;
  immediate?: boolean;
  /** Byte 1 (F bit and opcode-specific flags). */
  b1?: number;
  b2?: number;
  b3?: number;
  /** Bytes 8-15 (LUN, or ISID+TSIH for login). */
  b8?: Buffer;
  itt?: number;
  w20?: number;
  w24?: number;
  w28?: number;
  w32?: number;
  w36?: number;
  w40?: number;
  w44?: number;
  /** Bytes 32-47 as a whole (the CDB of a SCSI Command); wins over w32..w44. */
  b32?: Buffer;
  /** Raw AHS bytes (a multiple of 4 unless deliberately broken); TotalAHSLength = len/4 unless ahsWords. */
  ahs?: Buffer;
  ahsWords?: number;
  data?: Buffer;
  /** DataSegmentLength to put in the header instead of data.length (a lie, on purpose). */
  dsl?: number;
  /** Leave out the padding after the data segment. */
  noPad?: boolean;
}

/** A whole PDU on the wire: BHS, AHS, data segment, padding (no digests). */
export function pdu(f: BhsFields): Buffer {
  const h = Buffer.alloc(48);
  h[0] = (f.immediate ? 0x40 : 0) | (f.op & 0x3f);
  h[1] = f.b1 ?? 0x80;
  h[2] = f.b2 ?? 0;
  h[3] = f.b3 ?? 0;
  const ahs = f.ahs ?? Buffer.alloc(0);
  h[4] = f.ahsWords ?? Math.floor(ahs.length / 4);
  const data = f.data ?? Buffer.alloc(0);
  const dsl = f.dsl ?? data.length;
  h[5] = (dsl >>> 16) & 0xff;
  h[6] = (dsl >>> 8) & 0xff;
  h[7] = dsl & 0xff;
  if (f.b8) f.b8.copy(h, 8, 0, 8);
  h.writeUInt32BE((f.itt ?? 0) >>> 0, 16);
  h.writeUInt32BE((f.w20 ?? 0) >>> 0, 20);
  h.writeUInt32BE((f.w24 ?? 0) >>> 0, 24);
  h.writeUInt32BE((f.w28 ?? 0) >>> 0, 28);
  if (f.b32) f.b32.copy(h, 32, 0, Math.min(16, f.b32.length));
  else {
    h.writeUInt32BE((f.w32 ?? 0) >>> 0, 32);
    h.writeUInt32BE((f.w36 ?? 0) >>> 0, 36);
    h.writeUInt32BE((f.w40 ?? 0) >>> 0, 40);
    h.writeUInt32BE((f.w44 ?? 0) >>> 0, 44);
  }
  const pad = f.noPad ? 0 : (4 - (data.length & 3)) & 3;
  return Buffer.concat([h, ahs, data, Buffer.alloc(pad)]);
}

/** SAM-5 4.7: single-level LUN, peripheral addressing below 256, flat space above. */
export function lunBytes(lun: number): Buffer {
  const b = Buffer.alloc(8);
  if (lun < 256) b[1] = lun;
  else {
    b[0] = 0x40 | ((lun >>> 8) & 0x3f);
    b[1] = lun & 0xff;
  }
  return b;
}

/** RFC 7143 6.1: key=value pairs, each followed by a zero byte. */
export function textKeys(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}

export function parseKeys(data: Buffer): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of data.toString('utf8').split('\0')) {
    const eq = part.indexOf('=');
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

export interface LoginFields {
  transit: boolean;
  cont?: boolean;
  csg: number;
  nsg: number;
  versionMax?: number;
  versionMin?: number;
  isid: Buffer; // 6 bytes
  tsih?: number;
  itt: number;
  cid?: number;
  cmdSN: number;
  expStatSN?: number;
  data: Buffer;
  dsl?: number;
}

/** RFC 7143 11.12: Login Request. */
export function loginPdu(f: LoginFields): Buffer {
  const b8 = Buffer.alloc(8);
  f.isid.copy(b8, 0, 0, 6);
  b8.writeUInt16BE((f.tsih ?? 0) & 0xffff, 6);
  return pdu({
    op: Op.LOGIN_REQ, immediate: true,
    b1: (f.transit ? 0x80 : 0) | (f.cont ? 0x40 : 0) | ((f.csg & 3) << 2) | (f.nsg & 3),
    b2: f.versionMax ?? 0, b3: f.versionMin ?? 0, b8, itt: f.itt,
    w20: ((f.cid ?? 0) & 0xffff) << 16, w24: f.cmdSN, w28: f.expStatSN ?? 0, data: f.data, dsl: f.dsl,
  });
}

export interface ScsiCommandFields {
  immediate?: boolean;
  final?: boolean;
  read?: boolean;
  write?: boolean;
  attr?: number;
  lun: number | Buffer;
  itt: number;
  edtl: number;
  cmdSN: number;
  expStatSN: number;
  cdb: Buffer | number[];
  data?: Buffer;
  ahs?: Buffer;
}

/** RFC 7143 11.3: SCSI Command. */
export function scsiCommand(f: ScsiCommandFields): Buffer {
  const cdb = Buffer.alloc(16);
  Buffer.from(f.cdb as Uint8Array).copy(cdb, 0, 0, 16);
  return pdu({
    op: Op.SCSI_COMMAND, immediate: f.immediate,
    b1: ((f.final ?? true) ? 0x80 : 0) | (f.read ? 0x40 : 0) | (f.write ? 0x20 : 0) | ((f.attr ?? 1) & 7),
    b8: typeof f.lun === 'number' ? lunBytes(f.lun) : f.lun,
    itt: f.itt, w20: f.edtl, w24: f.cmdSN, w28: f.expStatSN, b32: cdb, data: f.data, ahs: f.ahs,
  });
}

/** RFC 7143 11.18: NOP-Out. */
export function nopOut(f: { immediate?: boolean; itt: number; ttt?: number; cmdSN: number; expStatSN: number; lun?: number; data?: Buffer; final?: boolean }): Buffer {
  return pdu({
    op: Op.NOP_OUT, immediate: f.immediate ?? true, b1: (f.final ?? true) ? 0x80 : 0, b8: lunBytes(f.lun ?? 0),
    itt: f.itt, w20: f.ttt ?? NO_TAG, w24: f.cmdSN, w28: f.expStatSN, data: f.data,
  });
}

/** RFC 7143 11.7: SCSI Data-Out. */
export function dataOut(f: { final: boolean; lun?: number; itt: number; ttt: number; expStatSN: number; dataSN: number; offset: number; data: Buffer }): Buffer {
  return pdu({
    op: Op.SCSI_DATA_OUT, b1: f.final ? 0x80 : 0, b8: lunBytes(f.lun ?? 0), itt: f.itt, w20: f.ttt, w28: f.expStatSN,
    w36: f.dataSN, w40: f.offset, data: f.data,
  });
}

/** RFC 7143 11.5: Task Management Function Request. */
export function tmfPdu(f: { immediate?: boolean; fn: number; lun: number; itt: number; refItt: number; cmdSN: number; expStatSN: number; refCmdSN: number; expDataSN?: number; b1?: number }): Buffer {
  return pdu({
    op: Op.TASK_MGMT_REQ, immediate: f.immediate ?? true, b1: f.b1 ?? (0x80 | (f.fn & 0x7f)), b8: lunBytes(f.lun), itt: f.itt,
    w20: f.refItt, w24: f.cmdSN, w28: f.expStatSN, w32: f.refCmdSN, w36: f.expDataSN ?? 0,
  });
}

/** RFC 7143 11.10: Text Request. */
export function textPdu(f: { immediate?: boolean; final: boolean; cont: boolean; itt: number; ttt: number; cmdSN: number; expStatSN: number; data: Buffer }): Buffer {
  return pdu({
    op: Op.TEXT_REQ, immediate: f.immediate, b1: (f.final ? 0x80 : 0) | (f.cont ? 0x40 : 0), itt: f.itt, w20: f.ttt,
    w24: f.cmdSN, w28: f.expStatSN, data: f.data,
  });
}

/** RFC 7143 11.14: Logout Request. */
export function logoutPdu(f: { immediate?: boolean; reason: number; itt: number; cid: number; cmdSN: number; expStatSN: number; b1?: number }): Buffer {
  return pdu({
    op: Op.LOGOUT_REQ, immediate: f.immediate ?? true, b1: f.b1 ?? (0x80 | (f.reason & 0x7f)), itt: f.itt,
    w20: (f.cid & 0xffff) << 16, w24: f.cmdSN, w28: f.expStatSN,
  });
}

/** RFC 7143 11.16: SNACK Request. */
export function snackPdu(f: { b1: number; lun: number; itt: number; ttt: number; expStatSN: number; begRun: number; runLength: number }): Buffer {
  return pdu({
    op: Op.SNACK_REQ, b1: f.b1, b8: lunBytes(f.lun), itt: f.itt, w20: f.ttt, w28: f.expStatSN, w40: f.begRun, w44: f.runLength,
  });
}

// ---------------------------------------------------------------- target PDUs

export interface TargetPdu {
  op: number;
  header: Buffer;
  data: Buffer;
  b1: number;
  b2: number;
  b3: number;
  itt: number;
  statSN: number;
}

/** RFC 7143 11.2: cut the target's stream (no digests negotiated) into PDUs. */
export class PduReader {
  private buf: Buffer = Buffer.alloc(0);
  /** Set when the target sent something that cannot be a target PDU. */
  malformed: string | undefined;

  push(chunk: Buffer): TargetPdu[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: TargetPdu[] = [];
    for (;;) {
      if (this.buf.length < 48) break;
      const ahs = this.buf[4] * 4;
      const dsl = (this.buf[5] << 16) | (this.buf[6] << 8) | this.buf[7];
      const total = 48 + ahs + dsl + ((4 - (dsl & 3)) & 3);
      if (this.buf.length < total) break;
      const header = this.buf.subarray(0, 48 + ahs);
      const op = header[0] & 0x3f;
      if (!TARGET_OPCODES.has(op)) this.malformed ??= `target sent opcode 0x${op.toString(16)}`;
      out.push({
        op, header, data: this.buf.subarray(48 + ahs, 48 + ahs + dsl), b1: header[1], b2: header[2], b3: header[3],
        itt: header.readUInt32BE(16), statSN: header.readUInt32BE(24),
      });
      this.buf = this.buf.subarray(total);
    }
    return out;
  }
}
