import { expect } from 'chai';
import { ControlMessage, decodeControl, encodeControl, receiveControl, validateControl } from '../../../src/workers/messages';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('workers/messages', () => {
  it('decodes a hand-built plain msgpack map', () => {
    // fixmap(2) "type" "shutdown" "reason" "bye"
    const bytes = Uint8Array.from([0x82, 0xa4, ...ascii('type'), 0xa8, ...ascii('shutdown'), 0xa6, ...ascii('reason'), 0xa3, ...ascii('bye')]);
    expect(decodeControl(bytes)).to.deep.equal({ ok: true, msg: { type: 'shutdown', reason: 'bye' } });
  });

  it('decodes a hand-built msgpackr record (ext 0x72 defines record 0x40 inline)', () => {
    // d4 72 40: record definition for id 0x40; fixarray(2) of keys; then the values in key order
    const bytes = Uint8Array.from([0xd4, 0x72, 0x40, 0x92, 0xa4, ...ascii('type'), 0xa9, ...ascii('requestId'),
      0xac, ...ascii('statsRequest'), 0x07]);
    expect(decodeControl(bytes)).to.deep.equal({ ok: true, msg: { type: 'statsRequest', requestId: 7 } });
  });

  it('round-trips every message type through a fresh buffer', () => {
    const all: ControlMessage[] = [
      {
        type: 'connectionHandOff', handOffId: 5, fd: 12, fabric: 'iscsi', sessionKey: 'k', targetName: 't', initiatorName: 'i',
        isid: '000000000001', tsih: 3, cid: 0, tpgt: 1, portal: '', statSN: 7, expCmdSN: 8, maxCmdSN: 40,
        params: { path: '/x', size: 4096, ro: true, tags: ['a', null] }, pending: Uint8Array.of(1, 2, 3),
      },
      { type: 'handOffAccepted', handOffId: 5, threadIndex: 1, error: '' },
      { type: 'sessionClose', sessionKey: 'k', reason: 'reinstatement' },
      { type: 'sessionEnded', sessionKey: 'k', threadIndex: 1, reason: 'logout' },
      { type: 'sessionLogoutRequest', seconds: 2 },
      { type: 'meshSpill', fromThread: 0, toThread: 1, toActor: 3, sequence: 9, bytes: Uint8Array.of(9) },
      { type: 'threadClosed', threadIndex: 1, error: '' },
      { type: 'sessionLogout', sessionKey: 'k', seconds: 2 },
      { type: 'statsRequest', requestId: 1 },
      { type: 'statsReply', requestId: 1, threadIndex: 0, counters: { delivered: 10, batches: 2 }, units: [], sessions: [] },
      {
        type: 'statsReply', requestId: 2, threadIndex: 1, counters: {}, units: [{
          device: 'd0', blockSize: 512, commands: 3, readCommands: 1, writeCommands: 1, readBytes: 512, writeBytes: 1024,
          checkConditions: new Array<number>(16).fill(0), otherErrors: 0, latencyBuckets: [1, 2], latencySumNs: [1500], taskSetDepth: 0, sanitizeProgress: -1,
        }],
        sessions: [{
          sessionKey: 'k', commands: 3, readCommands: 1, writeCommands: 1, readBytes: 512, writeBytes: 1024,
          checkConditions: new Array<number>(16).fill(0), otherErrors: 0, latencyBuckets: [1, 2], latencySumNs: [1500], taskSetDepth: 1,
          connections: [{ cid: 0, counters: { 'pdusIn.SCSI_COMMAND': 3, r2ts: 0 } }],
        }],
      },
      { type: 'threadReady', threadIndex: 2 },
      { type: 'shutdown', reason: 'test' },
      { type: 'peerDown', threadIndex: 1 },
      { type: 'peerUp', threadIndex: 1 },
      { type: 'peerDownDone', threadIndex: 1, fromThread: 0 },
    ];
    for (const m of all) {
      const bytes = encodeControl(m);
      expect(bytes.byteOffset).to.equal(0);
      expect(bytes.buffer.byteLength).to.equal(bytes.byteLength);
      expect(decodeControl(bytes)).to.deep.equal({ ok: true, msg: m });
    }
  });

  it('rejects unknown types, missing or mistyped fields, extra fields and non-bytes', () => {
    expect(validateControl({ type: 'explode' })).to.deep.include({ ok: false });
    expect(validateControl({ type: 'peerDownDone', threadIndex: 1 })).to.deep.equal(
      { ok: false, error: 'peerDownDone.fromThread is not a valid int' });
    expect(validateControl({ type: 'peerUp', threadIndex: 1.5 })).to.deep.include({ ok: false });
    expect(validateControl({ type: 'peerDown', threadIndex: 1, extra: 2 })).to.deep.equal(
      { ok: false, error: 'peerDown has unexpected field extra' });
    expect(validateControl({ type: 'statsReply', requestId: 1, threadIndex: 0, counters: { f: () => 1 } })).to.deep.include({ ok: false });
    expect(validateControl({ type: 'statsReply', requestId: 1, threadIndex: 0, counters: {}, units: [{ device: 'd0', commands: 1 }] }))
      .to.deep.equal({ ok: false, error: 'statsReply.units is not a valid units' });
    expect(validateControl({ type: 'statsReply', requestId: 1, threadIndex: 0, counters: {}, units: [], sessions: [{ sessionKey: 'k', commands: 1 }] }))
      .to.deep.equal({ ok: false, error: 'statsReply.sessions is not a valid sessions' });
    expect(validateControl({
      type: 'connectionHandOff', handOffId: 1, fd: 3, fabric: 'x', sessionKey: 'k', targetName: 't', initiatorName: 'i', isid: '',
      tsih: 1, cid: 0, tpgt: 1, portal: '', statSN: 0, expCmdSN: 0, maxCmdSN: 0, params: { f: () => 1 }, pending: Uint8Array.of(),
    })).to.deep.equal({ ok: false, error: 'connectionHandOff.params is not a valid config' });
    expect(validateControl([1, 2])).to.deep.include({ ok: false });
    expect(receiveControl('shutdown')).to.deep.include({ ok: false });
    expect(decodeControl(Uint8Array.of(0xc1))).to.deep.include({ ok: false });
  });
});
