import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as native from '../../../src/native';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// This machine's kernel has no target_core_user: these tests cover how what is not a TCMU uio
// device is refused (and nothing leaks when a step after open fails), and how arguments are
// checked. The mapping, events and kicks on a real /dev/uioN run in the kernel VM
// (test/kernel-vm/guest/tcmu.sh); the ring protocol over the mapping is tested against the
// kernel-side simulator (test/unit/tcmu/).

describeNeeds(NATIVE_ADDON)('native/uio-ring', () => {
  let dir: string;
  const none = (): void => {};

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-uio-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a missing device answers ENOENT, naming the path', () => {
    const p = path.join(dir, 'uio99');
    const r = native.openUioRing(p, 4096, none);
    expect(r).to.include({ errno: 'ENOENT' });
    expect((r as native.NativeError).message).to.contain(p);
  });

  it('a regular file is not a uio device: ENOTTY', () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, Buffer.alloc(8192));
    expect(native.openUioRing(file, 8192, none)).to.include({ errno: 'ENOTTY' });
  });

  it('a character device that cannot be mapped (/dev/null) answers the mmap errno', () => {
    const r = native.openUioRing('/dev/null', 4096, none);
    expect(native.isNativeError(r)).to.equal(true);
    expect((r as native.NativeError).message).to.match(/mmap/);
  });

  it('a device epoll cannot watch (/dev/zero) is refused with the errno epoll gives', () => {
    const r = native.openUioRing('/dev/zero', 4096, none);
    expect(r).to.include({ errno: 'EPERM' });
    expect((r as native.NativeError).message).to.match(/cannot be polled/);
  });

  it('a map size that is not a positive page multiple answers EINVAL before opening anything', () => {
    for (const size of [0, -4096, 100, 4096.5, native.pageSize + 1]) {
      expect(native.openUioRing('/dev/null', size, none), String(size)).to.include({ errno: 'EINVAL' });
    }
  });

  it('wrong JS types throw TypeError', () => {
    const open = native.openUioRing as unknown as (...a: unknown[]) => unknown;
    expect(() => open(1, 4096, none)).to.throw(TypeError);
    expect(() => open('/dev/null', '4096', none)).to.throw(TypeError);
    expect(() => open('/dev/null', 4096)).to.throw(TypeError);
  });
});
