import { DeviceConfig } from '../topology';
import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { BlockBackstore } from './block';
import { FileBackstore } from './file';
import { MemoryBackstore } from './memory';
import { NullBackstore } from './null';
import { IsoBackstore } from './iso';
import { LibraryStore } from './library';
import { TapeBackstore } from './tape';
import { SgBackstore } from './sg';
import { RbdBackstore } from './rbd';

export { FileBackstore, type FileBackstoreOptions } from './file';
export { BlockBackstore, type BlockBackstoreOptions } from './block';
export { MemoryBackstore, type MemoryBackstoreOptions, MEMORY_CHUNK_BYTES } from './memory';
export { NullBackstore, type NullBackstoreOptions } from './null';
export { IsoBackstore } from './iso';
export { LibraryStore } from './library';
export { TapeBackstore } from './tape';
export { Cartridge, type CartridgeLabel } from './tape-cartridge';
export { SgBackstore, type SgDevice, type SgOpenOptions } from './sg';
export { RbdBackstore, type RbdBackstoreOptions } from './rbd';
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
      // O_DIRECT + io_uring through the native addon (block.ts); never creates the target.
      if (!cfg.path) throw errnoError('EINVAL', `${cfg.name}: blockio needs a path`);
      return BlockBackstore.open({ ...common, path: cfg.path });
    case 'nullio':
      return new NullBackstore(common);
    case 'ram':
      return new MemoryBackstore(common);
    case 'vcdrom':
      // An ISO image, or an empty drive without a path.
      return IsoBackstore.open(cfg.path);
    case 'changer':
      // The library state file: which cartridge is where.
      return LibraryStore.open(cfg.name, cfg.library);
    case 'vtape':
      // The cartridge loaded at start, or an empty drive without a path.
      return TapeBackstore.open(cfg.path);
    case 'passthrough':
      // A real SCSI device through its sg node (sg.ts), probed at open.
      return SgBackstore.open(cfg);
    case 'rbd':
      // A Ceph RBD image through librbd (rbd.ts); its size is the image's.
      if (!cfg.rbd) throw errnoError('EINVAL', `${cfg.name}: rbd needs a pool and an image`);
      return RbdBackstore.open({ ...cfg.rbd, writeBack: common.writeBack, readOnly: cfg.readOnly, thin: cfg.thin });
  }
}
