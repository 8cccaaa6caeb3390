import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { cartridge, cdb, EOD, FILEMARK, kcq, position, session, start } from './fixture';
import { recordOf } from './crash-records';

/**
 * Crash safety of the cartridge (docs/tape-format.md): a drive's process killed with SIGKILL in
 * the middle of writing leaves a cartridge that reads every acknowledged object back (a command
 * completed with GOOD), in order and whole; at most the one object in flight may follow it, whole
 * or not at all; and an append after the restart continues cleanly from the last whole object.
 */

describe('engine/ssc cartridge after kill -9', () => {
  it('reads up to the last acknowledged object; an append continues there', async function () {
    this.timeout(60000);
    const path = await cartridge({ capacityBytes: 64 * 1024 * 1024 });
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', join(__dirname, 'crash-child.ts'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (b: Buffer) => {
        buf += b.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (/^acked \d+$/.test(l)) acked = Number(l.slice(6));
        if (acked >= 300 && child.exitCode === null) { child.kill('SIGKILL'); resolve(); }
      });
      child.on('exit', code => { if (acked < 300) reject(new Error(`child exited (${code}) after ${acked} objects`)); });
    });
    await new Promise(r => child.once('close', r));

    const t = await start(path);
    const s = await session(t);
    // Every acknowledged object, in order: a block with its bytes, or a filemark.
    let k = 0;
    for (; ; k++) {
      const r = await s.execute(0, cdb.read6(8000, false, true));
      if (kcq(r) !== 'GOOD' && kcq(r)[0] === EOD[0]) break;
      const want = recordOf(k);
      if (want === 'filemark') expect(kcq(r), `object ${k}`).to.deep.equal(FILEMARK);
      else expect(r.data.equals(want), `object ${k}`).to.equal(true);
    }
    // The objects on the cartridge: all acknowledged ones, and at most the one in flight.
    expect(k).to.be.within(acked, acked + 1);
    expect(await position(s)).to.equal(k);
    // An append at end-of-data follows the last whole object and reads back after it.
    const next = Buffer.alloc(777, 0x5a);
    expect(kcq(await s.execute(0, cdb.write6(next.length), { dataOut: next }))).to.equal('GOOD');
    expect(kcq(await s.execute(0, cdb.writeFilemarks6(1)))).to.equal('GOOD');
    await s.execute(0, cdb.rewind());
    expect(kcq(await s.execute(0, cdb.space6(0b011, 0)))).to.equal('GOOD');
    expect(await position(s)).to.equal(k + 2);
    await s.execute(0, cdb.space6(0b001, -1));
    await s.execute(0, cdb.space6(0b000, -1));
    const back = await s.execute(0, cdb.read6(next.length));
    expect(kcq(back)).to.equal('GOOD');
    expect(back.data.equals(next)).to.equal(true);
    await t.stop();
  });
});
