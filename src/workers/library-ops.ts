// The operator at a library's mail slots, run on the thread that homes the changer (placement
// puts its drives there too): what the control socket's library.* methods ask for, as one
// request/reply pair on the control plane (messages.ts LibraryRequest / LibraryReply).

import type { Engine } from '../engine/engine';
import { NexusError } from '../engine/result';
import type { ConfigValue, LibraryReply, LibraryRequest } from './messages';

/** The library operations the control plane carries. */
export type LibraryOp = 'list' | 'import' | 'export';

export type LibraryAnswer = Pick<LibraryReply, 'error' | 'message' | 'result'>;

/** Carry out `m` on the Engine that hosts the changer; a NexusError becomes its code and message. */
export async function libraryCall(engine: Engine, m: Omit<LibraryRequest, 'type' | 'requestId'>): Promise<LibraryAnswer> {
  try {
    switch (m.op as LibraryOp) {
      case 'list':
        return answer(engine.libraryInventory(m.device));
      case 'import': {
        const address = await engine.libraryImport(m.device, { barcode: m.barcode, path: m.path }, m.mailSlot === 0 ? undefined : m.mailSlot);
        return answer({ device: m.device, barcode: m.barcode, address });
      }
      case 'export':
        return answer({ device: m.device, ...(await engine.libraryExport(m.device, m.barcode)) });
      default:
        return { error: 'ERR_LIBRARY', message: `no library operation "${m.op}"`, result: null };
    }
  } catch (e) {
    if (e instanceof NexusError) return { error: e.code, message: e.message, result: null };
    throw e;
  }
}

/** Plain data for the control plane (the inventory's optional fields dropped when absent). */
function answer(v: unknown): LibraryAnswer {
  return { error: '', message: '', result: JSON.parse(JSON.stringify(v)) as ConfigValue };
}
