import { expect } from 'chai';
import { Task, TaskSet, TaskState } from '../../../../src/engine/task-set';
import { TaskAttr } from '../../../../src/engine/spec/status';

// SAM-5 8.6/8.7: which tasks may enter the enabled state.
function mk(log: string[], tag: number, attr: TaskAttr, nexusId = 1): Task {
  return {
    nexusId, itKey: `n${nexusId}`, tag, lun: 0, attr, state: TaskState.WAITING, aborted: false,
    run: () => log.push(`run ${tag}`), onAbortWaiting: () => log.push(`abort ${tag}`),
  };
}

describe('task set (SAM-5 8.6)', () => {
  it('runs SIMPLE tasks at once when nothing is ordered', () => {
    const log: string[] = []; const ts = new TaskSet();
    ts.enqueue(mk(log, 1, TaskAttr.SIMPLE)); ts.enqueue(mk(log, 2, TaskAttr.SIMPLE));
    expect(log).to.deep.equal(['run 1', 'run 2']);
  });

  it('an ORDERED task waits for every older task and holds every younger one', () => {
    const log: string[] = []; const ts = new TaskSet();
    const a = mk(log, 1, TaskAttr.SIMPLE), o = mk(log, 2, TaskAttr.ORDERED), b = mk(log, 3, TaskAttr.SIMPLE);
    ts.enqueue(a); ts.enqueue(o); ts.enqueue(b);
    expect(log).to.deep.equal(['run 1']);
    ts.complete(a);
    expect(log).to.deep.equal(['run 1', 'run 2']);
    ts.complete(o);
    expect(log).to.deep.equal(['run 1', 'run 2', 'run 3']);
  });

  it('HEAD OF QUEUE runs at once even behind an ORDERED task, and SIMPLE waits for it', () => {
    const log: string[] = []; const ts = new TaskSet();
    const a = mk(log, 1, TaskAttr.SIMPLE), o = mk(log, 2, TaskAttr.ORDERED), h = mk(log, 3, TaskAttr.HEAD_OF_QUEUE);
    ts.enqueue(a); ts.enqueue(o); ts.enqueue(h);
    expect(log).to.deep.equal(['run 1', 'run 3']);
    const s = mk(log, 4, TaskAttr.SIMPLE);
    ts.enqueue(s);
    ts.complete(a);
    expect(log).to.deep.equal(['run 1', 'run 3']); // ORDERED still waits for HEAD OF QUEUE (older, at the head)
    ts.complete(h);
    expect(log).to.deep.equal(['run 1', 'run 3', 'run 2']);
    ts.complete(o);
    expect(log).to.deep.equal(['run 1', 'run 3', 'run 2', 'run 4']);
  });

  it('abort removes waiting tasks at once and waits for running ones to quiesce', async () => {
    const log: string[] = []; const ts = new TaskSet();
    const a = mk(log, 1, TaskAttr.ORDERED), b = mk(log, 2, TaskAttr.SIMPLE);
    ts.enqueue(a); ts.enqueue(b);
    let quiesced = false;
    const { tasks, quiesced: q } = ts.abort(() => true);
    q.then(() => { quiesced = true; });
    expect(tasks).to.have.length(2);
    expect(log).to.deep.equal(['run 1', 'abort 2']);
    await Promise.resolve();
    expect(quiesced).to.equal(false);
    ts.complete(a);
    await q;
    expect(quiesced).to.equal(true);
    expect(ts.size).to.equal(0);
  });

  it('finds tasks by nexus and tag', () => {
    const log: string[] = []; const ts = new TaskSet();
    ts.enqueue(mk(log, 7, TaskAttr.SIMPLE, 1)); ts.enqueue(mk(log, 7, TaskAttr.SIMPLE, 2));
    expect(ts.find(2, 7)?.nexusId).to.equal(2);
    expect(ts.find(3, 7)).to.equal(undefined);
  });
});
