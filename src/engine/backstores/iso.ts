import { Backstore } from '../types';
import { errnoError } from './errno-sense';
import { FileBackstore } from './file';

/**
 * The medium of a CD/DVD-ROM drive (handler `vcdrom`): an ISO 9660 / UDF image file read in
 * 2048-byte blocks (MMC-6: a CD-ROM mode 1 or DVD sector holds 2048 user bytes), never
 * written, or nothing when the drive is empty. The image can be replaced while the engine runs
 * (a medium change); its capacity is the image's size, so READ CAPACITY follows the medium.
 */
export class IsoBackstore implements Backstore {
  readonly kind = 'file' as const;
  readonly readOnly = true;
  readonly thin = false;
  writeBack = false;
  private image: FileBackstore | undefined;

  private constructor(image: FileBackstore | undefined) { this.image = image; }

  /** A drive holding the image at `path`, or an empty drive. */
  static async open(path: string | undefined): Promise<IsoBackstore> {
    return new IsoBackstore(path === undefined ? undefined : await openImage(path));
  }

  /** The image file of the medium in the drive, if any. */
  get path(): string | undefined { return this.image?.path; }

  /** Whether a medium is in the drive (whatever the tray state). */
  get hasMedium(): boolean { return this.image !== undefined; }

  /** Capacity of the medium in bytes; 0 with no medium. */
  get sizeBytes(): bigint { return this.image?.sizeBytes ?? 0n; }

  /**
   * Put the image at `path` in the drive, replacing any medium. The image is opened first: when
   * it cannot be, the medium in the drive stays.
   */
  async insert(path: string): Promise<void> {
    const next = await openImage(path);
    const old = this.image;
    this.image = next;
    await old?.close();
  }

  /** Take the medium out. */
  async remove(): Promise<void> {
    const old = this.image;
    this.image = undefined;
    await old?.close();
  }

  read(offset: number, into: Uint8Array): Promise<void> {
    if (!this.image) return Promise.reject(errnoError('ENOMEDIUM', 'no medium in the drive'));
    return this.image.read(offset, into);
  }

  // A read-only medium: the pipeline refuses writes first (the store is readOnly); these are
  // the store's own answer should anything reach it.
  write(): Promise<void> { return Promise.reject(errnoError('EROFS', 'a CD/DVD-ROM medium is read-only')); }
  fill(): Promise<void> { return this.write(); }
  unmap(): Promise<void> { return this.write(); }
  resize(): Promise<void> { return this.write(); }
  flush(): Promise<void> { return Promise.resolve(); }

  async mapStatus(offset: number): Promise<{ mapped: boolean; length: number }> {
    return { mapped: true, length: Math.max(0, Number(this.sizeBytes) - offset) };
  }

  close(): Promise<void> { return this.remove(); }
}

/** The whole image file, read-only; its size is the medium's capacity. */
function openImage(path: string): Promise<FileBackstore> {
  return FileBackstore.open({ path, sizeBytes: 0n, readOnly: true, writeBack: false, thin: false });
}
