import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isNativeError, peerCredentials } from '../../../src/native';
import { socketFd } from '../../../src/workers/socket-handoff';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// unix(7) SO_PEERCRED: the control socket logs who made a change (issue 10).
describeNeeds(NATIVE_ADDON)('native peerCredentials (SO_PEERCRED of a Unix domain socket)', function () {
  this.timeout(15000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-cred-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names the connecting process's pid, uid and gid, as the kernel recorded them at connect(2)", async () => {
    const sock = path.join(dir, 'a.sock');
    const server = net.createServer();
    await new Promise<void>(r => server.listen(sock, () => r()));
    try {
      const accepted = new Promise<net.Socket>(r => server.once('connection', r));
      // The client is another process: it prints its pid and waits to be closed.
      const child = execFile(process.execPath, ['-e', `require('net').connect(${JSON.stringify(sock)},()=>console.log(process.pid)).on('close',()=>process.exit(0))`]);
      const childPid = await new Promise<number>(r => child.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
      const peer = await accepted;
      const c = peerCredentials(socketFd(peer));
      expect(c).to.deep.equal({ pid: childPid, uid: process.getuid!(), gid: process.getgid!() });
      peer.destroy();
    } finally {
      await new Promise<void>(r => server.close(() => r()));
    }
  });

  it('answers ENOTSOCK for a descriptor that is not a socket, EBADF for a closed one', () => {
    const f = path.join(dir, 'plain');
    fs.writeFileSync(f, 'x');
    const fd = fs.openSync(f, 'r');
    const r = peerCredentials(fd);
    expect(isNativeError(r) && r.errno).to.equal('ENOTSOCK');
    fs.closeSync(fd);
    const closed = peerCredentials(fd);
    expect(isNativeError(closed) && closed.errno).to.equal('EBADF');
  });
});
