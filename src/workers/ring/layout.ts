// Shared-memory layout of an SPSC descriptor ring and of one command descriptor.
//
// Everything that crosses a thread boundary on the data path lives in one SharedArrayBuffer per
// ring, at the byte offsets below. The offsets are a table, checked once at module load
// (assertLayout), so a field that overlaps another or breaks alignment fails at start-up, not
// as corrupted commands under load.
//
// Ring buffer (one per ordered pair of engine threads):
//
//   byte 0                 64                     128                    192
//   +----------------------+----------------------+----------------------+------------------ - -
//   | line 0: identity     | line 1: producer     | line 2: consumer     | slot 0 | slot 1 | ...
//   | MAGIC LAYOUT_VERSION | TAIL PRODUCER_PARKED | HEAD CONSUMER_PARKED | 192 B  | 192 B  |
//   | CAPACITY SLOT_BYTES  | PRODUCER_SEQ         | CONSUMER_SEQ         |        |        |
//   +----------------------+----------------------+----------------------+------------------ - -
//
//   TAIL is written only by the producer, HEAD only by the consumer; they sit on separate 64-byte
//   cache lines so the two threads do not false-share. Both are free-running u32 counters
//   (slot = counter & (CAPACITY - 1)), so the fill level is (TAIL - HEAD) >>> 0 even after
//   either one wraps past 2^32. *_PARKED and *_SEQ are the doorbell words of each side
//   (see doorbell.ts): a side sets its PARKED flag before it sleeps on its SEQ word, and the
//   other side rings only when that flag is set.
//
// Command descriptor (SLOT_BYTES = 192 = three cache lines, all fields little-endian host order):
//
//   off  size  field
//   ---  ----  -----------------------------------------------------------------------------
//     0     4  tag                          initiator task tag (SAM-5 "task tag")
//     4     4  nexusId                      I_T nexus id assigned by the engine
//     8     4  lun                          engine LUN id (64-bit SAM LUNs are mapped to a u32 id)
//    12     1  kind                         DescKind: COMMAND | COMPLETION | TMF | TMF_DONE | ... | ASYNC_EVENT
//    13     1  taskAttribute                TaskAttr value (SAM-5 8.6: SIMPLE, ORDERED, HEAD OF QUEUE, ACA)
//    14     1  direction                    DescDirection: NONE | DATA_IN | DATA_OUT | BIDI
//    15     1  cdbLength                    valid bytes in cdb (<= 32)
//    16    32  cdb                          CDB bytes (SPC-4 4.2: up to 32 bytes with variable length)
//    48     4  expectedDataTransferLength   from the transport (RFC 7143 11.3.4)
//    52     4  bufferHandle                 BufferPool handle, 0xffffffff = none
//    56     4  dataLength                   bytes of valid data in the buffer
//    60     4  residual                     residual count (SAM-5 5.2, RFC 7143 11.4.5)
//    64     4  sequence                     producer sequence / generation (ordering, stale checks)
//    68     1  status                       SAM status byte (GOOD, CHECK CONDITION, ...)
//    69     1  residualKind                 ResidualKind: NONE | UNDERFLOW | OVERFLOW
//    70     1  senseLength                  valid bytes in sense (<= 96)
//    71     1  tmfFunction                  task management function (SAM-5 7.1) for TMF/TMF_DONE
//    72     4  destActor                    actor id the descriptor is addressed to
//    76     4  sourceActor                  actor id that sent it (completions go back here)
//    80     4  referencedTag                tag of the task a TMF refers to (ABORT TASK, QUERY TASK)
//    84     1  tmfResponse                  task management service response (SAM-5 7.1)
//    85     1  flags                        DescFlag bits (aborted, nexus gone, Data-Out later, ...)
//    86     2  (reserved)
//    88    96  sense                        inline sense data
//   184     8  (reserved)
//
//   Sense is inline rather than a pool handle: fixed-format sense is 18 bytes (SPC-4 4.5.3)
//   and the descriptor-format sense Nexus builds is well under 96 bytes, so every CHECK
//   CONDITION completes without touching the buffer pool. 96 is SCST's SCST_SENSE_BUFFERSIZE;
//   longer sense (up to 252 bytes in SPC-4) is truncated, which SPC-4 4.5.1 permits because
//   ADDITIONAL SENSE LENGTH still tells the initiator how much there was.

import { NexusError } from '../../engine/result';

/** Identifies a buffer as a Nexus descriptor ring ("NXRG"). */
export const RING_MAGIC = 0x4e585247;
/** Bumped whenever any offset below changes. */
export const RING_LAYOUT_VERSION = 2;

export const CACHE_LINE_BYTES = 64;

/** Int32 word indexes of the ring header. */
export enum RingHeader {
  MAGIC = 0,
  LAYOUT_VERSION = 1,
  CAPACITY = 2,
  SLOT_BYTES = 3,
  // producer cache line
  TAIL = 16,
  PRODUCER_PARKED = 17,
  PRODUCER_SEQ = 18,
  // consumer cache line
  HEAD = 32,
  CONSUMER_PARKED = 33,
  CONSUMER_SEQ = 34,
}

export const RING_HEADER_BYTES = 3 * CACHE_LINE_BYTES;

/** Byte offsets of descriptor fields inside one slot. */
export enum DescOffset {
  TAG = 0,
  NEXUS_ID = 4,
  LUN = 8,
  KIND = 12,
  TASK_ATTRIBUTE = 13,
  DIRECTION = 14,
  CDB_LENGTH = 15,
  CDB = 16,
  EXPECTED_DATA_TRANSFER_LENGTH = 48,
  BUFFER_HANDLE = 52,
  DATA_LENGTH = 56,
  RESIDUAL = 60,
  SEQUENCE = 64,
  STATUS = 68,
  RESIDUAL_KIND = 69,
  SENSE_LENGTH = 70,
  TMF_FUNCTION = 71,
  DEST_ACTOR = 72,
  SOURCE_ACTOR = 76,
  REFERENCED_TAG = 80,
  TMF_RESPONSE = 84,
  FLAGS = 85,
  SENSE = 88,
}

export const CDB_MAX_BYTES = 32;
export const SENSE_INLINE_BYTES = 96;
export const DESCRIPTOR_BYTES = 192;
/** Value of bufferHandle when the descriptor carries no data buffer. */
export const NO_BUFFER = 0xffffffff;

interface FieldRow {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
}

/** The descriptor table in offset order; assertLayout checks it against DescOffset. */
export const DESCRIPTOR_FIELDS: readonly FieldRow[] = [
  { name: 'tag', offset: DescOffset.TAG, bytes: 4 },
  { name: 'nexusId', offset: DescOffset.NEXUS_ID, bytes: 4 },
  { name: 'lun', offset: DescOffset.LUN, bytes: 4 },
  { name: 'kind', offset: DescOffset.KIND, bytes: 1 },
  { name: 'taskAttribute', offset: DescOffset.TASK_ATTRIBUTE, bytes: 1 },
  { name: 'direction', offset: DescOffset.DIRECTION, bytes: 1 },
  { name: 'cdbLength', offset: DescOffset.CDB_LENGTH, bytes: 1 },
  { name: 'cdb', offset: DescOffset.CDB, bytes: CDB_MAX_BYTES },
  { name: 'expectedDataTransferLength', offset: DescOffset.EXPECTED_DATA_TRANSFER_LENGTH, bytes: 4 },
  { name: 'bufferHandle', offset: DescOffset.BUFFER_HANDLE, bytes: 4 },
  { name: 'dataLength', offset: DescOffset.DATA_LENGTH, bytes: 4 },
  { name: 'residual', offset: DescOffset.RESIDUAL, bytes: 4 },
  { name: 'sequence', offset: DescOffset.SEQUENCE, bytes: 4 },
  { name: 'status', offset: DescOffset.STATUS, bytes: 1 },
  { name: 'residualKind', offset: DescOffset.RESIDUAL_KIND, bytes: 1 },
  { name: 'senseLength', offset: DescOffset.SENSE_LENGTH, bytes: 1 },
  { name: 'tmfFunction', offset: DescOffset.TMF_FUNCTION, bytes: 1 },
  { name: 'destActor', offset: DescOffset.DEST_ACTOR, bytes: 4 },
  { name: 'sourceActor', offset: DescOffset.SOURCE_ACTOR, bytes: 4 },
  { name: 'referencedTag', offset: DescOffset.REFERENCED_TAG, bytes: 4 },
  { name: 'tmfResponse', offset: DescOffset.TMF_RESPONSE, bytes: 1 },
  { name: 'flags', offset: DescOffset.FLAGS, bytes: 1 },
  { name: 'sense', offset: DescOffset.SENSE, bytes: SENSE_INLINE_BYTES },
];

/** Start-up check of every size and offset above; throws NexusError ERR_RING_LAYOUT on a bad table. */
export function assertLayout(): void {
  const fail = (why: string): never => {
    throw new NexusError('ERR_RING_LAYOUT', `descriptor layout: ${why}`);
  };
  if (DESCRIPTOR_BYTES % CACHE_LINE_BYTES !== 0) fail('slot is not a whole number of cache lines');
  if (RING_HEADER_BYTES % CACHE_LINE_BYTES !== 0) fail('ring header is not cache-line sized');
  const words = [RingHeader.TAIL, RingHeader.HEAD];
  if (Math.floor((words[0] * 4) / CACHE_LINE_BYTES) === Math.floor((words[1] * 4) / CACHE_LINE_BYTES)) {
    fail('HEAD and TAIL share a cache line');
  }
  for (const w of [RingHeader.CONSUMER_SEQ, RingHeader.PRODUCER_SEQ, RingHeader.HEAD, RingHeader.TAIL]) {
    if (w * 4 + 4 > RING_HEADER_BYTES) fail(`header word ${w} outside header`);
  }
  let end = 0;
  for (const f of DESCRIPTOR_FIELDS) {
    if (f.offset < end) fail(`${f.name} overlaps the previous field`);
    if (f.bytes === 4 && f.offset % 4 !== 0) fail(`${f.name} is not 4-byte aligned`);
    end = f.offset + f.bytes;
  }
  if (end > DESCRIPTOR_BYTES) fail(`fields end at ${end}, past the ${DESCRIPTOR_BYTES}-byte slot`);
  const byName = new Map(DESCRIPTOR_FIELDS.map((f) => [f.name, f.offset]));
  if (byName.get('cdb') !== DescOffset.CDB || byName.get('sense') !== DescOffset.SENSE) fail('table/enum mismatch');
  if (DescOffset.SENSE + SENSE_INLINE_BYTES > DESCRIPTOR_BYTES) fail('sense does not fit');
  if (SENSE_INLINE_BYTES > 0xff || CDB_MAX_BYTES > 0xff) fail('length bytes cannot hold the maximum');
}

assertLayout();

/** Bytes needed for a ring of `capacity` slots. */
export function ringBytes(capacity: number): number {
  return RING_HEADER_BYTES + capacity * DESCRIPTOR_BYTES;
}
