import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { Cartridge } from './tape-cartridge';

/**
 * The medium side of a tape drive (handler `vtape`): the cartridge in the drive, if any, whether
 * it is loaded (threaded, ready), and the drive's state over it that SSC-4 keeps per logical
 * unit: the logical position, the block length of the mode parameter block descriptor (0:
 * variable-block mode) and the buffered mode. The drive's commands (devices/ssc/) act on it.
 *
 * A tape is read and written by logical objects, never by offset: the Backstore's offset
 * methods are refused (EINVAL); no command row of the tape device type reaches them.
 */
export class TapeBackstore implements Backstore {
  readonly kind = 'file' as const;
  readonly thin = false;
  /** No write cache page: writes go to the cartridge file as they come (see `buffered`). */
  writeBack = false;
  /**
   * SSC-4 8.3 BUFFERED MODE of the mode parameter header: 1, a write completes once its records
   * are in the file (they survive the daemon's end; fdatasync at WRITE FILEMARKS); 0, once they
   * are on stable storage.
   */
  buffered = true;
  private cart: Cartridge | undefined;
  /** The cartridge is loaded: the medium is ready (LOAD UNLOAD with LOAD one, or the host's load). */
  loaded = false;
  /** The logical object number the next READ or WRITE acts on (0 = beginning of partition). */
  position = 0;
  /** SSC-4 8.3: BLOCK LENGTH of the mode parameter block descriptor; 0 = variable-block mode. */
  blockLength = 0;
  /** Bytes the application wrote and read (log page 0Ch). */
  bytesWritten = 0;
  bytesRead = 0;

  private constructor(cart: Cartridge | undefined) {
    this.cart = cart;
    this.loaded = cart !== undefined;
  }

  /** A drive with the cartridge at `path` loaded, or an empty drive. */
  static async open(path: string | undefined): Promise<TapeBackstore> {
    return new TapeBackstore(path === undefined ? undefined : await Cartridge.open(path));
  }

  /** The cartridge in the drive (loaded or not). */
  get cartridge(): Cartridge | undefined { return this.cart; }

  get transferBlockLength(): number { return this.blockLength; }

  /** The write-protect tab of the cartridge (or a file this process may only read). */
  get readOnly(): boolean { return this.cart?.readOnly ?? false; }

  /** The capacity of the loaded cartridge; 0 when none is loaded. */
  get sizeBytes(): bigint { return this.loaded && this.cart ? BigInt(this.cart.label.capacityBytes) : 0n; }

  /**
   * Put the cartridge at `path` in the drive and load it at beginning of partition. It is
   * opened first: when it cannot be, the cartridge in the drive stays.
   */
  async insert(path: string): Promise<void> {
    const next = await Cartridge.open(path);
    const old = this.cart;
    this.cart = next;
    this.loaded = true;
    this.position = 0;
    await old?.close();
  }

  /** Take the cartridge out of the drive. */
  async remove(): Promise<void> {
    const old = this.cart;
    this.cart = undefined;
    this.loaded = false;
    this.position = 0;
    await old?.close();
  }

  read(): Promise<void> { return Promise.reject(errnoError('EINVAL', 'a tape is read by logical objects')); }
  write(): Promise<void> { return Promise.reject(errnoError('EINVAL', 'a tape is written by logical objects')); }
  unmap(): Promise<void> { return this.write(); }
  resize(): Promise<void> { return Promise.reject(errnoError('EINVAL', 'a cartridge has the capacity it was made with')); }
  /** Every record written is on stable storage. */
  flush(): Promise<void> { return this.cart?.sync() ?? Promise.resolve(); }

  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    return { mapped: true, length: Math.max(0, Number(this.sizeBytes) - offset) };
  }

  close(): Promise<void> { return this.remove(); }
}
