import { expect } from 'chai';
import {
  bhsBufferOffset, bhsDataSegmentLength, bhsDataSN, bhsExpectedDataTransferLength, bhsFinal, bhsImmediate, bhsItt, bhsOpcode,
  bhsScsiWrite, bhsTotalAhsLength, bhsTtt, decodeLun, encodeLun, LUN_UNSUPPORTED,
} from '../../../src/transports/iscsi/bhs';
import {
  decodeDataOutInto, decodeInitiatorPdu, decodeScsiCommandInto, newDataOut, newScsiCommand, InitiatorPdu,
} from '../../../src/transports/iscsi/initiator-pdu';
import {
  buildAsyncMessage, buildDataIn, buildLoginResponse, buildLogoutResponse, buildNopIn, buildR2T,
  buildReject, buildScsiResponse, buildTextResponse, buildTmfResponse, encodeDataIn, encodeDataInStatus,
} from '../../../src/transports/iscsi/target-pdu';
import { ResidualKind } from '../../../src/engine/command';
import { TaskAttr } from '../../../src/engine/spec/status';
import { NexusError } from '../../../src/engine/result';
import {
  AsyncEvent, IscsiOp, LoginStatus, LogoutResponse, RejectReason, ScsiServiceResponse, SnackType, TmfResponse,
} from '../../../src/transports/iscsi/spec';

/** Hand-built BHS: hex with spaces, padded with zeros to 48 bytes. */
function bhs(hex: string): Buffer {
  const b = Buffer.alloc(48);
  Buffer.from(hex.replace(/\s+/g, ''), 'hex').copy(b);
  return b;
}
function ok(h: Buffer, data: Buffer = Buffer.alloc(0)): InitiatorPdu {
  const r = decodeInitiatorPdu(h, data);
  if (!r.ok) throw new Error(`decode failed: ${r.detail}`);
  return r.pdu;
}
const hex = (b: Buffer): string => b.toString('hex');

describe('iSCSI BHS field accessors (bhs.ts)', () => {
  it('RFC 7143 11.3: a SCSI Command: opcode without I, W bit, Expected Data Transfer Length, ITT', () => {
    // byte 0: I + 01h; byte 1: F W ATTR=1; TotalAHSLength 0; DSL 000200; ITT 11223344; EDTL 00010000
    const h = bhs('41 a1 0000 00 000200 0000000000000000 11223344 00010000');
    expect(bhsOpcode(h)).to.equal(IscsiOp.SCSI_COMMAND);
    expect(bhsImmediate(h)).to.equal(true);
    expect(bhsFinal(h)).to.equal(true);
    expect(bhsScsiWrite(h)).to.equal(true);
    expect(bhsTotalAhsLength(h)).to.equal(0);
    expect(bhsDataSegmentLength(h)).to.equal(0x200);
    expect(bhsItt(h)).to.equal(0x11223344);
    expect(bhsExpectedDataTransferLength(h)).to.equal(0x10000);
    expect(bhsScsiWrite(bhs('01 c1'))).to.equal(false);
  });
  it('RFC 7143 11.7: a Data-Out: TTT, DataSN, Buffer Offset; the framer reads lengths at an offset in a chunk', () => {
    // opcode 05h, F; AHS 2 words; DSL 001000; ITT 1; TTT 0a0b0c0d; DataSN 3 (bytes 36-39); Buffer Offset 2000h (40-43)
    const h = bhs('05 80 0000 02 001000 0000000000000000 00000001 0a0b0c0d 00000000 00000000 00000000 00000003 00002000');
    expect(bhsTtt(h)).to.equal(0x0a0b0c0d);
    expect(bhsDataSN(h)).to.equal(3);
    expect(bhsBufferOffset(h)).to.equal(0x2000);
    const chunk = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), h]);
    expect(bhsOpcode(chunk, 3)).to.equal(IscsiOp.SCSI_DATA_OUT);
    expect(bhsTotalAhsLength(chunk, 3)).to.equal(8);
    expect(bhsDataSegmentLength(chunk, 3)).to.equal(0x1000);
  });
});

describe('iSCSI LUN field (bhs.ts)', () => {
  it('SAM-5 4.7.7.2: peripheral device addressing', () => {
    expect(decodeLun(Buffer.from('0005000000000000', 'hex'), 0)).to.equal(5);
    const out = Buffer.alloc(8, 0xee);
    encodeLun(out, 0, 255);
    expect(hex(out)).to.equal('00ff000000000000');
  });
  it('SAM-5 4.7.7.4: flat space addressing', () => {
    expect(decodeLun(Buffer.from('4123000000000000', 'hex'), 0)).to.equal(0x123);
    const out = Buffer.alloc(8);
    encodeLun(out, 0, 0x3fff);
    expect(hex(out)).to.equal('7fff000000000000');
    encodeLun(out, 0, 256);
    expect(hex(out)).to.equal('4100000000000000');
  });
  it('unsupported methods, bus numbers and second levels are LUN_UNSUPPORTED', () => {
    expect(decodeLun(Buffer.from('8001000000000000', 'hex'), 0)).to.equal(LUN_UNSUPPORTED);
    expect(decodeLun(Buffer.from('c001000000000000', 'hex'), 0)).to.equal(LUN_UNSUPPORTED);
    expect(decodeLun(Buffer.from('0101000000000000', 'hex'), 0)).to.equal(LUN_UNSUPPORTED);
    expect(decodeLun(Buffer.from('0001000100000000', 'hex'), 0)).to.equal(LUN_UNSUPPORTED);
  });
  it('encodeLun refuses values beyond flat space', () => {
    expect(() => encodeLun(Buffer.alloc(8), 0, 0x4000)).to.throw(NexusError).with.property('code', 'ERR_ISCSI_LUN');
  });
});

describe('iSCSI initiator PDU decoding (initiator-pdu.ts)', () => {
  it('RFC 7143 11.3: SCSI Command READ(10) with flags, LUN, ITT, EDTL, CmdSN, ExpStatSN, CDB', () => {
    const h = bhs(`01 c1 0000 00 000000 0003000000000000 00000014 00000400 00000014 00000018
                   28 00 00000000 00 0002 00 000000000000`);
    const p = ok(h);
    expect(p.op).to.equal(IscsiOp.SCSI_COMMAND);
    if (p.op !== IscsiOp.SCSI_COMMAND) return;
    expect(p).to.include({ immediate: false, final: true, read: true, write: false, attr: TaskAttr.SIMPLE, lun: 3 });
    expect(p).to.include({ itt: 0x14, expectedDataTransferLength: 0x400, cmdSN: 0x14, expStatSN: 0x18 });
    expect(hex(p.cdb)).to.equal('28000000000000000200000000000000');
    expect(p.bidiReadLength).to.equal(undefined);
  });

  it('SCSI Command with immediate data, I bit and ORDERED attribute', () => {
    const h = bhs(`41 a2 0000 00 000004 0000000000000000 00000001 00000200 00000007 00000002 2a`);
    const p = ok(h, Buffer.from('deadbeef', 'hex'));
    if (p.op !== IscsiOp.SCSI_COMMAND) throw new Error('op');
    expect(p).to.include({ immediate: true, final: true, read: false, write: true, attr: TaskAttr.ORDERED });
    expect(hex(p.data)).to.equal('deadbeef');
  });

  it('RFC 7143 11.2.2.3-4: extended CDB and bidirectional read length AHS', () => {
    // TotalAHSLength 4 words: ext CDB AHS (AHSLength 5 = reserved byte + 4 CDB bytes) and bidi AHS, 8 bytes each
    const b = bhs(`01 e1 0000 04 000000 0000000000000000 00000009 00001000 00000001 00000001 7f`);
    const ahs = Buffer.from('00050100a1a2a3a4' + '0005020000002000', 'hex');
    const p = ok(Buffer.concat([b, ahs]));
    if (p.op !== IscsiOp.SCSI_COMMAND) throw new Error('op');
    expect(p.cdb.length).to.equal(20);
    expect(hex(p.cdb.subarray(16))).to.equal('a1a2a3a4');
    expect(p.bidiReadLength).to.equal(0x2000);
  });

  it('rejects malformed AHS, AHS on other PDUs and mismatched lengths', () => {
    const b = bhs(`01 81 0000 01 000000`);
    const bad = decodeInitiatorPdu(Buffer.concat([b, Buffer.from('00090100', 'hex')]));
    expect(bad).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
    expect(decodeInitiatorPdu(b)).to.include({ ok: false, reason: 'protocol-error' });
    expect(decodeInitiatorPdu(bhs('00 80 0000 00 000004'))).to.include({ ok: false, reason: 'protocol-error' });
    expect(decodeInitiatorPdu(Buffer.alloc(20))).to.include({ ok: false, reason: 'protocol-error' });
    const nop = Buffer.concat([bhs('00 80 0000 01 000000'), Buffer.from('00010100', 'hex')]);
    expect(decodeInitiatorPdu(nop)).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
  });

  it('RFC 7143 11.3.1.1: data or F=0 on a command without W is a protocol error', () => {
    expect(decodeInitiatorPdu(bhs('01 c1 0000 00 000001'), Buffer.from([1]))).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
    expect(decodeInitiatorPdu(bhs('01 41'))).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
  });

  it('RFC 7143 11.3: decodeScsiCommandInto fills a reused object and copies the CDB', () => {
    const out = newScsiCommand();
    const h = bhs(`01 c1 0000 00 000000 0003000000000000 00000014 00000400 00000014 00000018
                   28 00 00000000 00 0002 00 000000000000`);
    expect(decodeScsiCommandInto(h, Buffer.alloc(0), out)).to.equal(true);
    expect(out).to.include({ immediate: false, final: true, read: true, write: false, attr: TaskAttr.SIMPLE, lun: 3 });
    expect(out).to.include({ itt: 0x14, expectedDataTransferLength: 0x400, cmdSN: 0x14, expStatSN: 0x18 });
    h.fill(0xee, 32, 48);
    expect(hex(out.cdb)).to.equal('28000000000000000200000000000000');
    const w = bhs(`41 a2 0000 00 000004 0000000000000000 00000001 00000200 00000007 00000002 2a`);
    expect(decodeScsiCommandInto(w, Buffer.from('deadbeef', 'hex'), out)).to.equal(true);
    expect(out).to.include({ immediate: true, final: true, read: false, write: true, attr: TaskAttr.ORDERED, itt: 1, cmdSN: 7 });
    expect(hex(out.data)).to.equal('deadbeef');
    expect(hex(out.cdb.subarray(0, 2))).to.equal('2a00');
  });

  it('RFC 7143 11.7: decodeDataOutInto fills a reused object; AHS, bad lengths and other opcodes go to the full decoder', () => {
    const out = newDataOut();
    // F, LUN 2, ITT 9, TTT 0x100, ExpStatSN 5, DataSN 1, Buffer Offset 0x2000, 4 bytes of data
    const h = bhs('05 80 0000 00 000004 0002000000000000 00000009 00000100 00000000 00000005 00000000 00000001 00002000');
    expect(decodeDataOutInto(h, Buffer.from('cafebabe', 'hex'), out)).to.equal(true);
    expect(out).to.include({ immediate: false, final: true, lun: 2, itt: 9, ttt: 0x100, expStatSN: 5, dataSN: 1, bufferOffset: 0x2000 });
    expect(hex(out.data)).to.equal('cafebabe');
    const full = ok(h, Buffer.from('cafebabe', 'hex'));
    expect(full).to.deep.include({ ...out, data: full.data });
    expect(decodeDataOutInto(bhs('05 80 0000 01 000000'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeDataOutInto(bhs('05 80 0000 00 000004'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeDataOutInto(bhs('01 80'), Buffer.alloc(0), out)).to.equal(false);
  });

  it('decodeScsiCommandInto leaves AHS, bad lengths, other opcodes and RFC 7143 11.3.1.1 errors to the full decoder', () => {
    const out = newScsiCommand();
    expect(decodeScsiCommandInto(bhs('01 e1 0000 01 000000'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeScsiCommandInto(bhs('01 c1 0000 00 000004'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeScsiCommandInto(bhs('01 c1 0000 00 000001'), Buffer.from([1]), out)).to.equal(false);
    expect(decodeScsiCommandInto(bhs('01 41'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeScsiCommandInto(bhs('05 80'), Buffer.alloc(0), out)).to.equal(false);
    expect(decodeScsiCommandInto(Buffer.alloc(20, 1), Buffer.alloc(0), out)).to.equal(false);
  });

  it('RFC 7143 11.7: Data-Out', () => {
    const p = ok(bhs(`05 80 0000 00 000002 0001000000000000 00000033 00000044 00000000 00000009 00000000 00000002 00001000`), Buffer.from('abcd', 'hex'));
    expect(p).to.deep.include({ op: IscsiOp.SCSI_DATA_OUT, final: true, lun: 1, itt: 0x33, ttt: 0x44, expStatSN: 9, dataSN: 2, bufferOffset: 0x1000 });
  });

  it('RFC 7143 11.18: NOP-Out; a reply (ITT 0xffffffff) must be immediate', () => {
    const p = ok(bhs(`40 80 0000 00 000000 0000000000000000 ffffffff 00000077 00000005 00000006`));
    expect(p).to.include({ op: IscsiOp.NOP_OUT, immediate: true, itt: 0xffffffff, ttt: 0x77, cmdSN: 5, expStatSN: 6 });
    expect(decodeInitiatorPdu(bhs(`00 80 0000 00 000000 0000000000000000 ffffffff`))).to.include({ ok: false });
  });

  it('RFC 7143 11.5: Task Management request', () => {
    const p = ok(bhs(`42 81 0000 00 000000 0002000000000000 00000010 00000011 00000012 00000013 00000014 00000015`));
    expect(p).to.include({ op: IscsiOp.TASK_MGMT_REQ, function: 1, lun: 2, itt: 0x10, referencedTaskTag: 0x11, cmdSN: 0x12, expStatSN: 0x13, refCmdSN: 0x14, expDataSN: 0x15 });
  });

  it('RFC 7143 11.12: Login request with T, CSG, NSG, versions, ISID, TSIH, CID', () => {
    const p = ok(bhs(`43 87 00 00 00 000003 400001370000 0000 00000000 0001 0000 00000001 00000000`), Buffer.from('A=1'));
    expect(p).to.include({ op: IscsiOp.LOGIN_REQ, immediate: true, transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0 });
    expect(p).to.include({ isid: 0x400001370000, tsih: 0, cid: 1, cmdSN: 1, expStatSN: 0 });
    expect(decodeInitiatorPdu(bhs(`43 c1`))).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
  });

  it('RFC 7143 11.10: Text request; F with C is an error', () => {
    const p = ok(bhs(`44 40 0000 00 000000 0000000000000000 00000002 ffffffff 00000003 00000004`));
    expect(p).to.include({ op: IscsiOp.TEXT_REQ, final: false, continue: true, ttt: 0xffffffff, cmdSN: 3 });
    expect(decodeInitiatorPdu(bhs(`44 c0`))).to.include({ ok: false, reason: RejectReason.PROTOCOL_ERROR });
  });

  it('RFC 7143 11.14: Logout request; unknown reason code is an invalid field', () => {
    const p = ok(bhs(`46 80 0000 00 000000 0000000000000000 00000009 0001 0000 00000007 00000008`));
    expect(p).to.include({ op: IscsiOp.LOGOUT_REQ, reasonCode: 0, cid: 1, cmdSN: 7, expStatSN: 8 });
    expect(decodeInitiatorPdu(bhs(`46 83`))).to.include({ ok: false, reason: RejectReason.INVALID_PDU_FIELD });
  });

  it('RFC 7143 11.16: SNACK', () => {
    const p = ok(bhs(`10 81 0000 00 000000 0000000000000000 00000009 0000000a 00000000 0000000b 00000000 00000000 00000003 00000002`));
    expect(p).to.include({ op: IscsiOp.SNACK_REQ, type: SnackType.STATUS, itt: 9, ttt: 10, expStatSN: 11, begRun: 3, runLength: 2 });
  });

  it('RFC 7143 11.17.1: unknown and target opcodes are "command not supported"', () => {
    expect(decodeInitiatorPdu(bhs('1c 80 0000 00 000000 0000000000000000 00000042'))).to.deep.include({ ok: false, reason: RejectReason.COMMAND_NOT_SUPPORTED, itt: 0x42 });
    expect(decodeInitiatorPdu(bhs('21 80'))).to.include({ ok: false, reason: RejectReason.COMMAND_NOT_SUPPORTED });
  });
});

describe('iSCSI target PDU encoding (target-pdu.ts)', () => {
  const seq = { statSN: 0x10, expCmdSN: 0x20, maxCmdSN: 0x3f };

  it('RFC 7143 11.19: NOP-In with ping data and padding', () => {
    const b = buildNopIn({ lun: 1, itt: 0xffffffff, ttt: 0x1234, ...seq }, Buffer.from('abcde'));
    expect(hex(b)).to.equal(
      '20800000' + '00000005' + '0001000000000000' + 'ffffffff' + '00001234' + '00000010' + '00000020' + '0000003f' +
        '00'.repeat(12) + '6162636465000000',
    );
  });

  it('RFC 7143 11.4: SCSI Response, CHECK CONDITION, underflow, sense with SenseLength', () => {
    const sense = Buffer.from('7000050000000a000000000024000000000000', 'hex').subarray(0, 18);
    const b = buildScsiResponse(
      { itt: 7, response: ScsiServiceResponse.COMMAND_COMPLETED_AT_TARGET, status: 0x02, ...seq, expDataSN: 0, residual: ResidualKind.UNDERFLOW, residualCount: 512 },
      sense,
    );
    expect(hex(b.subarray(0, 48))).to.equal(
      '21820002' + '00000014' + '0000000000000000' + '00000007' + '00000000' + '00000010' + '00000020' + '0000003f' + '00000000' + '00000000' + '00000200',
    );
    expect(hex(b.subarray(48))).to.equal('0012' + hex(sense)); // 20 bytes: no padding
  });

  it('SCSI Response overflow and bidi flags', () => {
    const b = buildScsiResponse({
      itt: 1, response: ScsiServiceResponse.TARGET_FAILURE, status: 0, ...seq, expDataSN: 3,
      residual: ResidualKind.OVERFLOW, residualCount: 4, bidiResidual: ResidualKind.UNDERFLOW, bidiResidualCount: 8,
    });
    expect(hex(b.subarray(0, 4))).to.equal('218c0100');
    expect(hex(b.subarray(36, 48))).to.equal('00000003' + '00000008' + '00000004');
    expect(b.length).to.equal(48);
  });

  it('RFC 7143 11.7: Data-In with F, S, U, status and residual; writes into a reused buffer', () => {
    const out = Buffer.alloc(64, 0xaa);
    const n = encodeDataIn(out, 8, {
      final: true, status: 0, lun: 0, itt: 5, ttt: 0xffffffff, ...seq, dataSN: 2, bufferOffset: 0x2000,
      residual: ResidualKind.UNDERFLOW, residualCount: 0x100, dataSegmentLength: 0x1000,
    });
    expect(n).to.equal(48);
    expect(hex(out.subarray(0, 8))).to.equal('aa'.repeat(8));
    expect(hex(out.subarray(8, 56))).to.equal(
      '25830000' + '00001000' + '0000000000000000' + '00000005' + 'ffffffff' + '00000010' + '00000020' + '0000003f' + '00000002' + '00002000' + '00000100',
    );
    expect(hex(out.subarray(56))).to.equal('aa'.repeat(8));
  });

  it('RFC 7143 11.7.4: single Data-In with status overwrites every byte of a dirty buffer', () => {
    const out = Buffer.alloc(64, 0xaa);
    const n = encodeDataInStatus(out, 8, 0x00, 3, 0x01020304, 0x10, 0x20, 0x3f, ResidualKind.UNDERFLOW, 0x200, 0x1000);
    expect(n).to.equal(48);
    expect(hex(out.subarray(0, 8))).to.equal('aa'.repeat(8));
    expect(hex(out.subarray(8, 56))).to.equal(
      '25830000' + '00001000' + '0003000000000000' + '01020304' + 'ffffffff' + '00000010' + '00000020' + '0000003f' + '00000000' + '00000000' + '00000200',
    );
    expect(hex(out.subarray(56))).to.equal('aa'.repeat(8));
    const g = Buffer.alloc(48, 0xff);
    encodeDataInStatus(g, 0, 0x04, 300, 7, 1, 2, 3, ResidualKind.NONE, 99, 512);
    expect(hex(g)).to.equal(
      '25810004' + '00000200' + '412c000000000000' + '00000007' + 'ffffffff' + '00000001' + '00000002' + '00000003' + '00000000' + '00000000' + '00000000',
    );
  });

  it('Data-In without status clears StatSN and residual, A bit', () => {
    const b = buildDataIn({ final: false, ack: true, lun: 2, itt: 5, ttt: 9, ...seq, dataSN: 0, bufferOffset: 0 }, Buffer.from([1, 2, 3, 4]));
    expect(hex(b.subarray(0, 8))).to.equal('25400000' + '00000004');
    expect(hex(b.subarray(24, 28))).to.equal('00000000');
    expect(hex(b.subarray(48))).to.equal('01020304');
    expect(() => buildDataIn({ final: false, status: 0, lun: 0, itt: 1, ttt: 1, ...seq, dataSN: 0, bufferOffset: 0 })).to.throw();
  });

  it('RFC 7143 11.8: R2T', () => {
    const b = buildR2T({ lun: 1, itt: 2, ttt: 3, ...seq, r2tSN: 4, bufferOffset: 0x10000, desiredDataTransferLength: 0x40000 });
    expect(hex(b)).to.equal(
      '31800000' + '00000000' + '0001000000000000' + '00000002' + '00000003' + '00000010' + '00000020' + '0000003f' + '00000004' + '00010000' + '00040000',
    );
  });

  it('RFC 7143 11.6: TMF response', () => {
    const b = buildTmfResponse({ itt: 0x99, response: TmfResponse.TASK_DOES_NOT_EXIST, ...seq });
    expect(hex(b)).to.equal('22800100' + '00000000' + '00'.repeat(8) + '00000099' + '00000000' + '00000010' + '00000020' + '0000003f' + '00'.repeat(12));
  });

  it('RFC 7143 11.13: Login response with status class/detail', () => {
    const b = buildLoginResponse(
      { transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionActive: 0, isid: 0x400001370000, tsih: 0x12, itt: 1, ...seq, status: LoginStatus.SUCCESS },
      Buffer.from('A=1\0'),
    );
    expect(hex(b)).to.equal(
      '23870000' + '00000004' + '400001370000' + '0012' + '00000001' + '00000000' + '00000010' + '00000020' + '0000003f' + '0000' + '0000' + '00'.repeat(8) + '413d3100',
    );
    const f = buildLoginResponse({ transit: false, continue: false, csg: 0, nsg: 1, versionMax: 0, versionActive: 0, isid: 0, tsih: 0, itt: 1, ...seq, status: LoginStatus.NOT_FOUND });
    expect(hex(f.subarray(0, 2))).to.equal('2300');
    expect(hex(f.subarray(36, 38))).to.equal('0203');
  });

  it('RFC 7143 11.11: Text response with C bit', () => {
    const b = buildTextResponse({ final: false, continue: true, lun: 0, itt: 3, ttt: 0x55, ...seq }, Buffer.from('ab'));
    expect(hex(b.subarray(0, 8))).to.equal('24400000' + '00000002');
    expect(hex(b.subarray(16, 24))).to.equal('00000003' + '00000055');
    expect(hex(b.subarray(48))).to.equal('61620000');
  });

  it('RFC 7143 11.15: Logout response with Time2Wait/Time2Retain', () => {
    const b = buildLogoutResponse({ itt: 4, response: LogoutResponse.CID_NOT_FOUND, ...seq, time2Wait: 2, time2Retain: 20 });
    expect(hex(b.subarray(0, 4))).to.equal('26800100');
    expect(hex(b.subarray(40, 48))).to.equal('0002' + '0014' + '00000000');
  });

  it('RFC 7143 11.9: Async Message', () => {
    const b = buildAsyncMessage({ lun: 0, ...seq, event: AsyncEvent.LOGOUT_REQUESTED, parameter3: 5 });
    expect(hex(b)).to.equal('32800000' + '00000000' + '00'.repeat(8) + 'ffffffff' + '00000000' + '00000010' + '00000020' + '0000003f' + '01000000' + '00000005' + '00000000');
  });

  it('RFC 7143 11.17: Reject carries the offending BHS as data', () => {
    const offending = bhs('1c 80 0000 00 000000 0000000000000000 00000042');
    const b = buildReject({ reason: RejectReason.COMMAND_NOT_SUPPORTED, ...seq }, offending);
    expect(hex(b.subarray(0, 48))).to.equal('3f800500' + '00000030' + '00'.repeat(8) + 'ffffffff' + '00000000' + '00000010' + '00000020' + '0000003f' + '00'.repeat(12));
    expect(b.subarray(48).equals(offending)).to.equal(true);
  });
});
