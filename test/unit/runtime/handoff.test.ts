import { expect } from 'chai';
import * as net from 'node:net';
import * as path from 'node:path';
import { dupFd, closeFd, isNativeError } from '../../../src/native';
import { HandOffResult, Supervisor } from '../../../src/workers/supervisor';
import { closeOrphanedDescriptor, socketFd, socketIdentity } from '../../../src/workers/socket-handoff';
import { dev, tgt } from './helpers';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

const ENTRY = path.join(__dirname, 'fixtures', 'echo-entry.ts');
const TARGET = 'iqn.2024-01.test:t1';

/** Collects what a client receives and whether the peer ended (FIN) or reset the connection. */
class Client {
  readonly socket: net.Socket;
  bytes = Buffer.alloc(0);
  fin = false;
  error: string | null = null;
  private waiters: (() => void)[] = [];
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', b => { this.bytes = Buffer.concat([this.bytes, b]); this.wake(); });
    this.socket.on('end', () => { this.fin = true; this.wake(); });
    this.socket.on('error', e => { this.error = (e as NodeJS.ErrnoException).code ?? e.message; this.wake(); });
  }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  /** Waits until `n` bytes arrived (bounded: 5 s, then returns what there is). */
  async until(pred: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!pred() && Date.now() < deadline) {
      await new Promise<void>(res => { this.waiters.push(res); setTimeout(res, 50); });
    }
  }
}

describeNeeds(NATIVE_ADDON)('socket hand-off to an engine thread', function () {
  this.timeout(20000);
  let threads: Supervisor;
  let server: net.Server;
  let port: number;
  let accepted: net.Socket[] = [];
  let onLogin: (s: net.Socket, first: Buffer) => void = () => undefined;

  before(async () => {
    threads = await Supervisor.create(
      { devices: [dev('d0'), dev('d1')], targets: [tgt(TARGET, ['d0', 'd1'])] },
      { threads: 2, threadEntry: ENTRY },
    );
    server = net.createServer(s => {
      accepted.push(s);
      s.once('data', b => onLogin(s, b));
    });
    await new Promise<void>(res => server.listen(0, '127.0.0.1', () => res()));
    port = (server.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of accepted) s.destroy();
    await new Promise<void>(res => server.close(() => res()));
    await threads.close();
  });
  beforeEach(() => { accepted = []; });

  it('dupFd gives a second descriptor of the same socket; bad descriptors are values', async () => {
    const c = new Client(port);
    onLogin = () => undefined;
    await new Promise<void>(res => c.socket.once('connect', () => res()));
    const fd = socketFd(c.socket);
    const copy = dupFd(fd);
    expect(copy).to.be.a('number');
    expect(copy).to.not.equal(fd);
    expect(closeFd(copy as number)).to.equal(undefined);
    const bad = dupFd(-1);
    expect(isNativeError(bad) && bad.errno).to.equal('EBADF');
    c.socket.destroy();
  });

  it('a descriptor orphaned by a dead thread is closed, and only if it still names the same socket', async () => {
    const c = new Client(port);
    onLogin = () => undefined;
    await new Promise<void>(res => c.socket.once('connect', () => res()));
    await new Promise<void>((res) => { const t = setInterval(() => { if (accepted.length > 0) { clearInterval(t); res(); } }, 5); });
    // The supervisor's side of the connection, duplicated as for a hand-off.
    const orphan = dupFd(socketFd(accepted[0])) as number;
    const identity = socketIdentity(orphan);
    expect(identity).to.be.greaterThan(0);
    expect(socketIdentity(-1)).to.equal(-1);
    // A different socket's identity: nothing is closed.
    expect(closeOrphanedDescriptor(orphan, identity + 1)).to.equal(false);
    expect(socketIdentity(orphan)).to.equal(identity);
    // The right one: closed, and with every other descriptor of the connection gone the initiator
    // sees it end.
    expect(closeOrphanedDescriptor(orphan, identity)).to.equal(true);
    expect(socketIdentity(orphan)).to.equal(-1);
    accepted[0].destroy();
    await c.until(() => c.fin || c.error !== null);
    expect(c.fin || c.error !== null).to.equal(true);
    // Closed already (e.g. by the dead thread's exit): nothing to do.
    expect(closeOrphanedDescriptor(orphan, identity)).to.equal(false);
    c.socket.destroy();
  });

  it('moves a logged-in connection: final response, replayed bytes, echo both ways, no FIN', async () => {
    const results: Promise<unknown>[] = [];
    onLogin = (s, first) => {
      // "LOGIN\n" is the login; what follows it in the same chunk was read past the login.
      expect(first.subarray(0, 6).toString('latin1')).to.equal('LOGIN\n');
      results.push(threads.handOff({ fabric: 'echo',
        socket: s,
        state: {
          targetName: TARGET, initiatorName: 'iqn.2024-01.test:i1', isid: '400001370000', tsih: 7, cid: 0, tpgt: 1, portal: '',
          statSN: 42, expCmdSN: 5, maxCmdSN: 36, params: { MaxRecvDataSegmentLength: 262144, HeaderDigest: 'None' },
        },
        leftover: first.subarray(6),
        finalResponse: Buffer.from('WELCOME\n', 'latin1'),
      }));
    };
    const c = new Client(port);
    c.socket.write(Buffer.from('LOGIN\nEXTRA', 'latin1'));
    await c.until(() => c.bytes.length >= 13);
    // The final response first, then the bytes the supervisor had read, replayed by the thread.
    expect(c.bytes.toString('latin1')).to.equal('WELCOME\nEXTRA');
    const r = (await results[0]) as { ok: boolean; thread: number; sessionKey: string };
    expect(r.ok).to.equal(true);
    // The supervisor's socket object is gone; the connection is not.
    expect(accepted[0].destroyed).to.equal(true);
    c.socket.write('ping-1');
    await c.until(() => c.bytes.length >= 19);
    expect(c.bytes.subarray(13).toString('latin1')).to.equal('ping-1');
    c.socket.write('WHO\n');
    await c.until(() => c.bytes.includes('\n', 19));
    // d0 on thread 0, d1 on thread 1: a tie, the least loaded (thread 0) wins.
    expect(c.bytes.subarray(19).toString('latin1')).to.equal(`thread=${r.thread} tsih=7 statSN=42 isid=400001370000\n`);
    expect(r.thread).to.equal(0);
    expect(c.fin).to.equal(false);
    expect(c.error).to.equal(null);
    expect(threads.registry.get(r.sessionKey)?.thread).to.equal(0);
    // Logout on the thread: the supervisor forgets the session.
    c.socket.write('BYE\n');
    await c.until(() => c.fin);
    expect(c.fin).to.equal(true);
    for (let i = 0; i < 100 && threads.registry.size > 0; i++) await new Promise(res => setTimeout(res, 20));
    expect(threads.registry.size).to.equal(0);
    c.socket.destroy();
  });

  it('refuses a fabric the thread has no factory for, and a factory that throws; the registry forgets both', async () => {
    const results: Promise<HandOffResult>[] = [];
    const fabrics = ['nope', 'broken'];
    onLogin = s => {
      const fabric = fabrics[results.length];
      results.push(threads.handOff({
        fabric, socket: s,
        state: {
          targetName: TARGET, initiatorName: `iqn.2024-01.test:${fabric}`, isid: '400001370009', tsih: 30 + results.length, cid: 0,
          tpgt: 1, portal: '', statSN: 1, expCmdSN: 1, maxCmdSN: 1, params: {},
        },
      }));
    };
    for (let i = 0; i < fabrics.length; i++) {
      const c = new Client(port);
      c.socket.write('LOGIN\n');
      await c.until(() => results.length > i);
      const r = await results[i];
      expect(r.ok).to.equal(false);
      await c.until(() => c.fin || c.error !== null);
      expect(c.fin || c.error !== null).to.equal(true);
      c.socket.destroy();
    }
    const [nope, broken] = await Promise.all(results);
    expect(nope).to.have.property('error').that.matches(/no session factory for fabric "nope"/);
    expect(broken).to.have.property('error').that.matches(/connection handler failed: cannot start/);
    expect(threads.registry.size).to.equal(0);
  });

  it('reinstatement closes the old session on its thread and places the new one', async () => {
    const state = {
      targetName: TARGET, initiatorName: 'iqn.2024-01.test:i2', isid: '400001370001', tsih: 9, cid: 0, tpgt: 1, portal: '',
      statSN: 1, expCmdSN: 1, maxCmdSN: 1, params: {},
    };
    const results: Promise<HandOffResult>[] = [];
    onLogin = s => { results.push(threads.handOff({ fabric: 'echo', socket: s, state, finalResponse: Buffer.from('OK\n', 'latin1') })); };
    const a = new Client(port);
    a.socket.write('LOGIN\n');
    await a.until(() => a.bytes.length >= 3);
    expect((await results[0]).ok).to.equal(true);
    const b = new Client(port);
    b.socket.write('LOGIN\n');
    await a.until(() => a.fin);
    expect(a.bytes.toString('latin1')).to.equal('OK\nclosing: reinstatement\n');
    await b.until(() => b.bytes.length >= 3);
    expect((await results[1]).ok).to.equal(true);
    expect(b.bytes.toString('latin1')).to.equal('OK\n');
    expect(threads.registry.size).to.equal(1);
    a.socket.destroy();
    b.socket.write('BYE\n');
    await b.until(() => b.fin);
    b.socket.destroy();
  });

  it('a dead thread loses its sessions; the initiator logs in again on the replacement', async () => {
    const state = {
      targetName: TARGET, initiatorName: 'iqn.2024-01.test:i3', isid: '400001370002', tsih: 11, cid: 0, tpgt: 1, portal: '',
      statSN: 1, expCmdSN: 1, maxCmdSN: 1, params: {},
    };
    const results: Promise<HandOffResult>[] = [];
    onLogin = s => { results.push(threads.handOff({ fabric: 'echo', socket: s, state, finalResponse: Buffer.from('OK\n', 'latin1') })); };
    const a = new Client(port);
    a.socket.write('LOGIN\n');
    await a.until(() => a.bytes.length >= 3);
    const first = await results[0];
    if (!first.ok) throw new Error(first.error);
    await threads.worker(first.thread)!.terminate();
    await a.until(() => a.fin || a.error !== null);
    expect(a.fin || a.error !== null).to.equal(true);
    expect(threads.registry.size).to.equal(0);
    await threads.whenReady(first.thread);
    const b = new Client(port);
    b.socket.write('LOGIN\n');
    await b.until(() => b.bytes.length >= 3);
    const second = await results[1];
    if (!second.ok) throw new Error(second.error);
    b.socket.write('WHO\n');
    await b.until(() => b.bytes.includes('\n', 3));
    expect(b.bytes.subarray(3).toString('latin1')).to.equal(`thread=${second.thread} tsih=11 statSN=1 isid=400001370002\n`);
    a.socket.destroy();
    b.socket.write('BYE\n');
    await b.until(() => b.fin);
    b.socket.destroy();
  });
});
