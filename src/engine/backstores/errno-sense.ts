import { Outcome, check } from '../result';
import { SENSE } from '../spec/asc';

/**
 * The one map from a backstore's errno to a check condition (STYLE.md "Outcomes and errors" 5).
 * Backstores reject with Node's errno `code`; handlers pass the rejection here. Never throws.
 */
export type IoDirection = 'read' | 'write';

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // The native addon reports failures as values: { errno: 'EIO', ... }.
  const errno = (err as { errno?: unknown }).errno;
  return typeof errno === 'string' ? errno : undefined;
}

export function senseFromErrno(err: unknown, dir: IoDirection = 'read'): Outcome {
  switch (errnoCode(err)) {
    // SBC-4 4.13 / SPC-4 table D.1: a medium that cannot be read or written.
    case 'EIO':
      return check(dir === 'write' ? SENSE.WRITE_ERROR : SENSE.UNRECOVERED_READ_ERROR);
    // SBC-4 4.7.3.7: a thin LU that cannot allocate reports SPACE ALLOCATION FAILED WRITE PROTECT.
    case 'ENOSPC':
    case 'EDQUOT':
      return check(SENSE.SPACE_ALLOCATION_FAILED_WRITE_PROTECT);
    // The store itself refuses writes (read-only file system, permissions): DATA PROTECT.
    case 'EROFS':
      return check(SENSE.WRITE_PROTECTED);
    // The medium was taken out of the drive under a command (a CD/DVD-ROM medium change).
    case 'ENOMEDIUM':
      return check(SENSE.MEDIUM_NOT_PRESENT);
    // A distributed store (rbd) whose cluster did not answer in time: the command may be retried.
    case 'ETIMEDOUT':
      return check(SENSE.LUN_COMMUNICATION_TIME_OUT);
    // The store lost its cluster session (blocklisted: Ceph's EBLOCKLISTED is ESHUTDOWN) or the
    // cluster refused the connection: this command failed, the store reconnects.
    case 'ESHUTDOWN':
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
      return check(SENSE.LUN_COMMUNICATION_FAILURE);
    // The store is reconnecting to its cluster: NOT READY until it is back (SPC-4 4.5.5).
    case 'ENOTCONN':
      return check(SENSE.LUN_BECOMING_READY);
    // The store's image is gone (deleted under the unit): an operator has to act.
    case 'ENOENT':
      return check(SENSE.LUN_NOT_READY_MANUAL_INTERVENTION);
    case 'EACCES':
    case 'EPERM':
      if (dir === 'write') return check(SENSE.WRITE_PROTECTED);
      return check(SENSE.INTERNAL_TARGET_FAILURE);
    default:
      return check(SENSE.INTERNAL_TARGET_FAILURE);
  }
}

/** An Error carrying an errno code, as fs/promises produces (backstores use it for their own refusals). */
export function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  e.code = code;
  return e;
}
