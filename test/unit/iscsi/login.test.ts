import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { AuthRequirement, LoginEffect, LoginPolicy, LoginResult, LoginState, createLoginState, loginStep, LoginPhase } from '../../../src/transports/iscsi/login';
import { LoginRequest } from '../../../src/transports/iscsi/initiator-pdu';
import { DEFAULT_TARGET_CONFIG, TargetNegotiationConfig } from '../../../src/transports/iscsi/negotiate';
import { IscsiOp, LoginStage, LoginStatus } from '../../../src/transports/iscsi/spec';

const TARGET = 'iqn.2026-11.io.nexus:demo';
const INITIATOR = 'iqn.1993-08.org.debian:01:abc';
const ISID = 0x400001370000;
const SEC = LoginStage.SECURITY_NEGOTIATION;
const OPS = LoginStage.LOGIN_OPERATIONAL_NEGOTIATION;
const FFP = LoginStage.FULL_FEATURE_PHASE;

function text(pairs: Array<[string, string]>): Buffer {
  return Buffer.from(pairs.map(([k, v]) => `${k}=${v}\0`).join(''), 'utf8');
}
function parse(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of b.toString('utf8').split('\0')) if (p) out[p.slice(0, p.indexOf('='))] = p.slice(p.indexOf('=') + 1);
  return out;
}
function req(csg: LoginStage, nsg: LoginStage | null, pairs: Array<[string, string]>, over: Partial<LoginRequest> = {}): LoginRequest {
  return {
    op: IscsiOp.LOGIN_REQ, immediate: true, itt: 1, data: text(pairs), transit: nsg !== null, continue: false, csg, nsg: nsg ?? 0,
    versionMax: 0, versionMin: 0, isid: ISID, tsih: 0, cid: 0, cmdSN: 10, expStatSN: 0, ...over,
  };
}

interface FakePolicy extends LoginPolicy { auth: AuthRequirement | 'deny'; live: Map<number, string>; nextTsih: number | null; reinstate?: number }
function policy(auth: AuthRequirement | 'deny' = {}): FakePolicy {
  const p: FakePolicy = {
    auth, live: new Map(), nextTsih: 0x21,
    targetExists: (n) => n === TARGET,
    authFor: () => p.auth,
    // deterministic "random": id 0x07, challenge 01 02 03 ...
    randomBytes: (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i === 0 ? 7 : i))),
    findSession: () => p.reinstate,
    sessionExists: (tsih, name) => p.live.get(tsih) === name,
    allocateTsih: () => p.nextTsih,
  };
  return p;
}
const opts = (config: Partial<TargetNegotiationConfig> = {}) => ({ config: { ...DEFAULT_TARGET_CONFIG, maxRecvDataSegmentLength: 65536, ...config }, portalGroupTag: 1, initialStatSN: 100, cmdWindow: 32 });
const kinds = (e: LoginEffect[]): string[] => e.map((x) => x.kind);
const normalKeys: Array<[string, string]> = [['InitiatorName', INITIATOR], ['SessionType', 'Normal'], ['TargetName', TARGET]];

function failedWith(r: LoginResult, status: LoginStatus): void {
  expect(r.responses).to.have.length(1);
  expect(r.responses[0].fields).to.include({ status, transit: false });
  expect(r.effects.at(-1)).to.deep.include({ kind: 'fail', status });
  expect(r.state.phase).to.equal(LoginPhase.FAILED);
}

describe('iSCSI login reducer (login.ts)', () => {
  it('discovery session straight from operational stage to full feature', () => {
    const p = policy();
    const r = loginStep(createLoginState(opts()), req(OPS, FFP, [['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['MaxRecvDataSegmentLength', '32768']]), p);
    const f = r.responses[0].fields;
    expect(f).to.include({ transit: true, csg: OPS, nsg: FFP, status: LoginStatus.SUCCESS, tsih: 0x21, statSN: 100, expCmdSN: 10, maxCmdSN: 41, isid: ISID });
    expect(parse(r.responses[0].data)).to.deep.equal({ MaxRecvDataSegmentLength: '65536' });
    expect(kinds(r.effects)).to.deep.equal(['create-session', 'full-feature']);
    expect(r.effects[0]).to.deep.include({ sessionType: 'Discovery', targetName: undefined, tsih: 0x21, cmdSN: 10 });
    expect(r.state.phase).to.equal(LoginPhase.FULL_FEATURE);
  });

  it('normal session: security (None) -> operational -> full feature, StatSN advancing', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]), p);
    expect(r1.responses[0].fields).to.include({ transit: true, csg: SEC, nsg: OPS, tsih: 0, statSN: 100 });
    expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '1', AuthMethod: 'None' });
    expect(kinds(r1.effects)).to.deep.equal(['lookup-target']);
    expect(r1.state.stage).to.equal(OPS);
    const r2 = loginStep(r1.state, req(OPS, FFP, [['HeaderDigest', 'CRC32C,None'], ['MaxRecvDataSegmentLength', '262144']]), p);
    expect(r2.responses[0].fields).to.include({ transit: true, csg: OPS, nsg: FFP, tsih: 0x21, statSN: 101 });
    expect(parse(r2.responses[0].data)).to.deep.equal({ HeaderDigest: 'CRC32C', MaxRecvDataSegmentLength: '65536' });
    const ff = r2.effects.find((e) => e.kind === 'full-feature');
    expect(ff && ff.kind === 'full-feature' && ff.params).to.include({ headerDigest: true, maxXmitDataSegmentLength: 262144, maxRecvDataSegmentLength: 65536 });
  });

  it('T=0 in the operational stage keeps negotiating', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(OPS, null, [...normalKeys, ['MaxBurstLength', '65536']]), p);
    expect(r1.responses[0].fields).to.include({ transit: false, csg: OPS, status: LoginStatus.SUCCESS });
    expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '1', MaxBurstLength: '65536' });
    const r2 = loginStep(r1.state, req(OPS, FFP, []), p);
    expect(r2.responses[0].fields).to.include({ transit: true, nsg: FFP });
  });

  it('RFC 7143 11.13.5: unsupported version -> 02 05', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, normalKeys, { versionMin: 1, versionMax: 2 }), policy()), LoginStatus.UNSUPPORTED_VERSION);
  });
  it('missing InitiatorName -> 02 07', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, [['TargetName', TARGET]]), policy()), LoginStatus.MISSING_PARAMETER);
  });
  it('normal session without TargetName -> 02 07', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR]]), policy()), LoginStatus.MISSING_PARAMETER);
  });
  it('unknown SessionType -> 02 09', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR], ['SessionType', 'Bogus']]), policy()), LoginStatus.SESSION_TYPE_NOT_SUPPORTED);
  });
  it('target not found -> 02 03', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR], ['TargetName', 'iqn.x:none']]), policy()), LoginStatus.NOT_FOUND);
  });
  it('authorization failure -> 02 02', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, normalKeys), policy('deny')), LoginStatus.AUTHORIZATION_FAILURE);
  });
  it('CHAP required but only None offered -> AuthMethod=Reject and 02 01', () => {
    const r = loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]), policy({ chap: { user: 'alice', secret: 'secret-twelve-bytes' } }));
    failedWith(r, LoginStatus.AUTHENTICATION_FAILURE);
  });
  it('CHAP required but the initiator skips the security stage -> 02 01', () => {
    failedWith(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), policy({ chap: { user: 'alice', secret: 'secret-twelve-bytes' } })), LoginStatus.AUTHENTICATION_FAILURE);
  });
  it('CHAP required and T=1 before any AuthMethod -> 02 01', () => {
    failedWith(loginStep(createLoginState(opts()), req(SEC, OPS, normalKeys), policy({ chap: { user: 'alice', secret: 'secret-twelve-bytes' } })), LoginStatus.AUTHENTICATION_FAILURE);
  });

  describe('CHAP exchange', () => {
    const auth = { chap: { user: 'alice', secret: 'secret-twelve-bytes' }, mutual: { user: 'target', secret: 'target-secret-12' } };
    function toChallenge(): { p: FakePolicy; st: LoginState } {
      const p = policy(auth);
      const r1 = loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'CHAP,None']]), p);
      expect(r1.responses[0].fields).to.include({ transit: false, csg: SEC });
      expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '1', AuthMethod: 'CHAP' });
      const r2 = loginStep(r1.state, req(SEC, null, [['CHAP_A', '5']]), p);
      expect(parse(r2.responses[0].data)).to.deep.equal({ CHAP_A: '5', CHAP_I: '7', CHAP_C: '0x0102030405060708090a0b0c0d0e0f10' });
      return { p, st: r2.state };
    }
    // MD5(0x07 || "secret-twelve-bytes" || 01..10), computed independently.
    const GOOD = '0x' + createHash('md5').update(Buffer.concat([Buffer.from([7]), Buffer.from('secret-twelve-bytes'), Buffer.from(Array.from({ length: 16 }, (_, i) => i + 1))])).digest('hex');

    it('correct response transits to operational', () => {
      const { p, st } = toChallenge();
      const r = loginStep(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', GOOD]]), p);
      expect(r.responses[0].fields).to.include({ transit: true, csg: SEC, nsg: OPS, status: LoginStatus.SUCCESS });
      expect(r.responses[0].data.length).to.equal(0);
    });
    it('wrong response -> 02 01', () => {
      const { p, st } = toChallenge();
      failedWith(loginStep(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', '0x' + '00'.repeat(16)]]), p), LoginStatus.AUTHENTICATION_FAILURE);
    });
    it('wrong user name -> 02 01', () => {
      const { p, st } = toChallenge();
      failedWith(loginStep(st, req(SEC, OPS, [['CHAP_N', 'mallory'], ['CHAP_R', GOOD]]), p), LoginStatus.AUTHENTICATION_FAILURE);
    });
    it('no common algorithm -> 02 01', () => {
      const p = policy(auth);
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
      failedWith(loginStep(r1.state, req(SEC, null, [['CHAP_A', '6']]), p), LoginStatus.AUTHENTICATION_FAILURE);
    });
    it('CHAP_R before CHAP_A is a protocol error -> 02 00', () => {
      const p = policy(auth);
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
      failedWith(loginStep(r1.state, req(SEC, null, [['CHAP_N', 'alice'], ['CHAP_R', GOOD]]), p), LoginStatus.INITIATOR_ERROR);
    });
    it('mutual CHAP: target answers CHAP_N/CHAP_R for the initiator challenge', () => {
      const { p, st } = toChallenge();
      const r = loginStep(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', GOOD], ['CHAP_I', '7'], ['CHAP_C', '0x' + 'aa'.repeat(16)]]), p);
      // MD5(0x07 || "target-secret-12" || aa*16) computed with hashlib
      expect(parse(r.responses[0].data)).to.deep.equal({ CHAP_N: 'target', CHAP_R: '0x68884789a87f3159d5de59ed88d785f7' });
      expect(r.responses[0].fields).to.include({ transit: true, nsg: OPS });
    });
    it('RFC 7143 12.1.3: a reflected challenge -> 02 01', () => {
      const { p, st } = toChallenge();
      failedWith(loginStep(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', GOOD], ['CHAP_I', '9'], ['CHAP_C', '0x0102030405060708090a0b0c0d0e0f10']]), p), LoginStatus.AUTHENTICATION_FAILURE);
    });
    it('mutual CHAP asked for but not configured -> 02 01', () => {
      const p = policy({ chap: auth.chap });
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
      const r2 = loginStep(r1.state, req(SEC, null, [['CHAP_A', '7,5']]), p);
      expect(parse(r2.responses[0].data).CHAP_A).to.equal('7');
      const sha = '0x' + createHash('sha256').update(Buffer.concat([Buffer.from([7]), Buffer.from('secret-twelve-bytes'), Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1))])).digest('hex');
      failedWith(loginStep(r2.state, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', sha], ['CHAP_I', '1'], ['CHAP_C', '0x' + 'bb'.repeat(16)]]), p), LoginStatus.AUTHENTICATION_FAILURE);
    });
  });

  it('TSIH nonzero naming no session -> 02 0a', () => {
    failedWith(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys, { tsih: 9 }), policy()), LoginStatus.SESSION_DOES_NOT_EXIST);
  });
  it('TSIH of a live session binds the connection to it', () => {
    const p = policy();
    p.live.set(9, INITIATOR);
    const r = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys, { tsih: 9, cid: 2 }), p);
    expect(r.responses[0].fields).to.include({ tsih: 9, transit: true });
    expect(r.effects.filter((e) => e.kind === 'bind-connection')).to.deep.equal([{ kind: 'bind-connection', tsih: 9, cid: 2 }]);
  });
  it('RFC 7143 6.3.5: same ISID and initiator name with TSIH 0 reinstates the old session', () => {
    const p = policy();
    p.reinstate = 4;
    const r = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p);
    expect(kinds(r.effects)).to.deep.equal(['lookup-target', 'reinstate-session', 'create-session', 'full-feature']);
    expect(r.effects[1]).to.deep.equal({ kind: 'reinstate-session', tsih: 4 });
  });
  it('no TSIH available -> 03 02', () => {
    const p = policy();
    p.nextTsih = null;
    failedWith(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p), LoginStatus.OUT_OF_RESOURCES);
  });

  it('RFC 7143 11.12.3: NSG must advance to a defined stage -> 02 00', () => {
    failedWith(loginStep(createLoginState(opts()), req(OPS, 2 as LoginStage, normalKeys), policy()), LoginStatus.INITIATOR_ERROR);
    failedWith(loginStep(createLoginState(opts()), req(OPS, SEC, normalKeys), policy()), LoginStatus.INITIATOR_ERROR);
    failedWith(loginStep(createLoginState(opts()), req(FFP, null, normalKeys), policy()), LoginStatus.INITIATOR_ERROR);
  });
  it('CSG different from the current stage -> 02 00', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'None']]), p);
    failedWith(loginStep(r1.state, req(OPS, FFP, []), p), LoginStatus.INITIATOR_ERROR);
  });
  it('ISID changing mid-login -> 02 00', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'None']]), p);
    failedWith(loginStep(r1.state, req(SEC, OPS, [], { isid: 1 }), p), LoginStatus.INITIATOR_ERROR);
  });
  it('security key in the operational stage -> 02 00', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(OPS, null, normalKeys), p);
    failedWith(loginStep(r1.state, req(OPS, FFP, [['AuthMethod', 'None']]), p), LoginStatus.INITIATOR_ERROR);
  });
  it('InitiatorName declared twice -> 02 00', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(OPS, null, normalKeys), p);
    failedWith(loginStep(r1.state, req(OPS, FFP, [['InitiatorName', INITIATOR]]), p), LoginStatus.INITIATOR_ERROR);
  });
  it('login request after full feature phase -> 02 0b', () => {
    const p = policy();
    const r1 = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p);
    failedWith(loginStep(r1.state, req(OPS, FFP, []), p), LoginStatus.INVALID_DURING_LOGIN);
  });
  it('malformed text -> 02 00', () => {
    failedWith(loginStep(createLoginState(opts()), req(OPS, FFP, [...normalKeys, ['InitiatorName', 'again']]), policy()), LoginStatus.INITIATOR_ERROR);
  });

  it('RFC 7143 11.12.2: C=1 requests are acknowledged empty, keys parsed when the set ends', () => {
    const p = policy();
    const all = text([...normalKeys, ['MaxBurstLength', '65536']]);
    const r1 = loginStep(createLoginState(opts()), { ...req(OPS, null, []), data: all.subarray(0, 20), continue: true }, p);
    expect(r1.responses[0].fields).to.include({ transit: false, continue: false, status: LoginStatus.SUCCESS });
    expect(r1.responses[0].data.length).to.equal(0);
    expect(r1.effects).to.deep.equal([]);
    const r2 = loginStep(r1.state, { ...req(OPS, FFP, []), data: all.subarray(20) }, p);
    expect(r2.responses[0].fields).to.include({ transit: true, statSN: 101 });
    expect(parse(r2.responses[0].data)).to.include({ TargetPortalGroupTag: '1', MaxBurstLength: '65536' });
  });

  it('RFC 7143 11.13.3: a long answer goes out in C=1 pieces of the initiator MaxRecvDataSegmentLength', () => {
    const p = policy();
    const unknown: Array<[string, string]> = Array.from({ length: 40 }, (_, i) => [`X-k${i}`, 'v']);
    const r1 = loginStep(createLoginState(opts()), req(OPS, FFP, [...normalKeys, ['MaxRecvDataSegmentLength', '512'], ...unknown]), p);
    expect(r1.responses[0].fields).to.include({ continue: true, transit: false });
    expect(r1.responses[0].data.length).to.equal(512);
    expect(r1.effects).to.deep.equal([]);
    const pieces = [r1.responses[0].data];
    let st = r1.state;
    let last: LoginResult | undefined;
    for (let i = 0; i < 10; i++) {
      last = loginStep(st, req(OPS, FFP, []), p);
      pieces.push(last.responses[0].data);
      st = last.state;
      if (!last.responses[0].fields.continue) break;
    }
    expect(last?.responses[0].fields).to.include({ transit: true, nsg: FFP, tsih: 0x21 });
    expect(kinds(last?.effects ?? [])).to.include('create-session');
    const answers = parse(Buffer.concat(pieces));
    expect(answers['X-k39']).to.equal('NotUnderstood');
    expect(answers.MaxRecvDataSegmentLength).to.equal('65536');
  });

  it('target offers hold the transit until answered', () => {
    const p = policy();
    const o = opts({ immediateData: false });
    const r1 = loginStep(createLoginState(o), req(OPS, FFP, normalKeys), p);
    expect(r1.responses[0].fields).to.include({ transit: false });
    expect(parse(r1.responses[0].data)).to.include({ ImmediateData: 'No' });
    const r2 = loginStep(r1.state, req(OPS, FFP, [['ImmediateData', 'No']]), p);
    expect(r2.responses[0].fields).to.include({ transit: true, nsg: FFP });
    const ff = r2.effects.find((e) => e.kind === 'full-feature');
    expect(ff && ff.kind === 'full-feature' && ff.params.immediateData).to.equal(false);
  });

  it('the reducer does not mutate the state it was given', () => {
    const p = policy();
    const s0 = createLoginState(opts());
    const r1 = loginStep(s0, req(OPS, null, [...normalKeys, ['MaxBurstLength', '65536']]), p);
    expect(s0.phase).to.equal(LoginPhase.START);
    expect(s0.negotiation.seen.size).to.equal(0);
    expect(r1.state.negotiation.seen.has('MaxBurstLength')).to.equal(true);
  });
});
