import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open, FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { NexusError } from '../result';
import { errnoError } from './errno-sense';

/**
 * A tape cartridge (SSC-4 4.2): one file holding a volume header and then the cartridge's logical
 * objects in recording order — data blocks and filemarks — each behind a record header with its
 * length and checksums. End-of-data is the end of the last whole record: nothing is recorded
 * after it (SSC-4 4.2.9), so a write anywhere before it cuts the file there first.
 * docs/tape-format.md describes the bytes.
 *
 * The index (position → record offset, length, type, and the filemarks' positions) is built in
 * memory when the cartridge is opened, from the record headers only: one 32-byte read per record
 * and one read of the last record's data, so a cartridge of a few thousand records opens in
 * milliseconds whatever its size. LOCATE, SPACE and READ POSITION then look positions up without
 * reading the file.
 *
 * Crash safety: records are only ever appended (one write per command) or cut off at a record
 * boundary. After a kill -9 every record whose write returned is in the file; a record torn by a
 * power loss fails its length or checksum at open and is cut off with everything after it, so an
 * append after the reopen continues from the last whole record. `sync` (fdatasync) makes the
 * records durable when the drive must flush (WRITE FILEMARKS with IMMED 0, unbuffered mode).
 */

/** Format version 1. */
export const CARTRIDGE_VERSION = 1;
export const CARTRIDGE_MAGIC = 'NEXUSTAP';
export const HEADER_BYTES = 512;
export const RECORD_HEADER_BYTES = 32;
const RECORD_MAGIC = 'NXRC';
/** SMC-3 volume tag information: a 32-byte VOLUME IDENTIFIER (the barcode). */
export const BARCODE_BYTES = 32;

/** Header flags (bytes 12..15). */
const FLAG_WRITE_PROTECT = 0x1;

/** What a record holds. */
export const enum RecordType { DATA = 1, FILEMARK = 2 }

export interface CartridgeLabel {
  /** Volume tag (the label a library's barcode reader sees), printable ASCII, at most 32 bytes. */
  barcode: string;
  /** Bytes of records (headers included) the cartridge holds: its native capacity. */
  capacityBytes: number;
  /** SSC-4 4.2.5: the early-warning zone, this many bytes before the end of the partition. */
  earlyWarningBytes: number;
  /** The cartridge's write-protect tab. */
  writeProtected: boolean;
}

/** The default early-warning zone: 1/64 of the capacity, at least 64 KiB, at most half of it. */
export function defaultEarlyWarning(capacityBytes: number): number {
  return Math.min(Math.floor(capacityBytes / 2), Math.max(64 * 1024, Math.floor(capacityBytes / 64)));
}

function encodeHeader(l: CartridgeLabel): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b.write(CARTRIDGE_MAGIC, 0, 'latin1'); // bytes 0..7 magic
  b.writeUInt16BE(CARTRIDGE_VERSION, 8); // bytes 8..9 version
  b.writeUInt16BE(HEADER_BYTES, 10); // bytes 10..11 header length
  b.writeUInt32BE(l.writeProtected ? FLAG_WRITE_PROTECT : 0, 12); // bytes 12..15 flags
  b.writeBigUInt64BE(BigInt(l.capacityBytes), 16); // bytes 16..23 capacity
  b.writeBigUInt64BE(BigInt(l.earlyWarningBytes), 24); // bytes 24..31 early-warning zone
  b.fill(0x20, 32, 32 + BARCODE_BYTES); // bytes 32..63 barcode, space-padded
  b.write(l.barcode, 32, BARCODE_BYTES, 'latin1');
  b.writeUInt32BE(crc32(b.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4); // bytes 508..511 CRC-32
  return b;
}

function decodeHeader(b: Buffer, path: string): CartridgeLabel {
  const bad = (why: string): NexusError => new NexusError('ERR_TAPE_FORMAT', `${path}: not a Nexus tape cartridge (${why})`);
  if (b.length < HEADER_BYTES || b.toString('latin1', 0, 8) !== CARTRIDGE_MAGIC) throw bad('no header');
  if (b.readUInt32BE(HEADER_BYTES - 4) !== crc32(b.subarray(0, HEADER_BYTES - 4))) throw bad('header checksum');
  const version = b.readUInt16BE(8);
  if (version !== CARTRIDGE_VERSION) throw bad(`format version ${version}, this build reads ${CARTRIDGE_VERSION}`);
  if (b.readUInt16BE(10) !== HEADER_BYTES) throw bad('header length');
  return {
    writeProtected: (b.readUInt32BE(12) & FLAG_WRITE_PROTECT) !== 0,
    capacityBytes: Number(b.readBigUInt64BE(16)),
    earlyWarningBytes: Number(b.readBigUInt64BE(24)),
    barcode: b.toString('latin1', 32, 32 + BARCODE_BYTES).trimEnd(),
  };
}

/**
 * The label of the cartridge at `path` (a synchronous read of its header); throws NexusError
 * ERR_TAPE_FORMAT for a file that is not a cartridge, and the errno of one that cannot be read.
 */
export function readCartridgeLabel(path: string): CartridgeLabel {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const h = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, h, 0, HEADER_BYTES, 0);
    return decodeHeader(h.subarray(0, n), path);
  } finally { closeSync(fd); }
}

function checkLabel(l: CartridgeLabel): void {
  if (!/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(l.barcode) || l.barcode.length > BARCODE_BYTES) {
    throw new NexusError('ERR_TAPE_FORMAT', `barcode "${l.barcode}": 1 to ${BARCODE_BYTES} printable ASCII characters`);
  }
  if (!Number.isSafeInteger(l.capacityBytes) || l.capacityBytes < 1024 * 1024) {
    throw new NexusError('ERR_TAPE_FORMAT', 'a cartridge holds at least 1 MiB');
  }
  if (!Number.isSafeInteger(l.earlyWarningBytes) || l.earlyWarningBytes < 0 || l.earlyWarningBytes >= l.capacityBytes) {
    throw new NexusError('ERR_TAPE_FORMAT', 'the early-warning zone lies inside the capacity');
  }
}

function encodeRecordHeader(type: RecordType, index: number, data: Uint8Array): Buffer {
  const h = Buffer.alloc(RECORD_HEADER_BYTES);
  h.write(RECORD_MAGIC, 0, 'latin1'); // bytes 0..3 magic
  h[4] = type; // byte 4 type; 5..7 reserved
  h.writeUInt32BE(data.length, 8); // bytes 8..11 data length
  h.writeBigUInt64BE(BigInt(index), 12); // bytes 12..19 logical object number
  h.writeUInt32BE(crc32(data), 20); // bytes 20..23 CRC-32 of the data; 24..27 reserved
  h.writeUInt32BE(crc32(h.subarray(0, 28)), 28); // bytes 28..31 CRC-32 of bytes 0..27
  return h;
}

/** A record header that is whole and belongs at `index`, or undefined. */
function decodeRecordHeader(h: Buffer, index: number): { type: RecordType; length: number; dataCrc: number } | undefined {
  if (h.toString('latin1', 0, 4) !== RECORD_MAGIC) return undefined;
  if (h.readUInt32BE(28) !== crc32(h.subarray(0, 28))) return undefined;
  const type = h[4];
  if (type !== RecordType.DATA && type !== RecordType.FILEMARK) return undefined;
  if (h.readBigUInt64BE(12) !== BigInt(index)) return undefined;
  const length = h.readUInt32BE(8);
  if (type === RecordType.FILEMARK && length !== 0) return undefined;
  return { type, length, dataCrc: h.readUInt32BE(20) };
}

/** An object to append: a data block, or a filemark. */
export type TapeRecord = { type: RecordType.DATA; data: Uint8Array } | { type: RecordType.FILEMARK };

export class Cartridge {
  /** File offset of each record's header, by logical object number. */
  private readonly offsets: number[] = [];
  /** Data length of each record (0 for filemarks). */
  private readonly lengths: number[] = [];
  private readonly types: RecordType[] = [];
  /** Logical object numbers of the filemarks, ascending. */
  private readonly filemarks: number[] = [];
  /** File offset of end-of-data. */
  private end = HEADER_BYTES;

  private constructor(
    readonly path: string,
    readonly label: CartridgeLabel,
    /** The file is open read-only (write-protect tab, or a file this process may not write). */
    readonly readOnly: boolean,
    private readonly fh: FileHandle,
  ) {}

  /** Make a new, empty cartridge at `path` (refused if the file exists). */
  static async create(path: string, label: Partial<CartridgeLabel> & { barcode: string; capacityBytes: number }): Promise<void> {
    const l: CartridgeLabel = {
      barcode: label.barcode,
      capacityBytes: label.capacityBytes,
      earlyWarningBytes: label.earlyWarningBytes ?? defaultEarlyWarning(label.capacityBytes),
      writeProtected: label.writeProtected ?? false,
    };
    checkLabel(l);
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.write(encodeHeader(l), 0, HEADER_BYTES, 0);
      await fh.datasync();
    } finally { await fh.close(); }
  }

  /**
   * Open the cartridge at `path` and index it. The tail is checked (every header, the last
   * record's data) and a torn record is cut off, unless the cartridge is opened read-only.
   */
  static async open(path: string): Promise<Cartridge> {
    // The label first: the write-protect tab decides how the file is opened.
    const label = readCartridgeLabel(path);
    let fh: FileHandle;
    let readOnly = label.writeProtected;
    if (readOnly) fh = await open(path, 'r');
    else {
      try { fh = await open(path, 'r+'); } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
        fh = await open(path, 'r');
        readOnly = true;
      }
    }
    const c = new Cartridge(path, label, readOnly, fh);
    try { await c.index(); } catch (e) { await fh.close(); throw e; }
    return c;
  }

  /** Scan the record headers (synchronous reads: one per record, then the last record's data). */
  private async index(): Promise<void> {
    const fd = this.fh.fd;
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(RECORD_HEADER_BYTES);
    let off = HEADER_BYTES;
    let lastCrc = 0;
    // Every header, until one that is not whole or whose data runs past the end of the file.
    while (off + RECORD_HEADER_BYTES <= size) {
      if (readSync(fd, h, 0, RECORD_HEADER_BYTES, off) !== RECORD_HEADER_BYTES) break;
      const r = decodeRecordHeader(h, this.offsets.length);
      if (!r || off + RECORD_HEADER_BYTES + r.length > size) break;
      this.push(r.type, off, r.length);
      lastCrc = r.dataCrc;
      off += RECORD_HEADER_BYTES + r.length;
    }
    // The last record is the one a power loss may have torn inside its data.
    const n = this.offsets.length;
    if (n > 0 && this.lengths[n - 1] > 0) {
      const data = Buffer.alloc(this.lengths[n - 1]);
      readSync(fd, data, 0, data.length, this.offsets[n - 1] + RECORD_HEADER_BYTES);
      if (crc32(data) !== lastCrc) this.pop();
    }
    // Cut what follows the last whole record, so that an append continues from it.
    if (this.end !== size && !this.readOnly) await this.fh.truncate(this.end);
  }

  private push(type: RecordType, offset: number, length: number): void {
    if (type === RecordType.FILEMARK) this.filemarks.push(this.offsets.length);
    this.offsets.push(offset);
    this.lengths.push(length);
    this.types.push(type);
    this.end = offset + RECORD_HEADER_BYTES + length;
  }

  private pop(): void {
    const i = this.offsets.length - 1;
    if (this.types[i] === RecordType.FILEMARK) this.filemarks.pop();
    this.end = this.offsets[i];
    this.offsets.pop(); this.lengths.pop(); this.types.pop();
  }

  /** Logical objects recorded: the position of end-of-data. */
  get objects(): number { return this.offsets.length; }

  /** Bytes of the capacity used by records (headers included). */
  get usedBytes(): number { return this.end - HEADER_BYTES; }

  /** Bytes of the capacity the records before `pos` use. */
  bytesBefore(pos: number): number {
    return (pos < this.offsets.length ? this.offsets[pos] : this.end) - HEADER_BYTES;
  }

  typeAt(pos: number): RecordType { return this.types[pos]; }
  lengthAt(pos: number): number { return this.lengths[pos]; }

  /** Filemarks before `pos`: the logical file number there. */
  filemarksBefore(pos: number): number {
    return lowerBound(this.filemarks, pos);
  }

  /** The position of the `n`th filemark (0-based) of the cartridge, or undefined past the last. */
  filemark(n: number): number | undefined { return this.filemarks[n]; }

  /** Read the data of the record at `pos` (`into` at most its length). */
  async read(pos: number, into: Uint8Array): Promise<void> {
    const { bytesRead } = await this.fh.read(into, 0, into.length, this.offsets[pos] + RECORD_HEADER_BYTES);
    if (bytesRead !== into.length) throw errnoError('EIO', `${this.path}: record ${pos} is short`);
  }

  /**
   * Make `pos` end-of-data: the records from it on are gone (SSC-4 4.2.9: writing anywhere
   * before end-of-data makes what follows unreadable).
   */
  async truncate(pos: number): Promise<void> {
    if (pos >= this.offsets.length) return;
    this.refuseWrites();
    const end = this.offsets[pos];
    await this.fh.truncate(end);
    while (this.offsets.length > pos) this.pop();
    this.end = end;
  }

  /** Append records at end-of-data in one write; the index follows once the write returned. */
  async append(records: readonly TapeRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.refuseWrites();
    const parts: Uint8Array[] = [];
    let index = this.offsets.length;
    for (const r of records) {
      const data = r.type === RecordType.DATA ? r.data : new Uint8Array(0);
      parts.push(encodeRecordHeader(r.type, index++, data));
      if (data.length) parts.push(data);
    }
    const buf = Buffer.concat(parts);
    const at = this.end;
    const { bytesWritten } = await this.fh.write(buf, 0, buf.length, at);
    if (bytesWritten !== buf.length) {
      await this.fh.truncate(at);
      throw errnoError('EIO', `${this.path}: short write`);
    }
    let off = at;
    for (const r of records) {
      const len = r.type === RecordType.DATA ? r.data.length : 0;
      this.push(r.type, off, len);
      off += RECORD_HEADER_BYTES + len;
    }
  }

  /** fdatasync: every appended record is on stable storage. */
  sync(): Promise<void> { return this.readOnly ? Promise.resolve() : this.fh.datasync(); }

  close(): Promise<void> { return this.fh.close(); }

  private refuseWrites(): void {
    if (this.readOnly) throw errnoError('EROFS', `${this.path}: the cartridge is write-protected`);
  }
}

/** Index of the first element of ascending `a` that is >= `v`. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}
