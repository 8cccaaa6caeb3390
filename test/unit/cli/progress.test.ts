import { expect } from 'chai';
import { progressPrinter } from '../../../src/cli/admin-change';

function printer(tty: boolean): { p: ReturnType<typeof progressPrinter>; out: string[] } {
  const out: string[] = [];
  return { out, p: progressPrinter({ tty, io: { stdout: (t) => { out.push(t); }, stderr: () => undefined } }) };
}

describe('cli: progress of a change', () => {
  it('on a terminal: one line redrawn in place with step k of n and percent, erased at the end', () => {
    const { p, out } = printer(true);
    p.notified('progress', { done: 1, steps: 3, description: 'add device ram0' });
    p.notified('progress', { done: 2, steps: 3, description: 'map LUN 1' });
    p.notified('other', { done: 3 });
    p.finish();
    expect(out).to.deep.equal(['\r\x1b[2K[1/3 33%] add device ram0', '\r\x1b[2K[2/3 66%] map LUN 1', '\r\x1b[2K']);
    expect(p.printed()).to.equal(false);
  });

  it('otherwise: one plain line per step done', () => {
    const { p, out } = printer(false);
    p.notified('progress', { done: 1, steps: 2, description: 'add device ram0' });
    p.notified('progress', { done: 2, steps: 2, description: 'map LUN 1' });
    p.finish();
    expect(out.join('')).to.equal('[1/2 50%] add device ram0\n[2/2 100%] map LUN 1\n');
    expect(p.printed()).to.equal(true);
  });
});
