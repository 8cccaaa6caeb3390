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
    ts.arrive(mk(log, 1, TaskAttr.SIMPLE), false); ts.arrive(mk(log, 2, TaskAttr.SIMPLE), false);
    expect(log).to.deep.equal(['run 1', 'run 2']);
  });

  it('an ORDERED task waits for every older task and holds every younger one', () => {
    const log: string[] = []; const ts = new TaskSet();
    const a = mk(log, 1, TaskAttr.SIMPLE), o = mk(log, 2, TaskAttr.ORDERED), b = mk(log, 3, TaskAttr.SIMPLE);
    ts.arrive(a, false); ts.arrive(o, false); ts.arrive(b, false);
    expect(log).to.deep.equal(['run 1']);
    ts.complete(a);
    expect(log).to.deep.equal(['run 1', 'run 2']);
    ts.complete(o);
    expect(log).to.deep.equal(['run 1', 'run 2', 'run 3']);
  });

  it('HEAD OF QUEUE runs at once even behind an ORDERED task, and SIMPLE waits for it', () => {
    const log: string[] = []; const ts = new TaskSet();
    const a = mk(log, 1, TaskAttr.SIMPLE), o = mk(log, 2, TaskAttr.ORDERED), h = mk(log, 3, TaskAttr.HEAD_OF_QUEUE);
    ts.arrive(a, false); ts.arrive(o, false); ts.arrive(h, false);
    expect(log).to.deep.equal(['run 1', 'run 3']);
    const s = mk(log, 4, TaskAttr.SIMPLE);
    ts.arrive(s, false);
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
    ts.arrive(a, false); ts.arrive(b, false);
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
    ts.arrive(mk(log, 7, TaskAttr.SIMPLE, 1), false); ts.arrive(mk(log, 7, TaskAttr.SIMPLE, 2), false);
    expect(ts.find(2, 7)?.nexusId).to.equal(2);
    expect(ts.find(3, 7)).to.equal(undefined);
  });

  describe('arrival stage: Data-Out before the task set', () => {
    it('an ORDERED write waiting for its Data-Out holds no other nexus: their tasks run; it enters once its data is in', () => {
      const log: string[] = []; const ts = new TaskSet();
      const w = mk(log, 1, TaskAttr.ORDERED, 1);
      ts.arrive(w, true);
      expect(w.state).to.equal(TaskState.DATA_TRANSFER);
      expect(ts.size).to.equal(0);
      expect(ts.arrivingCount).to.equal(1);
      const r = mk(log, 2, TaskAttr.SIMPLE, 2), o = mk(log, 3, TaskAttr.ORDERED, 2);
      ts.arrive(r, false); ts.arrive(o, false);
      expect(log).to.deep.equal(['run 2']);
      ts.complete(r);
      expect(log).to.deep.equal(['run 2', 'run 3']);
      // SAM-5 8.6.3: once in the task set the ORDERED task orders it for every nexus.
      ts.dataIn(w);
      expect(log).to.deep.equal(['run 2', 'run 3']);
      const s = mk(log, 4, TaskAttr.SIMPLE, 2);
      ts.arrive(s, false);
      ts.complete(o);
      expect(log).to.deep.equal(['run 2', 'run 3', 'run 1']);
      ts.complete(w);
      expect(log).to.deep.equal(['run 2', 'run 3', 'run 1', 'run 4']);
    });

    it('HEAD OF QUEUE waiting for its Data-Out holds no SIMPLE task until it enters', () => {
      const log: string[] = []; const ts = new TaskSet();
      const h = mk(log, 1, TaskAttr.HEAD_OF_QUEUE, 1);
      ts.arrive(h, true);
      const s = mk(log, 2, TaskAttr.SIMPLE, 2);
      ts.arrive(s, false);
      expect(log).to.deep.equal(['run 2']);
      ts.dataIn(h);
      expect(log).to.deep.equal(['run 2', 'run 1']);
    });

    it('within one nexus: SIMPLE passes a SIMPLE write in transfer, an ORDERED command waits for every older one to enter', () => {
      const log: string[] = []; const ts = new TaskSet();
      const w = mk(log, 1, TaskAttr.SIMPLE), r = mk(log, 2, TaskAttr.SIMPLE), o = mk(log, 3, TaskAttr.ORDERED);
      const after = mk(log, 4, TaskAttr.SIMPLE), h = mk(log, 5, TaskAttr.HEAD_OF_QUEUE);
      ts.arrive(w, true);
      ts.arrive(r, false);
      // SAM-5 8.6.2: SIMPLE commands are unordered among themselves.
      expect(log).to.deep.equal(['run 2']);
      ts.arrive(o, false);
      ts.arrive(after, false);
      expect(o.state).to.equal(TaskState.HELD);
      expect(after.state).to.equal(TaskState.HELD);
      ts.arrive(h, false);
      expect(log).to.deep.equal(['run 2', 'run 5']);
      ts.dataIn(w);
      // The write enters behind the HEAD OF QUEUE task, the ORDERED command and its follower after it.
      expect(w.state).to.not.equal(TaskState.DATA_TRANSFER);
      expect(ts.arrivingCount).to.equal(0);
      ts.complete(h); ts.complete(r);
      expect(log).to.deep.equal(['run 2', 'run 5', 'run 1']);
      ts.complete(w);
      expect(log).to.deep.equal(['run 2', 'run 5', 'run 1', 'run 3']);
      ts.complete(o);
      expect(log).to.deep.equal(['run 2', 'run 5', 'run 1', 'run 3', 'run 4']);
    });

    it('a failed transfer leaves the arrival stage and releases what it held; abort reaches arriving tasks', () => {
      const log: string[] = []; const ts = new TaskSet();
      const w = mk(log, 1, TaskAttr.ORDERED), s = mk(log, 2, TaskAttr.SIMPLE);
      ts.arrive(w, true); ts.arrive(s, false);
      expect(log).to.deep.equal([]);
      ts.complete(w);
      expect(w.state).to.equal(TaskState.DONE);
      expect(log).to.deep.equal(['run 2']);
      ts.complete(s);
      const x = mk(log, 3, TaskAttr.SIMPLE, 1), y = mk(log, 3, TaskAttr.SIMPLE, 2);
      ts.arrive(x, true); ts.arrive(y, true);
      expect(ts.find(2, 3)).to.equal(y);
      expect(ts.list()).to.include(x);
      const { tasks } = ts.abort(t => t.nexusId === 1);
      expect(tasks).to.deep.equal([x]);
      expect(log).to.deep.equal(['run 2', 'abort 3']);
      expect(ts.arrivingCount).to.equal(1);
      ts.dataIn(x); // data for an aborted command: ignored
      expect(log).to.deep.equal(['run 2', 'abort 3']);
    });
  });
});
