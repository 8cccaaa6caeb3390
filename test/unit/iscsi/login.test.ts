import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  AuthRequirement, LoginEffect, LoginPolicy, LoginResult, LoginState, createLoginState, loginStep, loginTsihAllocated, LoginPhase,
} from '../../../src/transports/iscsi/login';
import { LoginRequest } from '../../../src/transports/iscsi/initiator-pdu';
import { TargetNegotiationConfig } from '../../../src/transports/iscsi/keys';
import { TEST_TARGET_CONFIG } from './target-config';
import { IscsiOp, LoginStage, LoginStatus } from '../../../src/transports/iscsi/spec';
import { NexusError } from '../../../src/engine/result';
import { CHAP_CHALLENGE_RANDOM_BYTES } from '../../../src/transports/iscsi/chap';

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

interface FakePolicy extends LoginPolicy { auth: AuthRequirement | 'deny'; live: Map<number, string>; reinstate?: number; tpgt: number }
function policy(auth: AuthRequirement | 'deny' = {}): FakePolicy {
  const p: FakePolicy = {
    auth, live: new Map(), tpgt: 1,
    targetExists: (n) => n === TARGET,
    authFor: () => p.auth,
    findSession: () => p.reinstate,
    sessionExists: (tsih, name) => p.live.get(tsih) === name,
    portalGroupTag: (n) => (n === TARGET ? p.tpgt : 0),
  };
  return p;
}
// Deterministic "random" CHAP bytes: id 0x07, challenge 01 02 03 ...
const ENTROPY = Buffer.from(Array.from({ length: CHAP_CHALLENGE_RANDOM_BYTES }, (_, i) => (i === 0 ? 7 : i)));
const opts = (config: Partial<TargetNegotiationConfig> = {}) => ({
  config: { ...TEST_TARGET_CONFIG, maxRecvDataSegmentLength: 65536, ...config }, initialStatSN: 100, cmdWindow: 32,
  chapEntropy: ENTROPY,
});
const kinds = (e: LoginEffect[]): string[] => e.map((x) => x.kind);
const normalKeys: Array<[string, string]> = [['InitiatorName', INITIATOR], ['SessionType', 'Normal'], ['TargetName', TARGET]];

/** A new session's login asks for a TSIH (and sends nothing yet); the connection's answer ends it. */
function withTsih(r: LoginResult, tsih: number | null = 0x21): LoginResult {
  expect(r.responses).to.deep.equal([]);
  expect(r.effects).to.deep.equal([{ kind: 'allocate-tsih' }]);
  expect(r.state.phase).to.equal(LoginPhase.ALLOCATING_TSIH);
  return loginTsihAllocated(r.state, tsih);
}

/** A deep copy of the state's plain data (Buffers, Maps and Sets compared by content). */
function snapshot(st: LoginState): unknown {
  return JSON.parse(JSON.stringify(st, (_k, v: unknown) => (v instanceof Map ? [...v] : v instanceof Set ? [...v] : v)));
}

/**
 * RFC 7143 11.13.5: a failed login answers with one Login Response, T=0 C=0, TSIH 0, the request's
 * ISID and ITT, the next StatSN, Status-Class and Status-Detail as given (bytes 36 and 37), no
 * data; the only effect is the failure, and the state ends FAILED. The given state is untouched.
 */
function failsWith(
  prev: LoginState, rq: LoginRequest, p: LoginPolicy, statusClass: number, statusDetail: number, step = loginStep,
): LoginResult {
  const before = snapshot(prev);
  const r = step(prev, rq, p);
  expect(r.responses).to.have.length(1);
  const f = r.responses[0].fields;
  expect(f.status >> 8, 'Status-Class').to.equal(statusClass);
  expect(f.status & 0xff, 'Status-Detail').to.equal(statusDetail);
  expect(f).to.include({
    transit: false, continue: false, tsih: 0, isid: rq.isid, itt: rq.itt, statSN: prev.statSN, expCmdSN: rq.cmdSN,
    maxCmdSN: (rq.cmdSN + 31) >>> 0, versionMax: 0, versionActive: 0,
  });
  expect(r.responses[0].data.length).to.equal(0);
  expect(r.effects).to.have.length(1);
  expect(r.effects[0]).to.deep.include({ kind: 'fail', status: (statusClass << 8) | statusDetail });
  expect(r.state.phase).to.equal(LoginPhase.FAILED);
  expect(r.state.statSN).to.equal((prev.statSN + 1) >>> 0);
  expect(snapshot(prev)).to.deep.equal(before);
  return r;
}

const CHAP = { chap: { user: 'alice', secret: 'secret-twelve-bytes' } };

describe('iSCSI login reducer (login.ts)', () => {
  describe('START: the first Login Request', () => {
    it('discovery session straight from operational stage: asks for a TSIH, then the final response carries it', () => {
      const p = policy();
      const s0 = createLoginState(opts());
      const r1 = loginStep(s0, req(OPS, FFP, [['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['MaxRecvDataSegmentLength', '32768']]), p);
      expect(r1.state.statSN).to.equal(100);
      const r = withTsih(r1);
      const f = r.responses[0].fields;
      expect(f).to.include({ transit: true, continue: false, csg: OPS, nsg: FFP, status: LoginStatus.SUCCESS, tsih: 0x21, statSN: 100, expCmdSN: 10, maxCmdSN: 41, isid: ISID, itt: 1 });
      expect(parse(r.responses[0].data)).to.deep.equal({ MaxRecvDataSegmentLength: '65536' });
      expect(kinds(r.effects)).to.deep.equal(['create-session', 'full-feature']);
      expect(r.effects[0]).to.deep.equal({ kind: 'create-session', tsih: 0x21, isid: ISID, initiatorName: INITIATOR, targetName: undefined, sessionType: 'Discovery', cmdSN: 10 });
      expect(r.state.phase).to.equal(LoginPhase.FULL_FEATURE);
      expect(r.state.statSN).to.equal(101);
    });

    it('normal session: the first response carries the tag of the target\'s portal group on this portal (RFC 7143 13.9)', () => {
      const p = policy();
      p.tpgt = 7;
      const r1 = loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]), p);
      expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '7', AuthMethod: 'None' });
    });

    it('normal session: security (None) -> operational -> full feature, StatSN advancing', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]), p);
      expect(r1.responses[0].fields).to.include({ transit: true, csg: SEC, nsg: OPS, tsih: 0, statSN: 100, status: LoginStatus.SUCCESS });
      expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '1', AuthMethod: 'None' });
      // Nothing for the connection to do until the login ends.
      expect(r1.effects).to.deep.equal([]);
      expect(r1.state).to.include({ phase: LoginPhase.NEGOTIATING, stage: OPS });
      const r2 = withTsih(loginStep(r1.state, req(OPS, FFP, [['HeaderDigest', 'CRC32C,None'], ['MaxRecvDataSegmentLength', '262144']]), p));
      expect(r2.responses[0].fields).to.include({ transit: true, csg: OPS, nsg: FFP, tsih: 0x21, statSN: 101 });
      expect(parse(r2.responses[0].data)).to.deep.equal({ HeaderDigest: 'CRC32C', MaxRecvDataSegmentLength: '65536' });
      const ff = r2.effects.find((e) => e.kind === 'full-feature');
      expect(ff && ff.kind === 'full-feature' && ff.params).to.include({ headerDigest: true, maxXmitDataSegmentLength: 262144, maxRecvDataSegmentLength: 65536 });
    });

    it('RFC 7143 11.13.5: unsupported version -> 02 05', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, normalKeys, { versionMin: 1, versionMax: 2 }), policy(), 0x02, 0x05);
    });
    it('RFC 7143 6.3: a first request in the full feature stage -> 02 00', () => {
      const r = failsWith(createLoginState(opts()), req(FFP, null, normalKeys), policy(), 0x02, 0x00);
      expect(r.responses[0].fields.csg).to.equal(SEC);
    });
    it('missing InitiatorName -> 02 07', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, [['TargetName', TARGET]]), policy(), 0x02, 0x07);
    });
    it('normal session without TargetName -> 02 07', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR]]), policy(), 0x02, 0x07);
    });
    it('unknown SessionType -> 02 09', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR], ['SessionType', 'Bogus']]), policy(), 0x02, 0x09);
    });
    it('target not found -> 02 03', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, [['InitiatorName', INITIATOR], ['TargetName', 'iqn.x:none']]), policy(), 0x02, 0x03);
    });
    it('authorization failure -> 02 02', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, normalKeys), policy('deny'), 0x02, 0x02);
    });
    it('CHAP required but only None offered -> 02 01 with no text, the refusal named in the failure', () => {
      const p = policy(CHAP);
      const s0 = createLoginState(opts());
      const rq = req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]);
      failsWith(s0, rq, p, 0x02, 0x01);
      // RFC 7143 11.13.5: the failed response carries no keys; the reason is what the connection logs.
      const r = loginStep(s0, rq, p);
      const fail = r.effects[0];
      expect(fail.kind === 'fail' && fail.reason).to.equal('initiator does not offer CHAP');
    });
    it('CHAP required but the initiator skips the security stage -> 02 01', () => {
      failsWith(createLoginState(opts()), req(OPS, FFP, normalKeys), policy(CHAP), 0x02, 0x01);
    });
    it('CHAP required and T=1 before any AuthMethod -> 02 01', () => {
      failsWith(createLoginState(opts()), req(SEC, OPS, normalKeys), policy(CHAP), 0x02, 0x01);
    });
    it('TSIH nonzero naming no session -> 02 0a', () => {
      failsWith(createLoginState(opts()), req(OPS, FFP, normalKeys, { tsih: 9 }), policy(), 0x02, 0x0a);
    });
    it('RFC 7143 11.12.3: NSG must advance to a defined stage -> 02 00', () => {
      failsWith(createLoginState(opts()), req(OPS, 2 as LoginStage, normalKeys), policy(), 0x02, 0x00);
      failsWith(createLoginState(opts()), req(OPS, SEC, normalKeys), policy(), 0x02, 0x00);
    });
    it('malformed text -> 02 00', () => {
      failsWith(createLoginState(opts()), req(OPS, FFP, [...normalKeys, ['InitiatorName', 'again']]), policy(), 0x02, 0x00);
    });
    it('TSIH of a live session binds the connection to it, with no TSIH to allocate', () => {
      const p = policy();
      p.live.set(9, INITIATOR);
      const r = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys, { tsih: 9, cid: 2 }), p);
      expect(r.responses[0].fields).to.include({ tsih: 9, transit: true, nsg: FFP, status: LoginStatus.SUCCESS });
      expect(kinds(r.effects)).to.deep.equal(['bind-connection', 'full-feature']);
      expect(r.effects[0]).to.deep.equal({ kind: 'bind-connection', tsih: 9, cid: 2 });
      expect(r.state.phase).to.equal(LoginPhase.FULL_FEATURE);
    });
  });

  describe('NEGOTIATING: later Login Requests', () => {
    it('T=0 in the operational stage keeps negotiating', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(OPS, null, [...normalKeys, ['MaxBurstLength', '65536']]), p);
      expect(r1.responses[0].fields).to.include({ transit: false, csg: OPS, status: LoginStatus.SUCCESS });
      expect(parse(r1.responses[0].data)).to.deep.equal({ TargetPortalGroupTag: '1', MaxBurstLength: '65536' });
      expect(r1.state.phase).to.equal(LoginPhase.NEGOTIATING);
      const r2 = withTsih(loginStep(r1.state, req(OPS, FFP, []), p));
      expect(r2.responses[0].fields).to.include({ transit: true, nsg: FFP, tsih: 0x21 });
    });
    it('CSG different from the current stage -> 02 00', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'None']]), p);
      const r = failsWith(r1.state, req(OPS, FFP, []), p, 0x02, 0x00);
      expect(r.responses[0].fields.csg).to.equal(SEC);
    });
    it('ISID changing mid-login -> 02 00', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'None']]), p);
      failsWith(r1.state, req(SEC, OPS, [], { isid: 1 }), p, 0x02, 0x00);
    });
    it('security key in the operational stage -> 02 00', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(OPS, null, normalKeys), p);
      failsWith(r1.state, req(OPS, FFP, [['AuthMethod', 'None']]), p, 0x02, 0x00);
    });
    it('InitiatorName declared twice -> 02 00', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(OPS, null, normalKeys), p);
      failsWith(r1.state, req(OPS, FFP, [['InitiatorName', INITIATOR]]), p, 0x02, 0x00);
    });
    it('RFC 7143 11.12.2: C=1 requests are acknowledged empty, keys parsed when the set ends', () => {
      const p = policy();
      const all = text([...normalKeys, ['MaxBurstLength', '65536']]);
      const r1 = loginStep(createLoginState(opts()), { ...req(OPS, null, []), data: all.subarray(0, 20), continue: true }, p);
      expect(r1.responses[0].fields).to.include({ transit: false, continue: false, status: LoginStatus.SUCCESS, statSN: 100 });
      expect(r1.responses[0].data.length).to.equal(0);
      expect(r1.effects).to.deep.equal([]);
      expect(r1.state.text.total).to.equal(20);
      const r2 = withTsih(loginStep(r1.state, { ...req(OPS, FFP, []), data: all.subarray(20) }, p));
      expect(r2.responses[0].fields).to.include({ transit: true, statSN: 101 });
      expect(parse(r2.responses[0].data)).to.include({ TargetPortalGroupTag: '1', MaxBurstLength: '65536' });
      expect(r2.state.text.total).to.equal(0);
    });
    it('target offers hold the transit until answered', () => {
      const p = policy();
      const o = opts({ immediateData: false });
      const r1 = loginStep(createLoginState(o), req(OPS, FFP, normalKeys), p);
      expect(r1.responses[0].fields).to.include({ transit: false });
      expect(parse(r1.responses[0].data)).to.include({ ImmediateData: 'No' });
      const r2 = withTsih(loginStep(r1.state, req(OPS, FFP, [['ImmediateData', 'No']]), p));
      expect(r2.responses[0].fields).to.include({ transit: true, nsg: FFP });
      const ff = r2.effects.find((e) => e.kind === 'full-feature');
      expect(ff && ff.kind === 'full-feature' && ff.params.immediateData).to.equal(false);
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
        expect(r.state).to.include({ stage: OPS, phase: LoginPhase.NEGOTIATING });
      });
      it('wrong response -> 02 01', () => {
        const { p, st } = toChallenge();
        failsWith(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', '0x' + '00'.repeat(16)]]), p, 0x02, 0x01);
      });
      it('wrong user name -> 02 01', () => {
        const { p, st } = toChallenge();
        failsWith(st, req(SEC, OPS, [['CHAP_N', 'mallory'], ['CHAP_R', GOOD]]), p, 0x02, 0x01);
      });
      it('no common algorithm -> 02 01', () => {
        const p = policy(auth);
        const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
        failsWith(r1.state, req(SEC, null, [['CHAP_A', '6']]), p, 0x02, 0x01);
      });
      it('CHAP_R before CHAP_A is a protocol error -> 02 00', () => {
        const p = policy(auth);
        const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
        failsWith(r1.state, req(SEC, null, [['CHAP_N', 'alice'], ['CHAP_R', GOOD]]), p, 0x02, 0x00);
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
        failsWith(st, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', GOOD], ['CHAP_I', '9'], ['CHAP_C', '0x0102030405060708090a0b0c0d0e0f10']]), p, 0x02, 0x01);
      });
      it('mutual CHAP asked for but not configured -> 02 01', () => {
        const p = policy({ chap: auth.chap });
        const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
        const r2 = loginStep(r1.state, req(SEC, null, [['CHAP_A', '7,5']]), p);
        expect(parse(r2.responses[0].data).CHAP_A).to.equal('7');
        const sha = '0x' + createHash('sha256').update(Buffer.concat([Buffer.from([7]), Buffer.from('secret-twelve-bytes'), Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1))])).digest('hex');
        failsWith(r2.state, req(SEC, OPS, [['CHAP_N', 'alice'], ['CHAP_R', sha], ['CHAP_I', '1'], ['CHAP_C', '0x' + 'bb'.repeat(16)]]), p, 0x02, 0x01);
      });
    });
  });

  describe('CONTINUING: a long answer fetched with empty requests', () => {
    function longAnswer(): { p: FakePolicy; r1: LoginResult } {
      const p = policy();
      const unknown: Array<[string, string]> = Array.from({ length: 40 }, (_, i) => [`X-k${i}`, 'v']);
      const r1 = withTsih(loginStep(createLoginState(opts()), req(OPS, FFP, [...normalKeys, ['MaxRecvDataSegmentLength', '512'], ...unknown]), p));
      return { p, r1 };
    }

    it('RFC 7143 11.13.3: a long answer goes out in C=1 pieces of the initiator MaxRecvDataSegmentLength', () => {
      const { p, r1 } = longAnswer();
      expect(r1.responses[0].fields).to.include({ continue: true, transit: false, tsih: 0 });
      expect(r1.responses[0].data.length).to.equal(512);
      expect(r1.effects).to.deep.equal([]);
      expect(r1.state.phase).to.equal(LoginPhase.CONTINUING);
      const pieces = [r1.responses[0].data];
      let st = r1.state;
      let last: LoginResult | undefined;
      for (let i = 0; i < 10; i++) {
        last = loginStep(st, req(OPS, FFP, []), p);
        pieces.push(last.responses[0].data);
        st = last.state;
        if (!last.responses[0].fields.continue) break;
        expect(last.effects).to.deep.equal([]);
      }
      expect(last?.responses[0].fields).to.include({ transit: true, nsg: FFP, tsih: 0x21 });
      expect(kinds(last?.effects ?? [])).to.deep.equal(['create-session', 'full-feature']);
      expect(st.phase).to.equal(LoginPhase.FULL_FEATURE);
      const answers = parse(Buffer.concat(pieces));
      expect(answers['X-k39']).to.equal('NotUnderstood');
      expect(answers.MaxRecvDataSegmentLength).to.equal('65536');
    });
    it('keys sent while a response is continued -> 02 00', () => {
      const { p, r1 } = longAnswer();
      failsWith(r1.state, req(OPS, FFP, [['MaxBurstLength', '65536']]), p, 0x02, 0x00);
    });
    it('a CSG change while a response is continued -> 02 00', () => {
      const { p, r1 } = longAnswer();
      failsWith(r1.state, req(SEC, OPS, []), p, 0x02, 0x00);
    });
  });

  describe('ALLOCATING_TSIH: the TSIH the connection allocated', () => {
    it('a new session gets the allocated TSIH in its final response and create-session', () => {
      const r = withTsih(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), policy()), 0x1234);
      expect(r.responses[0].fields).to.include({ tsih: 0x1234, transit: true, nsg: FFP, status: LoginStatus.SUCCESS, statSN: 100 });
      expect(r.effects[0]).to.deep.include({ kind: 'create-session', tsih: 0x1234, targetName: TARGET, sessionType: 'Normal' });
    });
    it('RFC 7143 6.3.5: same ISID and initiator name with TSIH 0 reinstates the old session', () => {
      const p = policy();
      p.reinstate = 4;
      const r = withTsih(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p));
      expect(kinds(r.effects)).to.deep.equal(['reinstate-session', 'create-session', 'full-feature']);
      expect(r.effects[0]).to.deep.equal({ kind: 'reinstate-session', tsih: 4 });
      expect(r.effects[1]).to.deep.include({ kind: 'create-session', tsih: 0x21 });
    });
    it('no TSIH available -> 03 02', () => {
      const r1 = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), policy());
      expect(r1.effects).to.deep.equal([{ kind: 'allocate-tsih' }]);
      const rq = req(OPS, FFP, normalKeys);
      failsWith(r1.state, rq, policy(), 0x03, 0x02, (st) => loginTsihAllocated(st, null));
    });
    it('a Login Request before the TSIH is known is a bug of the caller (ERR_LOGIN_EVENT)', () => {
      const r1 = loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), policy());
      expect(() => loginStep(r1.state, req(OPS, FFP, []), policy())).to.throw(NexusError).with.property('code', 'ERR_LOGIN_EVENT');
    });
    it('a TSIH nobody asked for is a bug of the caller (ERR_LOGIN_EVENT)', () => {
      expect(() => loginTsihAllocated(createLoginState(opts()), 5)).to.throw(NexusError).with.property('code', 'ERR_LOGIN_EVENT');
    });
  });

  describe('FULL_FEATURE and FAILED: the login has ended', () => {
    it('login request after full feature phase -> 02 0b', () => {
      const p = policy();
      const r1 = withTsih(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p));
      failsWith(r1.state, req(OPS, FFP, []), p, 0x02, 0x0b);
    });
    it('login request after a failed login -> 02 0b', () => {
      const p = policy();
      const r1 = loginStep(createLoginState(opts()), req(SEC, OPS, [['TargetName', TARGET]]), p);
      expect(r1.state.phase).to.equal(LoginPhase.FAILED);
      failsWith(r1.state, req(SEC, OPS, normalKeys), p, 0x02, 0x0b);
    });
  });

  describe('purity', () => {
    it('the reducer does not mutate the state it was given, its negotiation or its text', () => {
      const p = policy();
      const s0 = createLoginState(opts());
      const before0 = snapshot(s0);
      const r1 = loginStep(s0, req(OPS, null, [...normalKeys, ['MaxBurstLength', '65536']]), p);
      expect(snapshot(s0)).to.deep.equal(before0);
      expect(s0.phase).to.equal(LoginPhase.START);
      expect(s0.negotiation.seen.size).to.equal(0);
      expect(r1.state.negotiation.seen.has('MaxBurstLength')).to.equal(true);
      // A half-sent C=1 set: the same state stepped twice gives the same answer both times.
      const all = text([['MaxRecvDataSegmentLength', '8192']]);
      const half = loginStep(r1.state, { ...req(OPS, null, []), data: all.subarray(0, 10), continue: true }, p);
      const before = snapshot(half.state);
      const a = withTsih(loginStep(half.state, { ...req(OPS, FFP, []), data: all.subarray(10) }, p));
      const b = withTsih(loginStep(half.state, { ...req(OPS, FFP, []), data: all.subarray(10) }, p));
      expect(snapshot(half.state)).to.deep.equal(before);
      expect(half.state.text.total).to.equal(10);
      expect(a.responses[0].data.equals(b.responses[0].data)).to.equal(true);
      expect(parse(a.responses[0].data)).to.include({ MaxRecvDataSegmentLength: '65536' });
    });
    it('RFC 7143 12.1.3: the CHAP challenge comes from the state\'s entropy, so a step repeated is the same step', () => {
      const p = policy(CHAP);
      const r1 = loginStep(createLoginState(opts()), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
      const a = loginStep(r1.state, req(SEC, null, [['CHAP_A', '5']]), p);
      const b = loginStep(r1.state, req(SEC, null, [['CHAP_A', '5']]), p);
      expect(parse(a.responses[0].data)).to.deep.equal({ CHAP_A: '5', CHAP_I: '7', CHAP_C: '0x0102030405060708090a0b0c0d0e0f10' });
      expect(parse(b.responses[0].data)).to.deep.equal(parse(a.responses[0].data));
      const other = { ...opts(), chapEntropy: Buffer.alloc(CHAP_CHALLENGE_RANDOM_BYTES, 0x5a) };
      const o1 = loginStep(createLoginState(other), req(SEC, null, [...normalKeys, ['AuthMethod', 'CHAP']]), p);
      const o2 = loginStep(o1.state, req(SEC, null, [['CHAP_A', '5']]), p);
      expect(parse(o2.responses[0].data)).to.deep.equal({ CHAP_A: '5', CHAP_I: '90', CHAP_C: '0x' + '5a'.repeat(16) });
    });
    it('every effect the reducer emits is one the connection acts on (no no-op effects)', () => {
      const p = policy();
      p.live.set(9, INITIATOR);
      const seen = new Set<string>();
      const collect = (r: LoginResult): LoginResult => { for (const e of r.effects) seen.add(e.kind); return r; };
      const sec = collect(loginStep(createLoginState(opts()), req(SEC, OPS, [...normalKeys, ['AuthMethod', 'None']]), p));
      collect(withTsih(collect(loginStep(sec.state, req(OPS, FFP, []), p))));
      collect(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys, { tsih: 9 }), p));
      p.reinstate = 3;
      collect(withTsih(collect(loginStep(createLoginState(opts()), req(OPS, FFP, normalKeys), p))));
      collect(loginStep(createLoginState(opts()), req(OPS, FFP, [['TargetName', TARGET]]), p));
      expect([...seen].sort()).to.deep.equal(['allocate-tsih', 'bind-connection', 'create-session', 'fail', 'full-feature', 'reinstate-session']);
    });
  });
});
