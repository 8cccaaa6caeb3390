// `nexus shim` (src/cli/shim.ts): --dry-run prints the configfs operations and their undoing for
// a topology's fabric targets, and wrong arguments or topologies exit 2 with the JSON path.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../../../src/cli/main';

function capture(): CliIo & { out: string; err: string } {
  const t = { out: '', err: '', stdout: (s: string) => { t.out += s; }, stderr: (s: string) => { t.err += s; } };
  return t;
}

describe('cli: nexus shim', () => {
  let dir: string;
  let file: string;
  const doc = (targets: unknown[]): void => {
    fs.writeFileSync(file, JSON.stringify({ devices: [{ name: 'disk0', handler: 'ram', size: '32MiB' }], targets }));
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nexus-shim-cli-'));
    file = path.join(dir, 'topology.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--dry-run prints the operations in order, then their undoing, and changes nothing', async () => {
    doc([{ driver: 'loopback', name: 'sas0', wwn: 'naa.5001405000000002', luns: [{ lun: 0, device: 'disk0' }] }]);
    const configfs = path.join(dir, 'configfs');
    const t = capture();
    expect(await runCli(['shim', file, '--dry-run', '--configfs', configfs, '--hba', '3', '--cmd-time-out', '0'], { io: t, cwd: dir })).to.equal(0);
    const lines = t.out.trim().split('\n');
    expect(lines[0]).to.equal('# nexus shim: 15 operations to wire, in order');
    expect(lines[1]).to.equal(`mkdir ${configfs}/target/core/user_3`);
    expect(lines).to.include(`echo -n '0' > ${configfs}/target/core/user_3/disk0/attrib/cmd_time_out`);
    expect(lines).to.include(`echo -n '1' > ${configfs}/target/core/user_3/disk0/attrib/nl_reply_supported`);
    expect(lines).to.include('# nexus serves the TCMU ring of disk0 (uio name tcm-user/3/disk0/nexus/disk0)');
    expect(lines).to.include(`ln -s ${configfs}/target/core/user_3/disk0 ${configfs}/target/loopback/naa.5001405000000002/tpgt_1/lun/lun_0/disk0`);
    expect(lines[16]).to.equal('# and on stop, to leave configfs as it was found:');
    expect(lines[lines.length - 1]).to.equal(`rmdir ${configfs}/target/core/user_3`);
    expect(fs.existsSync(configfs)).to.equal(false);
  });

  it('a topology error exits 2 naming the JSON path', async () => {
    doc([{ driver: 'fcoe', name: 'x', wwn: '20-00-00-0c-29-aa-bb-cc', luns: [{ lun: 0, device: 'disk0' }], acls: [{ initiator: '20:00:00:0c:29:aa:bb:01' }] }]);
    const t = capture();
    expect(await runCli(['shim', file, '--dry-run'], { io: t, cwd: dir })).to.equal(2);
    expect(t.err).to.contain('/targets/0/wwn: an FCoE target WWPN must be 8 lowercase hex bytes joined by colons');
  });

  it('a changer exported without its drives exits 2 naming the drive\'s JSON path; with them the plan has every backstore', async () => {
    const lib = {
      devices: [
        { name: 'lib0', handler: 'changer', drives: ['lt0', 'lt1'], slots: 2, mailSlots: 0, state: path.join(dir, 'lib.json'), cartridges: [] },
        { name: 'lt0', handler: 'vtape' }, { name: 'lt1', handler: 'vtape' },
      ],
    };
    fs.writeFileSync(file, JSON.stringify({ ...lib, targets: [
      { driver: 'loopback', name: 'vtl0', wwn: 'naa.5001405000000002', luns: [{ lun: 0, device: 'lib0' }, { lun: 1, device: 'lt0' }] },
      { driver: 'iscsi', name: 'iqn.2026-11.io.nexus:vtl', luns: [{ lun: 0, device: 'lt1' }] },
    ] }));
    const t = capture();
    expect(await runCli(['shim', file, '--dry-run'], { io: t, cwd: dir })).to.equal(2);
    expect(t.err).to.contain('/devices/0/drives/1: the changer "lib0" loads "lt1", which no fabric target exports');
    expect(t.err).not.to.contain('/devices/0/drives/0');
    fs.writeFileSync(file, JSON.stringify({ ...lib, targets: [
      { driver: 'loopback', name: 'vtl0', wwn: 'naa.5001405000000002',
        luns: [{ lun: 0, device: 'lib0' }, { lun: 1, device: 'lt0' }, { lun: 2, device: 'lt1' }] },
    ] }));
    const u = capture();
    expect(await runCli(['shim', file, '--dry-run', '--configfs', path.join(dir, 'configfs')], { io: u, cwd: dir })).to.equal(0);
    for (const d of ['lib0', 'lt0', 'lt1']) expect(u.out).to.contain(`# nexus serves the TCMU ring of ${d} `);
  });

  it('a topology without fabric targets, or a bad --hba, exits 2', async () => {
    doc([{ driver: 'iscsi', name: 'iqn.2026-11.io.nexus:x', luns: [{ lun: 0, device: 'disk0' }] }]);
    const t = capture();
    expect(await runCli(['shim', file, '--dry-run'], { io: t, cwd: dir })).to.equal(2);
    expect(t.err).to.contain('no fabric target');
    const u = capture();
    expect(await runCli(['shim', file, '--dry-run', '--hba', '-1'], { io: u, cwd: dir })).to.equal(2);
    expect(u.err).to.contain('--hba');
  });

  it('without configfs it exits 1 with what to do, having made nothing', async () => {
    doc([{ driver: 'loopback', name: 'sas0', wwn: 'naa.5001405000000002', luns: [{ lun: 0, device: 'disk0' }] }]);
    const t = capture();
    expect(await runCli(['shim', file, '--configfs', path.join(dir, 'none')], { io: t, cwd: dir })).to.equal(1);
    expect(t.err).to.contain('mount configfs');
  });
});
