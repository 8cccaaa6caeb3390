// Limits of the login phase one initiator cannot exceed (README "Reliability"): a login that does
// not finish within loginTimeoutSec is dropped; more than maxLoginRequests Login Requests end the
// login with Status-Class 2 (initiator error, RFC 7143 11.13.5).
import { expect } from 'chai';
import net from 'node:net';
import { Engine } from '../../../src/engine/engine';
import { IscsiServer } from '../../../src/transports/iscsi/server';
import { Initiator, SETTINGS, TARGET, makeEngine, topology } from './harness';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('iSCSI login limits', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('RFC 7143 11.13.5: Login Requests past maxLoginRequests end the login with 0200h (initiator error), then the connection closes', async () => {
    const ini = new Initiator(engine, undefined, { ...SETTINGS, maxLoginRequests: 4 });
    // Operational stage (CSG=1), T=0, C=1: text that never completes, one request after another.
    const request = (n: number): Buffer => ini.pdu(0x43, 0x40 | (1 << 2) | 1, Buffer.from(`X-com.example.k${n}=v`), (h) => {
      h.writeUIntBE(0x80123456789a, 8, 6);
      h.writeUInt32BE(0x1000, 16);
      h.writeUInt32BE(1, 24);
    });
    for (let i = 0; i < 4; i++) {
      ini.sock.send(request(i));
      const [r] = await ini.take(1);
      expect(r.op).to.equal(0x23);
      expect(r.bhs[36]).to.equal(0); // still in the login: success, waiting for the rest
    }
    ini.sock.send(request(4));
    const [refused] = await ini.take(1);
    expect(refused.op).to.equal(0x23);
    expect([refused.bhs[36], refused.bhs[37]]).to.deep.equal([2, 0]);
    expect(refused.b1 & 0x80).to.equal(0); // T=0
    await Promise.race([ini.conn.closed, new Promise((_, no) => setTimeout(() => no(new Error('not closed')), 3000))]);
  });

  it('RFC 7143 11.13.5: a leading login past maxSessions is refused with 0302h (out of resources); one fits again once a session ended', async () => {
    const settings = { ...SETTINGS, maxSessions: 2 };
    const a = new Initiator(engine, undefined, settings);
    expect((await a.login({ InitiatorName: 'iqn.2026-11.example:a' })).bhs[36]).to.equal(0);
    const b = new Initiator(engine, a.sessions, settings);
    expect((await b.login({ InitiatorName: 'iqn.2026-11.example:b' })).bhs[36]).to.equal(0);
    const c = new Initiator(engine, a.sessions, settings);
    const refused = await c.login({ InitiatorName: 'iqn.2026-11.example:c' });
    expect([refused.bhs[36], refused.bhs[37]]).to.deep.equal([3, 2]);
    await Promise.race([c.conn.closed, new Promise((_, no) => setTimeout(() => no(new Error('not closed')), 3000))]);
    // A session that ends frees its place.
    a.sock.destroy();
    await a.conn.closed;
    const d = new Initiator(engine, a.sessions, settings);
    expect((await d.login({ InitiatorName: 'iqn.2026-11.example:d' })).bhs[36]).to.equal(0);
  });

  it('a connection that does not finish its login within loginTimeoutSec is closed; a finished login is not', async () => {
    const t = topology().targets[0];
    const server = new IscsiServer({
      engine, settings: { ...SETTINGS, loginTimeoutSec: 0.2 }, targets: [{ ...t, portals: ['127.0.0.1:0'] }], log: silent,
      parsePortal: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const [addr] = await server.start();
    try {
      const closedWithin = (sock: net.Socket): Promise<number> => new Promise((resolve) => {
        const t0 = performance.now();
        sock.on('error', () => undefined);
        sock.once('close', () => resolve(performance.now() - t0));
      });
      // Silent after connecting (a half-open or slow-loris login).
      const idle = net.connect(addr.port, '127.0.0.1');
      const idleClosed = closedWithin(idle);
      // One byte of a Login Request, then nothing.
      const slow = net.connect(addr.port, '127.0.0.1', () => slow.write(Buffer.from([0x43])));
      const slowClosed = closedWithin(slow);
      // A login that completes in one request stays up past the timeout.
      const good = net.connect(addr.port, '127.0.0.1');
      const ini = new Initiator(engine);
      const answered = new Promise<Buffer>((resolve) => good.once('data', (d: Buffer) => resolve(d)));
      good.on('connect', () => good.write(ini.loginBytes({
        InitiatorName: 'iqn.2026-11.example:good', TargetName: TARGET, SessionType: 'Normal', ErrorRecoveryLevel: '0',
        HeaderDigest: 'None', DataDigest: 'None', MaxRecvDataSegmentLength: '8192',
        // Everything the target would otherwise offer, so one request reaches the full feature phase.
        MaxBurstLength: '16384', FirstBurstLength: '8192', MaxOutstandingR2T: '2', ImmediateData: 'Yes', InitialR2T: 'No',
      })));
      const resp = await answered;
      expect(resp[0] & 0x3f).to.equal(0x23);
      expect(resp[36]).to.equal(0);
      expect(resp[1] & 0x83, `login response ${resp.subarray(0, 4).toString("hex")}`).to.equal(0x83); // T=1, NSG=3
      const [a, b] = await Promise.all([idleClosed, slowClosed]);
      for (const ms of [a, b]) {
        expect(ms).to.be.greaterThan(150);
        expect(ms).to.be.lessThan(2000);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(good.destroyed).to.equal(false);
      expect(server.sessionCount()).to.equal(1);
      good.destroy();
    } finally {
      await server.stop();
    }
  });
});

describe('iSCSI full feature phase limits', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('RFC 7143 11.10: a text exchange past maxTextRequests is rejected (protocol error) and the connection closes', async () => {
    const ini = new Initiator(engine, undefined, { ...SETTINGS, maxTextRequests: 4 });
    await ini.login();
    // Text Requests with C=1 (F=0): the key text never completes.
    const part = (n: number): Buffer => ini.pdu(0x04, 0x40, Buffer.from(`X-com.example.k${n}=v`), (h) => {
      h.writeUInt32BE(0x700 + n, 16);
      h.writeUInt32BE(0xffffffff, 20);
      h.writeUInt32BE(ini.cmdSN++, 24);
    });
    for (let i = 0; i < 4; i++) {
      ini.sock.send(part(i));
      const [r] = await ini.take(1);
      expect(r.op).to.equal(0x24); // Text Response, empty, until the set is complete
    }
    ini.sock.send(part(4));
    const [rej] = await ini.take(1);
    expect(rej.op).to.equal(0x3f);
    expect(rej.bhs[2]).to.equal(0x04); // Protocol Error
    await Promise.race([ini.conn.closed, new Promise((_, no) => setTimeout(() => no(new Error('not closed')), 3000))]);
  });
});

describe('iSCSI connection admission', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('RFC 7143 11.13.5: a login past maxLoginsPerSecond from one address is refused with 0302h (out of resources)', async () => {
    const t = topology().targets[0];
    const server = new IscsiServer({
      engine, settings: { ...SETTINGS, maxLoginsPerSecond: 2 }, targets: [{ ...t, portals: ['127.0.0.1:0'] }], log: silent,
      parsePortal: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const [addr] = await server.start();
    const socks: net.Socket[] = [];
    const loginStatus = (name: string): Promise<[number, number]> => new Promise((resolve) => {
      const ini = new Initiator(engine);
      const s = net.connect(addr.port, '127.0.0.1', () => s.write(ini.loginBytes({
        InitiatorName: name, TargetName: TARGET, SessionType: 'Normal', ErrorRecoveryLevel: '0', HeaderDigest: 'None', DataDigest: 'None',
        MaxRecvDataSegmentLength: '8192', MaxBurstLength: '16384', FirstBurstLength: '8192', MaxOutstandingR2T: '2', ImmediateData: 'Yes', InitialR2T: 'No',
      })));
      s.on('error', () => undefined);
      s.once('data', (d: Buffer) => resolve([d[36], d[37]]));
      socks.push(s);
    });
    try {
      const got = [];
      for (let i = 0; i < 3; i++) got.push(await loginStatus(`iqn.2026-11.example:rate${i}`));
      expect(got).to.deep.equal([[0, 0], [0, 0], [3, 2]]);
    } finally {
      for (const s of socks) s.destroy();
      await server.stop();
    }
  });

  it('a connection past maxConnectionsPerAddress is closed at accept; one fits again once another closed', async () => {
    const t = topology().targets[0];
    const server = new IscsiServer({
      engine, settings: { ...SETTINGS, maxConnectionsPerAddress: 2 }, targets: [{ ...t, portals: ['127.0.0.1:0'] }], log: silent,
      parsePortal: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const [addr] = await server.start();
    const open = (): Promise<net.Socket> => new Promise((resolve) => {
      const s = net.connect(addr.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
    });
    const closes = (s: net.Socket, ms: number): Promise<boolean> => new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      s.once('close', () => { clearTimeout(timer); resolve(true); });
    });
    try {
      const a = await open();
      const b = await open();
      const c = await open();
      expect(await closes(c, 1000)).to.equal(true);
      expect(await closes(a, 100)).to.equal(false);
      expect(server.connectionCount).to.equal(2);
      a.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const d = await open();
      expect(await closes(d, 150)).to.equal(false);
      b.destroy();
      d.destroy();
    } finally {
      await server.stop();
    }
  });
});
