import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import { cdb, DRIVE, kcq, library, MAIL, session, SLOT, start, workDir } from './fixture';
import { EmbeddedTarget } from '../../../../src/embedded';
import { LocalSession } from '../../../../src/transports/local/session';

/**
 * The library state across restarts and crashes: where every cartridge is survives a stop and a
 * kill -9, the state file is replaced whole (temporary file, fsync, rename), and a crash between
 * the state and a drive's load is recovered at start because the state is the truth and the
 * drives are loaded from it.
 */

function where(t: EmbeddedTarget): string[] {
  return t.libraryInventory('lib0').filter(e => e.barcode).map(e => `${e.element}${e.number}:${e.barcode}`);
}

/** The first block's tag byte of the medium in the drive at `lun`, after any unit attention. */
async function tagIn(s: LocalSession, lun: number): Promise<number | undefined> {
  for (let i = 0; i < 3; i++) if ((await s.execute(lun, cdb.tur())).senseKey !== 0x06) break;
  const r = await s.execute(lun, cdb.read10(0, 1));
  return kcq(r) === 'GOOD' ? r.data[0] : undefined;
}

describe('engine/smc library state', () => {
  it('survives a stop and a start: slots, drives (loaded again), the mail slot and the source addresses', async () => {
    const lib = library(workDir());
    let t = await start(lib);
    let s = await session(t);
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(1), DRIVE(0))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(2), MAIL(0))))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.moveMedium(SLOT(3), SLOT(2))))).to.equal('GOOD');
    const before = t.libraryInventory('lib0');
    await t.stop();
    t = await start(lib);
    s = await session(t);
    expect(t.libraryInventory('lib0')).to.deep.equal(before);
    expect(where(t)).to.deep.equal(['drive0:NXS001L6', 'mail1:NXS002L6', 'slot2:NXS003L6', 'slot4:NXS004L6', 'slot5:NXS005L6', 'slot6:NXS006L6']);
    expect(await tagIn(s, 1)).to.equal(0xa1);
    expect(await tagIn(s, 2)).to.equal(undefined);
    await t.stop();
  });

  it('the state file is written at first start and replaced whole; no temporary file stays', async () => {
    const lib = library(workDir());
    const t = await start(lib);
    expect(existsSync(lib.statePath)).to.equal(true);
    const s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(6), DRIVE(1)));
    const doc = JSON.parse(readFileSync(lib.statePath, 'utf8'));
    expect(doc.version).to.equal(1);
    expect(doc.cartridges.find((c: { barcode: string }) => c.barcode === 'NXS006L6')).to.deep.include({
      at: { kind: 'drive', index: 1 }, from: { kind: 'slot', index: 5 },
    });
    expect(existsSync(`${lib.statePath}.tmp`)).to.equal(false);
    await t.stop();
  });

  it('a crash after the state said "in the drive" but before the drive was loaded: start loads the drive', async () => {
    const lib = library(workDir());
    // What a crash between Library.move's save and its load leaves: a durable state naming the
    // drive, and (in the new process) an empty drive. Likewise a crash after a drive's unload
    // but before the state naming the slot was saved.
    mkdirSync(dirname(lib.statePath), { recursive: true });
    writeFileSync(lib.statePath, JSON.stringify({
      version: 1,
      cartridges: lib.cartridges.map(c => c.slot === 4
        ? { barcode: c.barcode, path: c.path, at: { kind: 'drive', index: 1 }, from: { kind: 'slot', index: 3 } }
        : { barcode: c.barcode, path: c.path, at: { kind: 'slot', index: c.slot - 1 } }),
    }));
    // A temporary file left by a write the crash interrupted is not the state.
    writeFileSync(`${lib.statePath}.tmp`, '{"version":1,"cartr');
    const t = await start(lib);
    const s = await session(t);
    expect(where(t)).to.include('drive1:NXS004L6');
    expect(where(t)).to.not.include('slot4:NXS004L6');
    expect(await tagIn(s, 2)).to.equal(0xa4);
    await t.stop();
  });

  it('a state that breaks the invariants is refused at start, never repaired by losing a cartridge', async () => {
    const lib = library(workDir());
    mkdirSync(dirname(lib.statePath), { recursive: true });
    const c = lib.cartridges[0];
    writeFileSync(lib.statePath, JSON.stringify({
      version: 1,
      cartridges: [
        { barcode: c.barcode, path: c.path, at: { kind: 'slot', index: 0 } },
        { barcode: 'OTHER1', path: c.path, at: { kind: 'slot', index: 0 } },
      ],
    }));
    let err: unknown;
    try { await start(lib); } catch (e) { err = e; }
    expect((err as { code?: string }).code).to.equal('ERR_LIBRARY_STATE');
    writeFileSync(lib.statePath, 'not json');
    err = undefined;
    try { await start(lib); } catch (e) { err = e; }
    expect((err as { code?: string }).code).to.equal('ERR_LIBRARY_STATE');
  });

  it('the state wins over the topology; a cartridge added to the topology later joins it in its free slot', async () => {
    const dir = workDir();
    const lib = library(dir, { slots: 8 });
    let t = await start(lib);
    let s = await session(t);
    await s.execute(0, cdb.moveMedium(SLOT(1), SLOT(7)));
    await t.stop();
    const more = { ...lib, cartridges: [...lib.cartridges, { barcode: 'NXS008L6', path: lib.cartridges[0].path, slot: 8 }, { barcode: 'NXS009L6', path: lib.cartridges[0].path, slot: 7 }] };
    t = await start(more);
    s = await session(t);
    // NXS001L6 stays in slot 7 (the state), NXS008L6 joins in slot 8, NXS009L6 finds slot 7 taken.
    expect(where(t)).to.deep.equal(['slot2:NXS002L6', 'slot3:NXS003L6', 'slot4:NXS004L6', 'slot5:NXS005L6', 'slot6:NXS006L6', 'slot7:NXS001L6', 'slot8:NXS008L6']);
    await t.stop();
  });

  it('kill -9 in the middle of moves: every cartridge is in exactly one place and every acknowledged move is there', async function () {
    this.timeout(60000);
    const dir = workDir();
    const lib = library(dir);
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, 'crash-child.ts'), JSON.stringify(lib)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (/^moved \d+$/.test(l)) acked = Number(l.slice(6));
        if (acked >= 5) { child.kill('SIGKILL'); resolve(); }
      });
      child.on('exit', code => { if (acked < 5) reject(new Error(`child exited (${code}) after ${acked} moves`)); });
    });
    await new Promise(r => child.once('close', r));
    const t = await start(lib);
    const s = await session(t);
    const inv = where(t);
    // Six cartridges, each once.
    expect(inv.map(x => x.split(':')[1]).sort()).to.deep.equal(['NXS001L6', 'NXS002L6', 'NXS003L6', 'NXS004L6', 'NXS005L6', 'NXS006L6']);
    // Move k (from 1) takes NXS001L6 into drive 0 when k is odd, back to slot 1 when even: after
    // `acked` acknowledged moves it is where move `acked` put it, or where the next one (in flight)
    // did.
    const places = new Set([acked % 2 === 1 ? 'drive0' : 'slot1', (acked + 1) % 2 === 1 ? 'drive0' : 'slot1']);
    const at = inv.find(x => x.endsWith(':NXS001L6'))!.split(':')[0];
    expect(places.has(at)).to.equal(true);
    // The drive holds what the state says.
    expect(await tagIn(s, 1)).to.equal(at === 'drive0' ? 0xa1 : undefined);
    await t.stop();
  });
});
