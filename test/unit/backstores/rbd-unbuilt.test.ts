// The rbd handler in a build without librbd (or without the addon at all: NEXUS_NATIVE=0 hides
// it, as an unbuilt addon would be): the topology loader refuses the rbd device at its handler,
// saying the handler is not built and how to build it, and every other device of the same
// topology still loads; opening the store directly says the same. Run in a child process, since
// what the addon offers is fixed when src/native loads.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

const SCRIPT = `
const { normalizeTopology } = require('./src/daemon/config/load');
const { RbdBackstore } = require('./src/engine/backstores');
const doc = {
  devices: [
    { name: 'ram0', handler: 'ram', size: '1MiB' },
    { name: 'vol0', handler: 'rbd', pool: 'rbd', image: 'vol0' },
  ],
  targets: [{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:t', portals: ['127.0.0.1:0'],
    luns: [{ lun: 0, device: 'ram0' }, { lun: 1, device: 'vol0' }] }],
};
const withRbd = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
doc.devices.pop(); doc.targets[0].luns.pop();
const without = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
const show = o => console.log(JSON.stringify(o, (k, v) => typeof v === 'bigint' ? String(v) : v));
RbdBackstore.open({ pool: 'rbd', image: 'vol0' }).then(
  () => show({ withRbd, without, open: 'opened' }),
  e => show({ withRbd, without, open: { code: e.code, message: e.message } }));
`;

describe('rbd handler without librbd in the build', function () {
  this.timeout(60000);

  it('is refused at its handler saying it is not built; the other devices load; open says ENOSYS', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', SCRIPT], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, NEXUS_NATIVE: '0' }, timeout: 50000,
    });
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
      withRbd: { ok: boolean; errors?: Array<{ path: string; message: string }> };
      without: { ok: boolean };
      open: { code: string; message: string };
    };
    expect(out.withRbd.ok).to.equal(false);
    expect(out.withRbd.errors).to.have.length(1);
    expect(out.withRbd.errors?.[0].path).to.equal('/devices/1/handler');
    expect(out.withRbd.errors?.[0].message).to.contain('the rbd handler is not built: the native addon is not loaded');
    expect(out.without.ok).to.equal(true);
    expect(out.open.code).to.equal('ENOSYS');
    expect(out.open.message).to.contain('rbd: the native addon is not loaded');
  });
});
