import { expect } from 'chai';
import * as net from 'node:net';
import { isNativeError, recvSync } from '../../../src/native';
import { directReceiver, socketFd } from '../../../src/workers/socket-handoff';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// recvSync exists only in the native addon (npm ci builds it); without it there is nothing to test.
describeNeeds(NATIVE_ADDON)('native recvSync (non-blocking receive into a caller buffer)', function () {
  this.timeout(10000);
  let server: net.Server;
  let client: net.Socket;
  let peer: net.Socket;

  before(async () => {
    server = net.createServer();
    const accepted = new Promise<net.Socket>((res) => server.once('connection', res));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise<void>((res) => client.once('connect', () => res()));
    peer = await accepted;
    // Nobody reads `peer` through the event loop: recvSync alone takes its bytes.
    peer.pause();
  });
  after(async () => {
    client.destroy();
    peer.destroy();
    await new Promise<void>((res) => server.close(() => res()));
  });

  it('answers EAGAIN on an empty socket instead of blocking', () => {
    const r = recvSync(socketFd(peer), Buffer.alloc(16), 0, 16);
    expect(isNativeError(r) && r.errno).to.equal('EAGAIN');
  });

  it('receives waiting bytes at the offset asked, never more than the length', async () => {
    client.write(Buffer.from('0123456789abcdef'));
    const into = Buffer.alloc(32, 0x2e);
    let got = 0;
    for (let i = 0; i < 100 && got === 0; i++) {
      const r = recvSync(socketFd(peer), into, 4, 10);
      if (typeof r === 'number') got = r;
      else await new Promise((res) => setTimeout(res, 10));
    }
    expect(got).to.equal(10);
    expect(into.toString('latin1')).to.equal('....0123456789..................');
    const rx = directReceiver(peer)!;
    expect(rx(into, 0, 32)).to.equal(6); // the rest
    expect(into.subarray(0, 6).toString('latin1')).to.equal('abcdef');
    expect(rx(into, 0, 32)).to.equal(0); // nothing left: 0, not an error
  });

  it('refuses ranges outside the buffer and bad descriptors as values', () => {
    const b = Buffer.alloc(8);
    const r1 = recvSync(socketFd(peer), b, 4, 5);
    expect(isNativeError(r1) && r1.errno).to.equal('EINVAL');
    const r2 = recvSync(-1, b, 0, 8);
    expect(isNativeError(r2) && r2.errno).to.equal('EBADF');
    expect(() => recvSync(socketFd(peer), 'x' as never, 0, 1)).to.throw(TypeError);
  });
});
