import { expect } from 'chai';
import { KEYS, KeyPhase, KeyScope, KeySender, KeyType, TargetNegotiationConfig, keyDef, maxValueLength } from '../../../src/transports/iscsi/keys';
import { TEST_TARGET_CONFIG } from './target-config';
import {
  createNegotiation, declareNumeric, negotiateBooleanAnd, negotiateBooleanOr,
  negotiateKeys, negotiateList, negotiateNumericMax, negotiateNumericMin, offersPending, parseNumber, targetOffers,
} from '../../../src/transports/iscsi/negotiate';
import { LoginStage } from '../../../src/transports/iscsi/spec';

const OP = { stage: LoginStage.LOGIN_OPERATIONAL_NEGOTIATION, discovery: false, leading: true };
const cfg = (over: Partial<TargetNegotiationConfig> = {}): TargetNegotiationConfig => ({ ...TEST_TARGET_CONFIG, ...over });
const run = (pairs: Array<[string, string]>, over: Partial<TargetNegotiationConfig> = {}, ctx = OP) => {
  const c = cfg(over);
  const st = createNegotiation(c);
  return { st, out: negotiateKeys(st, new Map(pairs), ctx, c) };
};

describe('iSCSI key table (keys.ts)', () => {
  it('holds every RFC 7143 key with its metadata', () => {
    for (const k of ['HeaderDigest', 'DataDigest', 'MaxConnections', 'SendTargets', 'TargetName', 'InitiatorName', 'TargetAlias',
      'InitiatorAlias', 'TargetAddress', 'TargetPortalGroupTag', 'InitialR2T', 'ImmediateData', 'MaxRecvDataSegmentLength',
      'MaxBurstLength', 'FirstBurstLength', 'DefaultTime2Wait', 'DefaultTime2Retain', 'MaxOutstandingR2T', 'DataPDUInOrder',
      'DataSequenceInOrder', 'ErrorRecoveryLevel', 'SessionType', 'AuthMethod', 'CHAP_A', 'CHAP_I', 'CHAP_C', 'CHAP_N', 'CHAP_R']) {
      expect(KEYS.has(k), k).to.equal(true);
    }
    expect(keyDef('MaxRecvDataSegmentLength')).to.include({ type: KeyType.NUMERIC_DECLARATIVE, scope: KeyScope.CONNECTION, default: '8192', min: 512, max: 16777215 });
    expect(keyDef('InitialR2T')).to.include({ type: KeyType.BOOLEAN_OR, phase: KeyPhase.OPERATIONAL, scope: KeyScope.SESSION, default: 'Yes' });
    expect(keyDef('ImmediateData')).to.include({ type: KeyType.BOOLEAN_AND, default: 'Yes' });
    expect(keyDef('DefaultTime2Wait')).to.include({ type: KeyType.NUMERIC_MAX, max: 3600 });
    expect(keyDef('ErrorRecoveryLevel')).to.include({ type: KeyType.NUMERIC_MIN, max: 2 });
    expect(keyDef('TargetAlias')).to.include({ sender: KeySender.TARGET });
    expect(keyDef('AuthMethod')).to.include({ phase: KeyPhase.SECURITY });
    expect(maxValueLength('CHAP_C')).to.equal(2050);
    expect(maxValueLength('HeaderDigest')).to.equal(255);
  });
});

describe('per-type negotiation functions (negotiate.ts)', () => {
  it('numbers: decimal and hex', () => {
    expect(parseNumber('8192')).to.equal(8192);
    expect(parseNumber('0x2000')).to.equal(8192);
    expect(parseNumber('12a')).to.be.NaN;
    expect(parseNumber('')).to.be.NaN;
  });
  it('RFC 7143 6.2.1 list: first of the offer the target allows', () => {
    expect(negotiateList('CRC32C,None', ['None'])).to.equal('None');
    expect(negotiateList('None,CRC32C', ['CRC32C', 'None'])).to.equal('None');
    expect(negotiateList('CRC32C', ['None'])).to.equal('Reject');
  });
  it('boolean AND / OR, invalid value Reject', () => {
    expect(negotiateBooleanAnd('Yes', true)).to.equal('Yes');
    expect(negotiateBooleanAnd('Yes', false)).to.equal('No');
    expect(negotiateBooleanOr('No', true)).to.equal('Yes');
    expect(negotiateBooleanOr('No', false)).to.equal('No');
    expect(negotiateBooleanAnd('yes', true)).to.equal('Reject');
  });
  it('numeric min / max with range checks', () => {
    const r = { min: 512, max: 16777215 };
    expect(negotiateNumericMin('65536', 262144, r)).to.equal('65536');
    expect(negotiateNumericMin('1048576', 262144, r)).to.equal('262144');
    expect(negotiateNumericMin('100', 262144, r)).to.equal('Reject');
    expect(negotiateNumericMin('16777216', 262144, r)).to.equal('Reject');
    expect(negotiateNumericMax('0', 2, { min: 0, max: 3600 })).to.equal('2');
    expect(negotiateNumericMax('3601', 2, { min: 0, max: 3600 })).to.equal('Reject');
    expect(declareNumeric('4096', r)).to.equal(4096);
    expect(declareNumeric('511', r)).to.be.NaN;
  });
});

describe('negotiateKeys (negotiate.ts)', () => {
  it('answers a typical open-iscsi operational offer', () => {
    const { st, out } = run([
      ['HeaderDigest', 'CRC32C,None'], ['DataDigest', 'None'], ['MaxConnections', '1'], ['InitialR2T', 'No'],
      ['ImmediateData', 'Yes'], ['MaxRecvDataSegmentLength', '262144'], ['MaxBurstLength', '16776192'],
      ['FirstBurstLength', '262144'], ['DefaultTime2Wait', '2'], ['DefaultTime2Retain', '0'], ['MaxOutstandingR2T', '1'],
      ['DataPDUInOrder', 'Yes'], ['DataSequenceInOrder', 'Yes'], ['ErrorRecoveryLevel', '0'],
    ], { initialR2T: false, maxRecvDataSegmentLength: 65536 });
    expect(out.ok && Object.fromEntries(out.answers)).to.deep.equal({
      HeaderDigest: 'CRC32C', DataDigest: 'None', MaxConnections: '1', InitialR2T: 'No', ImmediateData: 'Yes',
      MaxRecvDataSegmentLength: '65536', MaxBurstLength: '1048576', FirstBurstLength: '65536', DefaultTime2Wait: '2',
      DefaultTime2Retain: '0', MaxOutstandingR2T: '1', DataPDUInOrder: 'Yes', DataSequenceInOrder: 'Yes', ErrorRecoveryLevel: '0',
    });
    expect(st.params).to.include({ headerDigest: true, dataDigest: false, initialR2T: false, maxXmitDataSegmentLength: 262144, maxRecvDataSegmentLength: 65536, maxBurstLength: 1048576, firstBurstLength: 65536, defaultTime2Retain: 0 });
  });

  it('target policy wins: ErrorRecoveryLevel 2 -> 0, DataPDUInOrder No -> Yes, InitialR2T No -> Yes, digest not allowed', () => {
    const { out } = run([['ErrorRecoveryLevel', '2'], ['DataPDUInOrder', 'No'], ['InitialR2T', 'No'], ['DataDigest', 'CRC32C']], { dataDigest: ['None'] });
    expect(out.ok && Object.fromEntries(out.answers)).to.deep.equal({ ErrorRecoveryLevel: '0', DataPDUInOrder: 'Yes', InitialR2T: 'Yes', DataDigest: 'Reject' });
  });

  it('RFC 7143 13.14: FirstBurstLength never above MaxBurstLength, Irrelevant with InitialR2T=Yes and ImmediateData=No', () => {
    expect(run([['FirstBurstLength', '65536'], ['MaxBurstLength', '8192']]).out).to.deep.include({ ok: true });
    const a = run([['FirstBurstLength', '65536'], ['MaxBurstLength', '8192']]).out;
    expect(a.ok && Object.fromEntries(a.answers)).to.deep.equal({ MaxBurstLength: '8192', FirstBurstLength: '8192' });
    const b = run([['ImmediateData', 'No'], ['FirstBurstLength', '65536']]).out;
    expect(b.ok && Object.fromEntries(b.answers)).to.deep.equal({ ImmediateData: 'No', FirstBurstLength: 'Irrelevant' });
  });

  it('out of range is Reject, unknown and X- keys NotUnderstood', () => {
    const { out } = run([['MaxBurstLength', '100'], ['X-com.example.Foo', '1'], ['Bogus', 'x']]);
    expect(out.ok && out.answers).to.deep.equal([['MaxBurstLength', 'Reject'], ['X-com.example.Foo', 'NotUnderstood'], ['Bogus', 'NotUnderstood']]);
  });

  it('discovery sessions answer Irrelevant to data-path keys', () => {
    const { out } = run([['InitialR2T', 'No'], ['MaxBurstLength', '8192'], ['HeaderDigest', 'None']], {}, { ...OP, discovery: true });
    expect(out.ok && out.answers).to.deep.equal([['InitialR2T', 'Irrelevant'], ['MaxBurstLength', 'Irrelevant'], ['HeaderDigest', 'None']]);
  });

  it('target-only keys from the initiator are Reject; RFC 3720 markers answered No/Irrelevant', () => {
    const { out } = run([['TargetAlias', 'x'], ['IFMarker', 'Yes'], ['OFMarkInt', '2048~8192']]);
    expect(out.ok && out.answers).to.deep.equal([['TargetAlias', 'Reject'], ['IFMarker', 'No'], ['OFMarkInt', 'Irrelevant']]);
  });

  it('RFC 7143 6.2: a key offered twice in one login is a protocol error', () => {
    const c = cfg();
    const st = createNegotiation(c);
    expect(negotiateKeys(st, new Map([['MaxBurstLength', '8192']]), OP, c).ok).to.equal(true);
    expect(negotiateKeys(st, new Map([['MaxBurstLength', '8192']]), OP, c)).to.deep.equal({ ok: false, error: 'renegotiated', key: 'MaxBurstLength' });
  });

  it('security keys are refused by the operational negotiator', () => {
    expect(run([['AuthMethod', 'None']]).out).to.deep.equal({ ok: false, error: 'wrong-phase', key: 'AuthMethod' });
  });

  it('MaxRecvDataSegmentLength is declared once per direction', () => {
    const c = cfg({ maxRecvDataSegmentLength: 131072 });
    const st = createNegotiation(c);
    const out = negotiateKeys(st, new Map([['MaxRecvDataSegmentLength', '0x1000']]), OP, c);
    expect(out.ok && out.answers).to.deep.equal([['MaxRecvDataSegmentLength', '131072']]);
    expect(st.params.maxXmitDataSegmentLength).to.equal(4096);
    expect(targetOffers(st, OP, c)).to.deep.equal([]);
  });

  it('target offers what its defaults cannot cover and waits for answers', () => {
    const c = cfg({ immediateData: false, maxBurstLength: 65536, firstBurstLength: 16384 });
    const st = createNegotiation(c);
    const offers = targetOffers(st, OP, c);
    expect(offers).to.deep.equal([['MaxRecvDataSegmentLength', String(c.maxRecvDataSegmentLength)], ['ImmediateData', 'No'], ['MaxBurstLength', '65536']]);
    expect(offersPending(st)).to.equal(true);
    expect(negotiateKeys(st, new Map([['ImmediateData', 'No'], ['MaxBurstLength', '32768']]), OP, c)).to.deep.equal({ ok: true, answers: [] });
    expect(offersPending(st)).to.equal(false);
    expect(st.params).to.include({ immediateData: false, maxBurstLength: 32768 });
  });

  it('an answer that contradicts the offer is an error', () => {
    const c = cfg({ maxBurstLength: 65536 });
    const st = createNegotiation(c);
    targetOffers(st, OP, c);
    expect(negotiateKeys(st, new Map([['MaxBurstLength', '262144']]), OP, c)).to.deep.equal({ ok: false, error: 'bad-answer', key: 'MaxBurstLength' });
  });
});
