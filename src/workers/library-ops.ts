// The operator at a library's mail slots, run on the thread that homes the changer (placement
// puts its drives there too): what the control socket's library.* methods ask for, as unit
// operations (unit-ops.ts).

import type { UnitOpFamily } from './unit-op';

/** Arguments of library.import / library.export; `mailSlot` 0 or absent means any. */
export interface LibraryArgs { barcode?: string; path?: string; mailSlot?: number }

export const LIBRARY_OPS = {
  ops: {
    list: async (engine, device) => engine.libraryInventory(device),
    import: async (engine, device, args) => {
      const a = args as LibraryArgs;
      const address = await engine.libraryImport(device, { barcode: a.barcode ?? '', path: a.path ?? '' }, a.mailSlot ? a.mailSlot : undefined);
      return { device, barcode: a.barcode ?? '', address };
    },
    export: async (engine, device, args) => ({ device, ...(await engine.libraryExport(device, (args as LibraryArgs).barcode ?? '')) }),
  },
} as const satisfies UnitOpFamily;
