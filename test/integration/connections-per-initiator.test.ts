// maxConnectionsPerInitiator over real sockets, with sessions on engine threads and on the main
// thread: an initiator name's sessions and its logins still in progress count, from any source
// address; the login past the limit is refused once its InitiatorName is known, Status-Class 3,
// detail 2 (out of resources, RFC 7143 11.13.5). Login Requests are built here field by field.
import { expect } from 'chai';
import net from 'node:net';
import { ENGINE_THREADS, RunningDaemon, startDaemon } from '../helpers/daemon';
import { describeNeeds, NATIVE_ADDON } from '../helpers/prereq';

const TARGET = 'iqn.2026-11.io.nexus:per-initiator';
const HOST_A = 'iqn.2026-11.example:host-a';
const HOST_B = 'iqn.2026-11.example:host-b';

interface Answer { statusClass: number; detail: number; final: boolean }

/** A connection carrying one Login Request (RFC 7143 11.12), and the target's first answer to it. */
class LoginConnection {
  private constructor(private readonly sock: net.Socket, readonly answer: Answer) {}

  /**
   * `complete`: CSG=1 (operational) to NSG=3 with T=1, the whole login in one request; otherwise
   * T=0, so the login stays in progress until the connection closes.
   */
  static async open(port: number, name: string, isid: number, complete: boolean, localAddress = '127.0.0.1'): Promise<LoginConnection> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(s));
      s.once('error', reject);
    });
    sock.on('error', () => undefined);
    const keys = {
      InitiatorName: name, TargetName: TARGET, SessionType: 'Normal', HeaderDigest: 'None', DataDigest: 'None',
      MaxRecvDataSegmentLength: '65536', InitialR2T: 'Yes', ImmediateData: 'Yes', MaxBurstLength: '262144',
      FirstBurstLength: '65536', MaxOutstandingR2T: '1', ErrorRecoveryLevel: '0',
    };
    const text = Buffer.from(Object.entries(keys).map(([k, v]) => `${k}=${v}\0`).join(''));
    const b = Buffer.alloc(48 + ((text.length + 3) & ~3));
    b[0] = 0x43; // Login Request, immediate
    b[1] = complete ? 0x80 | (1 << 2) | 3 : 1 << 2 | 1;
    b.writeUIntBE(text.length, 5, 3);
    b.writeUIntBE(0x400000000000 + isid, 8, 6);
    b.writeUInt32BE(0x1000, 16);
    b.writeUInt16BE(1, 20);
    b.writeUInt32BE(1, 24);
    text.copy(b, 48);
    const answer = await new Promise<Answer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error('no Login Response within 5 s')), 5000);
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length < 48) return;
        clearTimeout(timer);
        expect(got[0] & 0x3f).to.equal(0x23);
        resolve({ statusClass: got[36], detail: got[37], final: (got[1] & 0x80) !== 0 });
      });
      sock.write(b);
    });
    return new LoginConnection(sock, answer);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.sock.destroyed) return resolve();
      this.sock.once('close', () => resolve());
      this.sock.destroy();
    });
  }
}

const OK: Answer = { statusClass: 0, detail: 0, final: true };
const IN_PROGRESS: Answer = { statusClass: 0, detail: 0, final: false };
const OUT_OF_RESOURCES = { statusClass: 3, detail: 2 };

for (const threads of ENGINE_THREADS) {
  (threads > 0 ? describeNeeds(NATIVE_ADDON) : describe)(`daemon: maxConnectionsPerInitiator (engine threads: ${threads})`, function () {
    this.timeout(60000);
    let d: RunningDaemon;
    const open: LoginConnection[] = [];

    before(async () => {
      d = await startDaemon({
        iscsi: { maxConnectionsPerInitiator: 2 },
        devices: [{ name: 'ram0', handler: 'ram', size: '1MiB', blockSize: 512 }],
        targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'ram0' }] }],
      }, { threads });
    });
    after(async () => {
      for (const c of open) await c.close();
      await d?.stop();
    });

    const login = async (name: string, isid: number, complete: boolean, from?: string): Promise<LoginConnection> => {
      const c = await LoginConnection.open(d.port, name, isid, complete, from);
      open.push(c);
      return c;
    };

    it('RFC 7143 11.13.5: a session and a login in progress fill the limit; the next login of that name is refused with 0302h from any address, another name logs in, and a closed connection frees its place', async () => {
      const session = await login(HOST_A, 1, true);
      expect(session.answer).to.deep.equal(OK);
      const pending = await login(HOST_A, 2, false);
      expect(pending.answer).to.deep.equal(IN_PROGRESS);
      // A third connection of the same initiator, from another loopback address: refused.
      const third = await login(HOST_A, 3, true, '127.0.0.2');
      expect({ statusClass: third.answer.statusClass, detail: third.answer.detail }).to.deep.equal(OUT_OF_RESOURCES);
      // The limit is the initiator's, not the target's.
      expect((await login(HOST_B, 1, true)).answer).to.deep.equal(OK);
      // The login in progress ends: its place is free again.
      await pending.close();
      await new Promise((r) => setTimeout(r, 200));
      expect((await login(HOST_A, 4, true)).answer).to.deep.equal(OK);
      expect((await login(HOST_A, 5, true)).answer).to.include(OUT_OF_RESOURCES);
      // A session that ends frees its place too (on an engine thread: once the thread reports it gone).
      await session.close();
      let again: Answer | undefined;
      for (let i = 0; i < 20 && again?.statusClass !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = (await login(HOST_A, 6 + i, true)).answer;
      }
      expect(again).to.deep.equal(OK);
    });
  });
}
