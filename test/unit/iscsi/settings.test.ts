import { expect } from 'chai';
import { KEYS, KeyType } from '../../../src/transports/iscsi/keys';
import { ISCSI_SETTINGS, defaultIscsiSettings, iscsiSettingsSchema, negotiationConfig } from '../../../src/transports/iscsi/settings';
import { defaultParams } from '../../../src/transports/iscsi/negotiate';
import { DEFAULT_ISCSI } from '../../../src/daemon/config/defaults';

describe('iSCSI settings derived from the key table (settings.ts)', () => {
  it('the topology section names each configurable key once, bounded by the key range of RFC 7143 13', () => {
    const schema = iscsiSettingsSchema() as { additionalProperties: boolean; properties: Record<string, Record<string, unknown>> };
    expect(schema.additionalProperties).to.equal(false);
    // RFC 7143 13.12-13.17: the ranges, written out by hand.
    expect(schema.properties.maxRecvDataSegmentLength).to.deep.equal({ type: 'integer', minimum: 512, maximum: 16777215 });
    expect(schema.properties.maxBurstLength).to.deep.equal({ type: 'integer', minimum: 512, maximum: 16777215 });
    expect(schema.properties.firstBurstLength).to.deep.equal({ type: 'integer', minimum: 512, maximum: 16777215 });
    expect(schema.properties.maxOutstandingR2T).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(schema.properties.defaultTime2Wait).to.deep.equal({ type: 'integer', minimum: 0, maximum: 3600 });
    expect(schema.properties.defaultTime2Retain).to.deep.equal({ type: 'integer', minimum: 0, maximum: 3600 });
    expect(schema.properties.initialR2T).to.deep.equal({ type: 'boolean' });
    expect(schema.properties.immediateData).to.deep.equal({ type: 'boolean' });
    expect(schema.properties.headerDigest).to.deep.equal({ type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['None', 'CRC32C'] } });
    expect(schema.properties.dataDigest).to.deep.equal({ type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['None', 'CRC32C'] } });
    // Settings of the transport that are not keys.
    expect(schema.properties.nopInIntervalSec).to.deep.equal({ type: 'integer', minimum: 0, maximum: 3600 });
    expect(schema.properties.nopInTimeoutSec).to.deep.equal({ type: 'integer', minimum: 0, maximum: 3600 });
    expect(schema.properties.queueDepth).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(schema.properties.busyPollMicros).to.deep.equal({ type: 'integer', minimum: 0, maximum: 10000 });
    // Limits one initiator cannot exceed (README "Reliability").
    expect(schema.properties.dataOutTimeoutSec).to.deep.equal({ type: 'integer', minimum: 1, maximum: 3600 });
    expect(schema.properties.loginTimeoutSec).to.deep.equal({ type: 'integer', minimum: 1, maximum: 3600 });
    expect(schema.properties.maxLoginRequests).to.deep.equal({ type: 'integer', minimum: 4, maximum: 4096 });
    expect(schema.properties.maxTextRequests).to.deep.equal({ type: 'integer', minimum: 4, maximum: 4096 });
    expect(schema.properties.sendTimeoutSec).to.deep.equal({ type: 'integer', minimum: 1, maximum: 3600 });
    expect(schema.properties.maxConnectionsPerAddress).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(schema.properties.maxConnectionsPerInitiator).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(schema.properties.maxSessions).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65535 });
    expect(schema.properties.maxLoginsPerSecond).to.deep.equal({ type: 'integer', minimum: 1, maximum: 100000 });
    expect(schema.properties.maxDataOutMiBPerSession).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(schema.properties.maxDataInMiBPerSession).to.deep.equal({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(Object.keys(schema.properties)).to.have.length(25);
    expect(ISCSI_SETTINGS.map((s) => s.name)).to.deep.equal(Object.keys(schema.properties));
  });

  it('a key setting takes its range and values from the key row', () => {
    for (const def of KEYS.values()) {
      if (!def.setting) continue;
      const spec = ISCSI_SETTINGS.find((s) => s.name === def.setting?.name);
      expect(spec, def.name).to.not.equal(undefined);
      expect(spec?.min).to.equal(def.min);
      expect(spec?.max).to.equal(def.max);
      if (def.type === KeyType.LIST) expect(spec?.values).to.deep.equal(def.values);
    }
  });

  it('the loader fills in the table defaults, and each call gets its own lists', () => {
    const d = defaultIscsiSettings();
    expect(d).to.deep.equal({
      maxRecvDataSegmentLength: 262144, maxBurstLength: 1048576, firstBurstLength: 262144,
      initialR2T: false, immediateData: true, maxOutstandingR2T: 8,
      headerDigest: ['None', 'CRC32C'], dataDigest: ['None', 'CRC32C'],
      nopInIntervalSec: 15, nopInTimeoutSec: 10, defaultTime2Wait: 2, defaultTime2Retain: 20, queueDepth: 128,
      busyPollMicros: 50, dataOutTimeoutSec: 15, loginTimeoutSec: 15, maxLoginRequests: 64,
      maxTextRequests: 64, sendTimeoutSec: 30, maxConnectionsPerAddress: 1024, maxConnectionsPerInitiator: 64, maxSessions: 1024,
      maxLoginsPerSecond: 200, maxDataOutMiBPerSession: 256, maxDataInMiBPerSession: 256,
    });
    expect(DEFAULT_ISCSI).to.deep.equal(d);
    d.headerDigest.push('CRC32C');
    expect(defaultIscsiSettings().headerDigest).to.deep.equal(['None', 'CRC32C']);
  });

  it('RFC 7143 13: the target negotiates from its settings, and ERL 0, one connection, in-order data as fixed', () => {
    const c = negotiationConfig({ ...defaultIscsiSettings(), maxBurstLength: 65536, immediateData: false, headerDigest: ['CRC32C'] });
    expect(c).to.deep.equal({
      headerDigest: ['CRC32C'], dataDigest: ['None', 'CRC32C'], maxConnections: 1, initialR2T: false, immediateData: false,
      maxRecvDataSegmentLength: 262144, maxBurstLength: 65536, firstBurstLength: 262144, defaultTime2Wait: 2,
      defaultTime2Retain: 20, maxOutstandingR2T: 8, dataPDUInOrder: true, dataSequenceInOrder: true, errorRecoveryLevel: 0,
      iscsiProtocolLevel: 1, taskReporting: ['RFC3720'],
    });
  });

  it('RFC 7143 13: before negotiation every parameter has the RFC default, 8192-byte segments out', () => {
    expect(defaultParams(negotiationConfig(defaultIscsiSettings()))).to.deep.equal({
      headerDigest: false, dataDigest: false, maxConnections: 1, initialR2T: true, immediateData: true,
      maxRecvDataSegmentLength: 262144, maxXmitDataSegmentLength: 8192, maxBurstLength: 262144, firstBurstLength: 65536,
      defaultTime2Wait: 2, defaultTime2Retain: 20, maxOutstandingR2T: 1, dataPDUInOrder: true, dataSequenceInOrder: true,
      errorRecoveryLevel: 0, iscsiProtocolLevel: 0, taskReporting: 'RFC3720',
    });
  });
});
