// A daemon asked for engine threads on a host without the native addon (NEXUS_NATIVE=0 hides it,
// as an unbuilt addon would be): sessions cannot move to engine threads (their socket's
// descriptor is duplicated by the addon), so the daemon runs with engine.threads 0, says why in
// one warning, and serves: a login reaches the full feature phase and commands complete.
import { expect } from 'chai';
import { RunningDaemon, startDaemon } from '../helpers/daemon';
import { SteadySession } from '../fuzz/client';

const TARGET = 'iqn.2026-11.io.nexus:noaddon';
const WARNING = 'needs the native addon to move sessions to engine threads; running with engine.threads 0';

describe('daemon without the native addon (engine.threads 2, NEXUS_NATIVE=0)', function () {
  this.timeout(60000);
  let d: RunningDaemon | undefined;

  before(async () => {
    d = await startDaemon({
      devices: [{ name: 'ram0', handler: 'ram', size: '4MiB', blockSize: 512 }],
      targets: [{ driver: 'iscsi', name: TARGET, portals: ['127.0.0.1:0'], luns: [{ lun: 0, device: 'ram0' }] }],
    }, { threads: 2, logLevel: 'info', env: { NEXUS_NATIVE: '0' } });
  });

  after(async () => {
    if (d) expect(await d.stop(), d.output()).to.equal(0);
  });

  it('logs one warning naming the addon and runs with 0 engine threads', () => {
    const out = (d as RunningDaemon).output();
    expect(out.split(WARNING).length - 1, out).to.equal(1);
    expect(out).to.contain('disabled by NEXUS_NATIVE=0');
    expect(out).to.match(/"engineThreads":0[,}].*"msg":"listening"|"msg":"listening".*"engineThreads":0/);
  });

  it('serves sessions: login, INQUIRY, TEST UNIT READY, WRITE(10) and READ(10) complete', async () => {
    const daemon = d as RunningDaemon;
    const s = await SteadySession.open(daemon.host, daemon.port, 'iqn.2026-11.example:noaddon', TARGET);
    try {
      const inq = await s.command(0, [0x12, 0, 0, 0, 36, 0], { readLength: 36 });
      expect(inq.status).to.equal(0);
      expect(inq.data.length).to.equal(36);
      // SAM-5 5.14: the first TEST UNIT READY reports the power-on unit attention, a later one GOOD.
      let ready = false;
      for (let i = 0; i < 4 && !ready; i++) ready = (await s.command(0, [0, 0, 0, 0, 0, 0])).status === 0;
      expect(ready).to.equal(true);
      const block = Buffer.alloc(512, 0xa5);
      const w = await s.command(0, [0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0], { dataOut: block });
      expect(w.status, w.sense.toString('hex')).to.equal(0);
      const r = await s.command(0, [0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0], { readLength: 512 });
      expect(r.status).to.equal(0);
      expect(r.data.equals(block)).to.equal(true);
    } finally {
      s.close();
    }
    expect(daemon.output()).not.to.contain('hand-off to an engine thread failed');
  });
});
