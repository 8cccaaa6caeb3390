// Fuzz of the CDB path in process: seeded random CDBs (random operation codes and fields, random
// Expected Data Transfer Lengths, data-out present or not, random task attributes) through the
// embedded engine on disk LUNs. Every command must complete with GOOD, CHECK CONDITION (with
// well-formed sense), RESERVATION CONFLICT or CONDITION MET; never throw, never hang.
import { expect } from 'chai';
import { EmbeddedTarget } from '../../src/embedded';
import { ExecuteResult, LocalSession } from '../../src/transports/local/session';
import { DeviceConfig, TargetConfig } from '../../src/engine/topology';
import { Prng, fuzzSeed } from './prng';
import { randomCdb } from './cdb-gen';
import { senseDefect } from './sense-check';

const COMMANDS = Number(process.env.NEXUS_FUZZ_CDBS ?? 100_000);
const TIME_BUDGET_MS = 90_000;
const PER_COMMAND_TIMEOUT_MS = 10_000;
const IN_FLIGHT = 16;

const ALLOWED = new Map<number, string>([
  [0x00, 'GOOD'], [0x02, 'CHECK CONDITION'], [0x04, 'CONDITION MET'], [0x18, 'RESERVATION CONFLICT'],
]);

function ram(name: string, blocks: number, blockSize: 512 | 4096): DeviceConfig {
  return { name, handler: 'ram', sizeBytes: BigInt(blocks * blockSize), blockSize, writeCache: 'writeback', thin: true, readOnly: false };
}

describe('fuzz: random CDBs through the embedded engine', function () {
  this.timeout(TIME_BUDGET_MS + 60_000);
  const seed = fuzzSeed();
  let t: EmbeddedTarget | undefined;

  after(async () => {
    await t?.stop();
  });

  it(`answers ${COMMANDS} random CDBs with an allowed status (seed ${seed})`, async () => {
    const devices = [ram('d512', 2048, 512), ram('d4k', 256, 4096), { ...ram('null0', 1 << 20, 512), handler: 'nullio' } as DeviceConfig];
    const target: TargetConfig = {
      driver: 'local', name: 'iqn.2026-11.io.nexus:cdb-fuzz', portals: [], groups: [],
      luns: [{ lun: 0, device: 'd512', readOnly: false }, { lun: 1, device: 'd4k', readOnly: false }, { lun: 2, device: 'null0', readOnly: true }],
    };
    t = await EmbeddedTarget.start({ devices, targets: [target] });
    const sessions: LocalSession[] = [t.session('iqn.2026-11.example:fuzz-a'), t.session('iqn.2026-11.example:fuzz-b', { isid: '1' })];
    const r = new Prng(seed ^ 0xcdb);
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    const started = Date.now();
    let sent = 0;
    let done = 0;

    const one = async (i: number): Promise<void> => {
      const g = r.fork();
      const cdb = randomCdb(g, g.chance(0.05) ? 64 : 16);
      const lun = g.weighted([[5, 0], [3, 1], [2, 2], [1, g.int(300)]] as const);
      const expectedLength = g.weighted([[5, g.int(4097)], [3, g.int(65537)], [1, 0], [1, g.edgyU32() % (16 << 20)]] as const);
      const withData = g.chance(0.5) && expectedLength > 0;
      const dataOut = withData ? g.bytes(Math.min(expectedLength, 1 << 20)) : undefined;
      const attr = g.weighted([[8, 1], [1, 0], [1, 2], [1, 3], [1, 4], [1, g.int(8)]] as const);
      const s = g.pick(sessions);
      const what = `#${i} seed ${seed} lun ${lun} cdb ${cdb.toString('hex')} edtl ${expectedLength} dataOut ${dataOut?.length ?? 'none'} attr ${attr}`;
      let timer: NodeJS.Timeout | undefined;
      try {
        const res = await Promise.race([
          s.execute(lun, cdb, { expectedLength, dataOut, attr }),
          new Promise<'hang'>((res) => (timer = setTimeout(() => res('hang'), PER_COMMAND_TIMEOUT_MS))),
        ]);
        if (res === 'hang') {
          failures.push(`hang: ${what}`);
          return;
        }
        check(res, what);
      } catch (e) {
        failures.push(`exception ${(e as Error).stack ?? String(e)}: ${what}`);
      } finally {
        clearTimeout(timer);
        done++;
      }
    };

    const check = (res: ExecuteResult, what: string): void => {
      const name = ALLOWED.get(res.status);
      statuses.set(name ?? `0x${res.status.toString(16)}`, (statuses.get(name ?? `0x${res.status.toString(16)}`) ?? 0) + 1);
      if (res.aborted) failures.push(`aborted with no task management: ${what}`);
      else if (!name) failures.push(`status 0x${res.status.toString(16)}: ${what}`);
      else if (res.status === 0x02) {
        const d = senseDefect(res.sense);
        if (d) failures.push(`${d} (sense ${res.sense?.toString('hex')}): ${what}`);
      }
    };

    const workers = Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < COMMANDS && Date.now() - started < TIME_BUDGET_MS && failures.length < 20) await one(sent++);
    });
    await Promise.all(workers);
    const ms = Date.now() - started;
    console.log(`      cdb fuzz: seed ${seed}, ${done} commands in ${ms} ms: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    expect(failures, `seed ${seed} (NEXUS_FUZZ_SEED=${seed} reproduces)\n${failures.slice(0, 20).join('\n')}`).to.deep.equal([]);
    expect(done, `time budget ran out after ${done} commands`).to.be.at.least(COMMANDS);
  });
});
