import { BufferPool } from '../../../src/workers/buffer-pool';
import { RingMesh } from '../../../src/workers/scheduler';
import { EngineThreadParts, meshControl, startEngineThread } from '../../../src/workers/engine-thread';
import type { ControlMessage } from '../../../src/workers/messages';
import type { CommandRequest, Completion } from '../../../src/engine/command';
import { TaskAttr } from '../../../src/engine/spec/status';
import type { NexusApi } from '../../../src/engine/engine-api';
import { dev, tgt } from './helpers';

export const TARGET = 'iqn.2024-01.test:mesh';
export const TOPOLOGY = { devices: [dev('d0'), dev('d1')], targets: [tgt(TARGET, ['d0', 'd1'])] };

/**
 * Two engine threads of the mesh run in this thread, each with its own scheduler on the mesh
 * rings (the rings do not care which OS thread drains them): device d0 is homed on thread 0,
 * d1 on thread 1, so LUN 0 is local and LUN 1 remote for a session on thread 0.
 */
export async function startMesh(ringCapacity = 64, lendReadBuffers = true): Promise<{ parts: EngineThreadParts[]; pool: BufferPool; close(): Promise<void> }> {
  const mesh = RingMesh.create(2, ringCapacity);
  const pool = BufferPool.create({});
  const parts: EngineThreadParts[] = [];
  const post = (m: ControlMessage): void => {
    if (m.type === 'meshSpill') meshControl(parts[m.toThread], m.toThread, m);
  };
  for (let t = 0; t < 2; t++) {
    parts.push(await startEngineThread({
      threadIndex: t, threads: 2, generation: 0, devices: TOPOLOGY.devices, targets: TOPOLOGY.targets, homeThread: [0, 1],
      rings: mesh.forThread(t), pool: pool.handle(), scheduler: {}, stateDir: '', queueBound: 0, statistics: true, lendReadBuffers,
    }, post));
  }
  return {
    parts, pool,
    async close() {
      for (const p of parts) { await p.engine.close(); await p.lun.close(); }
    },
  };
}

let tag = 1;
export function run(n: NexusApi, lun: number, cdb: number[], expectedLength = 0, dataOut?: Uint8Array): Promise<Completion> {
  const req: CommandRequest = { lun, cdb: Uint8Array.from(cdb), tag: tag++, attr: TaskAttr.SIMPLE, expectedLength, dataOut };
  return new Promise(resolve => n.execute(req, c => {
    // Own the bytes, then give a pool buffer back.
    const data = c.data ? Buffer.from(c.data) : undefined;
    c.release?.();
    resolve({ ...c, data, release: undefined });
  }));
}
