import { DeviceConfig } from '../topology';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { FileBackstore } from './file';
import { MemoryBackstore } from './memory';
import { NullBackstore } from './null';

export { FileBackstore, type FileBackstoreOptions } from './file';
export { MemoryBackstore, type MemoryBackstoreOptions, MEMORY_CHUNK_BYTES } from './memory';
export { NullBackstore, type NullBackstoreOptions } from './null';
export { senseFromErrno, errnoError, type IoDirection } from './errno-sense';
export { type ThinOps, nativeThinOps, FALLBACK_THIN_OPS } from './thin-ops';

/** Open the backstore a device's handler names (DESIGN.md §5). */
export async function openBackstore(cfg: DeviceConfig): Promise<Backstore> {
  const common = { sizeBytes: cfg.sizeBytes, writeBack: cfg.writeCache === 'writeback', readOnly: cfg.readOnly, thin: cfg.thin };
  switch (cfg.handler) {
    case 'fileio':
      if (!cfg.path) throw errnoError('EINVAL', `${cfg.name}: fileio needs a path`);
      return FileBackstore.open({ ...common, path: cfg.path });
    case 'blockio':
      // INTERIM: blockio runs as a page-cache file store (no O_DIRECT, no io_uring) until the
      // native block backstore replaces it. It never creates or truncates the target, so a
      // block device path is used as is; its size comes from the configuration (stat reports 0).
      if (!cfg.path) throw errnoError('EINVAL', `${cfg.name}: blockio needs a path`);
      return FileBackstore.open({ ...common, path: cfg.path, noCreate: true, kind: 'block' });
    case 'nullio':
      return new NullBackstore(common);
    case 'ram':
      return new MemoryBackstore(common);
  }
}
