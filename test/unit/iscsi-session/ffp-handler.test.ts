import { expect } from 'chai';
import { decodeHandOffParams, encodeHandOffParams, HandOffParams } from '../../../src/transports/iscsi/ffp-handler';
import { PduFramer } from '../../../src/transports/iscsi/framer';
import { OPERATIONAL_PARAM_FIELDS } from '../../../src/transports/iscsi/negotiate';
import { defaultIscsiSettings, ISCSI_SETTINGS } from '../../../src/transports/iscsi/settings';
import { KEY_TABLE } from '../../../src/transports/iscsi/keys';

const params: HandOffParams = {
  negotiated: {
    headerDigest: true, dataDigest: false, maxConnections: 1, initialR2T: false, immediateData: true,
    maxRecvDataSegmentLength: 262144, maxXmitDataSegmentLength: 65536, maxBurstLength: 262144, firstBurstLength: 65536,
    defaultTime2Wait: 2, defaultTime2Retain: 20, maxOutstandingR2T: 4, dataPDUInOrder: true, dataSequenceInOrder: true,
    errorRecoveryLevel: 0, iscsiProtocolLevel: 1, taskReporting: 'RFC3720',
  },
  // Every setting of the table (the limits at their defaults), some changed from the defaults.
  settings: {
    ...defaultIscsiSettings(),
    maxRecvDataSegmentLength: 262144, maxBurstLength: 262144, firstBurstLength: 65536, initialR2T: false, immediateData: true,
    maxOutstandingR2T: 4, headerDigest: ['CRC32C', 'None'], dataDigest: ['None'], nopInIntervalSec: 0, nopInTimeoutSec: 0,
    defaultTime2Wait: 2, defaultTime2Retain: 20, queueDepth: 32, busyPollMicros: 40,
    // The limits, each away from its default, so that each is seen to reach the engine thread.
    dataOutTimeoutSec: 7, loginTimeoutSec: 9, maxLoginRequests: 16, maxTextRequests: 17, sendTimeoutSec: 11,
    maxConnectionsPerAddress: 100, maxConnectionsPerInitiator: 8, maxSessions: 50, maxLoginsPerSecond: 20,
    maxDataOutMiBPerSession: 32, maxDataInMiBPerSession: 48,
  },
  discovery: [{ name: 'iqn.2026-11.io.nexus:t', portals: [{ host: '::1', port: 3260, tpgt: 2 }] }],
  logLevel: 'warn',
};

describe('iscsi-session/ffp-handler hand-off parameters', () => {
  it('carries the negotiated parameters, settings and portals to the engine thread unchanged', () => {
    const back = decodeHandOffParams(encodeHandOffParams(params));
    expect(back).to.deep.equal(params);
  });

  it('drops an absent InitiatorAlias instead of sending undefined, and keeps a present one', () => {
    const enc = encodeHandOffParams(params) as { negotiated: { [k: string]: unknown } };
    expect(Object.keys(enc.negotiated)).not.to.include('initiatorAlias');
    const withAlias = { ...params, negotiated: { ...params.negotiated, initiatorAlias: 'host1' } };
    expect(decodeHandOffParams(encodeHandOffParams(withAlias))?.negotiated.initiatorAlias).to.equal('host1');
  });

  it('carries exactly the fields the key table and the settings table name', () => {
    const enc = encodeHandOffParams(params) as { negotiated: object; settings: object };
    const required = OPERATIONAL_PARAM_FIELDS.filter(f => !f.optional).map(f => f.name as string);
    expect(Object.keys(enc.negotiated).sort()).to.deep.equal([...required].sort());
    expect(Object.keys(enc.settings).sort()).to.deep.equal(ISCSI_SETTINGS.map(s => s.name as string).sort());
    // Every negotiated key of the table has its parameter among them.
    for (const k of KEY_TABLE) if ('param' in k) expect(required).to.include(k.param);
  });

  it('leaves out an absent optional setting and refuses a missing required one', () => {
    const { busyPollMicros: _, ...withoutPoll } = params.settings;
    const back = decodeHandOffParams(encodeHandOffParams({ ...params, settings: withoutPoll }));
    expect(back?.settings).to.deep.equal(withoutPoll);
    const good = encodeHandOffParams(params) as { [k: string]: unknown };
    const { queueDepth: _q, ...noDepth } = good.settings as { [k: string]: unknown };
    const { firstBurstLength: _f, ...noBurst } = good.negotiated as { [k: string]: unknown };
    expect(decodeHandOffParams({ ...good, settings: noDepth } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, negotiated: noBurst } as never)).to.equal(undefined);
  });

  it('refuses shapes that are not what the supervisor sends', () => {
    const good = encodeHandOffParams(params) as { [k: string]: unknown };
    const neg = good.negotiated as { [k: string]: unknown };
    const set = good.settings as { [k: string]: unknown };
    expect(decodeHandOffParams(null)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, logLevel: 3 } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, negotiated: { ...neg, maxBurstLength: '262144' } } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, negotiated: { ...neg, headerDigest: 'Yes' } } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, settings: { ...set, dataDigest: ['MD5'] } } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, settings: { ...set, busyPollMicros: '40' } } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, discovery: [{ name: 't', portals: [{ host: 'h' }] }] } as never)).to.equal(undefined);
    expect(decodeHandOffParams({ ...good, discovery: [{ name: 't', portals: [{ host: 'h', port: 3260 }] }] } as never)).to.equal(undefined);
  });
});

describe('iscsi-session/framer halt (hand-off at the end of the login)', () => {
  it('stops after the PDU that halts it and keeps the rest of the chunk, then every later byte', () => {
    // Two 48-byte BHSs with no data segment, then 5 bytes of a third, in one chunk.
    const chunk = Buffer.alloc(48 * 2 + 5);
    chunk[0] = 0x43; chunk[48] = 0x01; chunk[96] = 0x05; chunk[100] = 0x09;
    const seen: number[] = [];
    const f = new PduFramer({
      pdu: (h) => { seen.push(h[0]); f.halt(); },
      error: () => { throw new Error('no framing error expected'); },
    });
    f.feed(chunk);
    expect(seen).to.deep.equal([0x43]);
    f.feed(Buffer.from([0xaa, 0xbb]));
    const rest = f.takeRest();
    expect(rest.length).to.equal(48 + 5 + 2);
    expect(rest[0]).to.equal(0x01);
    expect(rest[48]).to.equal(0x05);
    expect([...rest.subarray(53)]).to.deep.equal([0xaa, 0xbb]);
    expect(f.takeRest().length).to.equal(0);
    expect(seen).to.deep.equal([0x43]);
  });
});
