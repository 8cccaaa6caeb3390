import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as native from '../../../src/native';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// This machine's kernel has no SCSI: these tests cover how a node that is not a SCSI generic
// device is refused and how arguments are checked. Commands through a real /dev/sgN (scsi_debug)
// run in the kernel VM (test/kernel-vm/guest/passthrough.sh).

describeNeeds(NATIVE_ADDON)('native/sg-queue', () => {
  let dir: string;

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-sgq-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a regular file is not an sg node: ENOTTY, naming the path', () => {
    const file = path.join(dir, 'not-a-disk');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const r = native.openSgQueue(file);
    expect(native.isNativeError(r)).to.equal(true);
    expect(r).to.include({ errno: 'ENOTTY' });
    expect((r as native.NativeError).message).to.contain(file);
  });

  it('a character device without the sg driver (/dev/null) is refused the same way', () => {
    expect(native.openSgQueue('/dev/null')).to.include({ errno: 'ENOTTY' });
  });

  it('a missing node answers ENOENT', () => {
    expect(native.openSgQueue(path.join(dir, 'sg99'))).to.include({ errno: 'ENOENT' });
  });

  it('depth outside 1..16 (SG_MAX_QUEUE) answers EINVAL', () => {
    for (const depth of [0, 17, 1.5, -1]) expect(native.openSgQueue('/dev/null', { depth }), String(depth)).to.include({ errno: 'EINVAL' });
  });

  it('wrong JS types throw TypeError', () => {
    const open = native.openSgQueue as unknown as (...a: unknown[]) => unknown;
    const garbage: unknown[][] = [[], [3], ['/dev/null', 'opts'], ['/dev/null', { depth: '4' }], ['/dev/null', { readOnly: 1 }]];
    for (const args of garbage) expect(() => open(...args), JSON.stringify(args)).to.throw(TypeError);
  });
});
