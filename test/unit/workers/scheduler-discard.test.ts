// Scheduler.discardFrom: what a dead engine thread published towards this one is dropped unread
// (thread-engine.ts peerDown), and only that ring: other threads' descriptors still arrive.
import { expect } from 'chai';
import { DescriptorCursor } from '../../../src/workers/ring/descriptor';
import { Actor, RingMesh, Scheduler } from '../../../src/workers/scheduler';

class Recorder implements Actor {
  readonly seen: number[] = [];
  constructor(readonly id: number) {}
  receive(d: DescriptorCursor): void { this.seen.push(d.tag); }
}

function sendTags(s: Scheduler, dest: number, tags: number[]): void {
  for (const t of tags) (s.send(dest) as DescriptorCursor).tag = t;
  s.flush();
}

describe('workers/scheduler discardFrom', () => {
  it('drops the published descriptors of one source thread and delivers the others', () => {
    const mesh = RingMesh.create(3, 8);
    const s = [0, 1, 2].map(t => new Scheduler(mesh.forThread(t)));
    const sink = new Recorder(7);
    s[1].register(sink);
    s[0].setRoute(7, 1);
    s[2].setRoute(7, 1);
    sendTags(s[0], 7, [100, 101, 102]);
    sendTags(s[2], 7, [200, 201]);
    expect(s[1].discardFrom(0)).to.equal(3);
    expect(s[1].discardFrom(1)).to.equal(0); // itself: there is no ring from itself
    expect(s[1].discardFrom(5)).to.equal(0); // no such thread
    expect(s[1].drain()).to.equal(2);
    expect(sink.seen).to.deep.equal([200, 201]);
    // The ring from thread 0 works on: what it sends later arrives.
    sendTags(s[0], 7, [103]);
    expect(s[1].drain()).to.equal(1);
    expect(sink.seen).to.deep.equal([200, 201, 103]);
    // Thread 2 sits past the receiver in the ring table: its ring is found too.
    sendTags(s[2], 7, [202]);
    expect(s[1].discardFrom(2)).to.equal(1);
    expect(s[1].drain()).to.equal(0);
  });
});
