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
      { type: 'placeActor', actorId: 5, kind: 'lun', config: { path: '/x', size: 4096, ro: true, tags: ['a', null] } },
      { type: 'actorPlaced', actorId: 5, threadIndex: 1, error: '' },
      { type: 'removeActor', actorId: 5 },
      { type: 'actorRemoved', actorId: 5, threadIndex: 1 },
      { type: 'route', actorId: 5, threadIndex: -1 },
      { type: 'configChange', actorId: 5, config: { readOnly: false } },
      { type: 'statsRequest', requestId: 1 },
      { type: 'statsReply', requestId: 1, threadIndex: 0, counters: { delivered: 10, batches: 2 } },
      { type: 'heartbeat', threadIndex: 2, seq: 99, actors: 3 },
      { type: 'threadReady', threadIndex: 2 },
      { type: 'actorReport', actorId: 9, name: 'done', values: { count: 100000 } },
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
    expect(validateControl({ type: 'heartbeat', threadIndex: 1, seq: 1 })).to.deep.equal(
      { ok: false, error: 'heartbeat.actors is not a valid int' });
    expect(validateControl({ type: 'route', actorId: 1.5, threadIndex: 0 })).to.deep.include({ ok: false });
    expect(validateControl({ type: 'removeActor', actorId: 1, extra: 2 })).to.deep.equal(
      { ok: false, error: 'removeActor has unexpected field extra' });
    expect(validateControl({ type: 'placeActor', actorId: 1, kind: 'k', config: { f: () => 1 } })).to.deep.include({ ok: false });
    expect(validateControl([1, 2])).to.deep.include({ ok: false });
    expect(receiveControl('shutdown')).to.deep.include({ ok: false });
    expect(decodeControl(Uint8Array.of(0xc1))).to.deep.include({ ok: false });
  });
});
