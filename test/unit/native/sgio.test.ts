import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as native from '../../../src/native';
import { describeNeeds, NATIVE_ADDON } from '../../helpers/prereq';

// No SCSI device on the test machine: these tests cover argument checking and
// the ioctl's error paths. INQUIRY (SPC-4 6.6): opcode 12h, allocation length 36.
const INQUIRY = Uint8Array.from([0x12, 0x00, 0x00, 0x00, 0x24, 0x00]);
const TEST_UNIT_READY = new Uint8Array(6);

function sgio(fd: number, req: native.SgioRequest): Promise<native.SgioResult | native.NativeError> {
  return new Promise(resolve => native.sgio(fd, req, resolve));
}

describeNeeds(NATIVE_ADDON)('native/sgio', () => {
  let dir: string;
  let fd: number;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-sgio-'));
    const file = path.join(dir, 'not-a-disk');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const r = native.openBlock(file, { readOnly: true });
    if (native.isNativeError(r)) throw new Error(r.errno);
    fd = r.fd;
  });
  after(() => {
    native.closeBlock(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SG_IO on a regular file is refused by the kernel (ENOTTY or EINVAL), asynchronously', async () => {
    let sync = true;
    const p = sgio(fd, { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), timeoutMs: 1000 });
    sync = false;
    const r = await p;
    expect(sync).to.equal(false);
    expect(native.isNativeError(r)).to.equal(true);
    expect(['ENOTTY', 'EINVAL']).to.include((r as native.NativeError).errno);
  });

  it('SG_IO on /dev/null (a character device without SG_IO) is refused too', async () => {
    const r = native.openBlock('/dev/null', { readOnly: true });
    expect(native.isNativeError(r), JSON.stringify(r)).to.equal(false);
    const res = await sgio((r as { fd: number }).fd, { cdb: TEST_UNIT_READY, dir: 'none' });
    native.closeBlock((r as { fd: number }).fd);
    expect(['ENOTTY', 'EINVAL']).to.include((res as native.NativeError).errno);
  });

  it('a closed or nonsense fd answers EBADF', async () => {
    const gone = native.openBlock('/dev/null', { readOnly: true }) as { fd: number };
    native.closeBlock(gone.fd);
    expect(await sgio(gone.fd, { cdb: TEST_UNIT_READY, dir: 'none' })).to.include({ errno: 'EBADF' });
    expect(await sgio(-1, { cdb: TEST_UNIT_READY, dir: 'none' })).to.include({ errno: 'EBADF' });
    expect(await sgio(2.5, { cdb: TEST_UNIT_READY, dir: 'none' })).to.include({ errno: 'EBADF' });
  });

  it('wrong argument values answer EINVAL through the callback', async () => {
    const cases: native.SgioRequest[] = [
      { cdb: new Uint8Array(0), dir: 'none' },
      { cdb: new Uint8Array(256), dir: 'none' },
      { cdb: INQUIRY, dir: 'in' },
      { cdb: INQUIRY, dir: 'in', data: new Uint8Array(0) },
      { cdb: TEST_UNIT_READY, dir: 'none', data: new Uint8Array(8) },
      { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), senseMax: 256 },
      { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), timeoutMs: -1 },
      { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), timeoutMs: 1.5 },
    ];
    for (const c of cases) {
      expect(await sgio(fd, c), JSON.stringify({ ...c, cdb: c.cdb.length })).to.include({ errno: 'EINVAL' });
    }
  });

  it('wrong JS types throw TypeError synchronously and never call back', () => {
    const call = native.sgio as unknown as (...a: unknown[]) => void;
    let called = 0;
    const cb = (): void => {
      called++;
    };
    const garbage: unknown[][] = [
      [fd, { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36) }],
      [fd, { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36) }, 'cb'],
      [fd, null, cb],
      [fd, 'opts', cb],
      ['3', { cdb: TEST_UNIT_READY, dir: 'none' }, cb],
      [fd, { cdb: [0, 0, 0, 0, 0, 0], dir: 'none' }, cb],
      [fd, { cdb: TEST_UNIT_READY, dir: 'sideways' }, cb],
      [fd, { cdb: TEST_UNIT_READY }, cb],
      [fd, { cdb: INQUIRY, dir: 'in', data: 'x'.repeat(36) }, cb],
      [fd, { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), timeoutMs: '5' }, cb],
      [fd, { cdb: INQUIRY, dir: 'in', data: new Uint8Array(36), senseMax: {} }, cb],
    ];
    for (const args of garbage) expect(() => call(...args)).to.throw(TypeError);
    return new Promise<void>(resolve => setImmediate(resolve)).then(() => expect(called).to.equal(0));
  });
});
