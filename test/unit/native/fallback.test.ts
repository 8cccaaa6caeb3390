import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

// src/native/index.ts without the addon (NEXUS_NATIVE=0 stands in for "not
// built"): every export still works or answers ENOSYS, in a child process so
// this process keeps its loaded addon.
describe('native/index without the addon', () => {
  it('reports available=false and serves the JS fallbacks', function () {
    this.timeout(20000);
    const index = path.resolve(__dirname, '../../../src/native/index.ts');
    const script = `
      const n = require(${JSON.stringify(index)});
      const out = {
        available: n.available,
        impl: n.crc32cImpl,
        crc: n.crc32c(new Uint8Array(32)),
        sab: n.allocAlignedShared(100) instanceof SharedArrayBuffer,
        punch: n.punchHole(0, 0, 4096),
        seek: n.seekData(0, 0),
        open: n.openBlock('/definitely/not/here', {}),
        backend: n.createIoQueue({ depth: 4 }).backend,
      };
      let addr;
      try { n.addressOf(new Uint8Array(1)); } catch (e) { addr = e.code; }
      out.addressOf = addr;
      out.openSgQueue = n.openSgQueue('/dev/sg0').errno;
      out.peerCredentials = n.peerCredentials(0).errno;
      out.openUioRing = n.openUioRing('/dev/uio0', 4096, () => {}).errno;
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
      cwd: path.resolve(__dirname, '../../..'),
      env: { ...process.env, NEXUS_NATIVE: '0' },
      encoding: 'utf8',
      timeout: 15000,
    });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out).to.deep.include({
      available: false,
      impl: 'js',
      crc: 0x8a9136aa,
      sab: true,
      backend: 'js',
      addressOf: 'ERR_NATIVE_UNAVAILABLE',
      openSgQueue: 'ENOSYS',
      peerCredentials: 'ENOSYS',
      openUioRing: 'ENOSYS',
    });
    expect(out.punch.errno).to.equal('ENOSYS');
    expect(out.seek.errno).to.equal('ENOSYS');
    expect(out.open.errno).to.equal('ENOENT');
  });
});
