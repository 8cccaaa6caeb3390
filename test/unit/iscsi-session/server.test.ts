// IscsiServer on a loopback ephemeral port: on stop() a logged-in initiator receives an Async
// Message "logout requested" (RFC 7143 11.9.1, AsyncEvent 1, Parameter3 = seconds to log out).
import { expect } from 'chai';
import net from 'node:net';
import { Engine } from '../../../src/engine/engine';
import { IscsiServer } from '../../../src/transports/iscsi/server';
import { INITIATOR, SETTINGS, TARGET, makeEngine, topology } from './harness';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function loginPdu(): Buffer {
  const text = Buffer.from(`InitiatorName=${INITIATOR}\0TargetName=${TARGET}\0SessionType=Normal\0` +
    // Everything the target would otherwise offer, so one request reaches the full feature phase.
    'MaxBurstLength=16384\0FirstBurstLength=8192\0MaxOutstandingR2T=2\0ImmediateData=Yes\0InitialR2T=No\0ErrorRecoveryLevel=0\0');
  const b = Buffer.alloc(48 + ((text.length + 3) & ~3));
  b[0] = 0x43;
  b[1] = 0x87; // T, CSG=1, NSG=3
  b.writeUIntBE(text.length, 5, 3);
  b.writeUIntBE(0x400000000001, 8, 6); // ISID
  b.writeUInt32BE(7, 16); // ITT
  b.writeUInt32BE(1, 24); // CmdSN
  text.copy(b, 48);
  return b;
}

describe('iSCSI server', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await makeEngine();
  });
  afterEach(async () => {
    await engine.close();
  });

  it('asks a logged-in initiator to log out on stop and finishes when it does', async () => {
    const t = topology().targets[0];
    const server = new IscsiServer({
      engine, settings: SETTINGS, targets: [{ ...t, portals: ['127.0.0.1:0'] }], log: silent, logoutWaitMs: 5000,
      parsePortal: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const [addr] = await server.start();
    expect(addr.port).to.be.greaterThan(0);
    const sock = net.connect(addr.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const pdus: Buffer[] = [];
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 48) {
        const len = 48 + ((buf.readUIntBE(5, 3) + 3) & ~3);
        if (buf.length < len) break;
        pdus.push(buf.subarray(0, len));
        buf = buf.subarray(len);
      }
    });
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 500 && pdus.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(loginPdu());
    await until(1);
    expect(pdus[0][0]).to.equal(0x23);
    expect(pdus[0][36]).to.equal(0);
    expect(server.sessionCount()).to.equal(1);
    const stopped = server.stop();
    await until(2);
    const am = pdus[1];
    expect(am[0] & 0x3f).to.equal(0x32);
    expect(am.readUInt32BE(16)).to.equal(0xffffffff);
    expect(am[36]).to.equal(1); // AsyncEvent: logout requested
    expect(am.readUInt16BE(42)).to.equal(5); // Parameter3: seconds
    const logout = Buffer.alloc(48);
    logout[0] = 0x46;
    logout[1] = 0x80;
    logout.writeUInt32BE(8, 16);
    logout.writeUInt32BE(1, 24);
    sock.write(logout);
    await until(3);
    await stopped;
    expect(pdus[2][0]).to.equal(0x26);
    expect(server.sessionCount()).to.equal(0);
    sock.destroy();
  });
});
