/**
 * The measured cells. The null LUN isolates the target's protocol and engine cost (no backing
 * I/O); the file LUN adds the page-cache path; the rbd LUN (--rbd only) is a Ceph RBD image. Ids: <lun>-<op><size>-qd<N>[-x<sessions>]-<client>,
 * op rr = random read, rw = random (strided) write, sr/sw = sequential read/write.
 */
export type Client = 'iscsi-perf' | 'qemu-img';
export type Op = 'randread' | 'randwrite' | 'seqread' | 'seqwrite';

export interface Cell {
  id: string;
  lun: 'null' | 'file' | 'rbd';
  op: Op;
  bytes: number;
  qd: number;
  sessions: number;
  client: Client;
}

const K = 1024;
const M = 1024 * 1024;

function cell(lun: Cell['lun'], op: Op, bytes: number, qd: number, client: Client, sessions = 1): Cell {
  const o = { randread: 'rr', randwrite: 'rw', seqread: 'sr', seqwrite: 'sw' }[op];
  const size = bytes >= M ? `${bytes / M}m` : `${bytes / K}k`;
  const id = `${lun}-${o}${size}-qd${qd}${sessions > 1 ? `-x${sessions}` : ''}-${client === 'iscsi-perf' ? 'ip' : 'qb'}`;
  return { id, lun, op, bytes, qd, sessions, client };
}

export const CELLS: readonly Cell[] = [
  // null LUN: the target alone
  cell('null', 'randread', 4 * K, 1, 'iscsi-perf'),
  cell('null', 'randread', 4 * K, 8, 'iscsi-perf'),
  cell('null', 'randread', 4 * K, 32, 'iscsi-perf'),
  cell('null', 'randread', 4 * K, 32, 'qemu-img'),
  cell('null', 'randwrite', 4 * K, 1, 'qemu-img'),
  cell('null', 'randwrite', 4 * K, 8, 'qemu-img'),
  cell('null', 'randwrite', 4 * K, 32, 'qemu-img'),
  cell('null', 'seqread', 128 * K, 8, 'iscsi-perf'),
  cell('null', 'seqwrite', 128 * K, 8, 'qemu-img'),
  cell('null', 'seqread', 1 * M, 8, 'iscsi-perf'),
  cell('null', 'seqwrite', 1 * M, 8, 'qemu-img'),
  cell('null', 'randread', 4 * K, 8, 'iscsi-perf', 4),
  cell('null', 'randwrite', 4 * K, 8, 'qemu-img', 4),
  // file LUN: buffered I/O on the pre-filled file
  cell('file', 'randread', 4 * K, 1, 'iscsi-perf'),
  cell('file', 'randread', 4 * K, 32, 'iscsi-perf'),
  cell('file', 'randwrite', 4 * K, 32, 'qemu-img'),
  cell('file', 'seqread', 1 * M, 8, 'qemu-img'),
  cell('file', 'seqwrite', 1 * M, 8, 'qemu-img'),
  cell('file', 'randread', 4 * K, 8, 'iscsi-perf', 4),
];

/**
 * `--rbd`'s cells, on a pre-filled Ceph RBD image (bench/e2e/rbd.ts): the issue's 4 KiB random
 * read and write at QD32 and 1 MiB sequential, each also measured with `rbd bench` at the same
 * depth as the ceiling of what the cluster gives this host.
 */
export const RBD_CELLS: readonly Cell[] = [
  cell('rbd', 'randread', 4 * K, 32, 'iscsi-perf'),
  cell('rbd', 'randwrite', 4 * K, 32, 'qemu-img'),
  cell('rbd', 'seqread', 1 * M, 8, 'iscsi-perf'),
  cell('rbd', 'seqwrite', 1 * M, 8, 'qemu-img'),
];
