// A session's budget of buffer bytes for one direction of transfer: Data-Out buffers of writes in
// transfer (maxDataOutMiBPerSession) and Data-In buffers of reads not yet written to the socket
// (maxDataInMiBPerSession). A command that would take the session past it is not executed: it is
// answered TASK SET FULL, or BUSY when nothing of the session is in progress to free room (SAM-5
// 5.3.1), so a few PDUs of 48 bytes cannot make the target hold gigabytes for one initiator.
import { Status } from '../../engine/spec/status';
import { NexusError } from '../../engine/result';

export class BufferBudget {
  private heldBytes = 0;

  constructor(private readonly limitBytes: number) {}

  /** Bytes reserved now. */
  get held(): number {
    return this.heldBytes;
  }

  /**
   * Reserves `bytes`, or answers the status of the refusal: TASK SET FULL while the session has
   * other commands in progress (`busy`: one of them ending frees room), else BUSY.
   */
  reserve(bytes: number, busy: boolean): Status.TASK_SET_FULL | Status.BUSY | undefined {
    if (this.heldBytes + bytes > this.limitBytes) return busy || this.heldBytes > 0 ? Status.TASK_SET_FULL : Status.BUSY;
    this.heldBytes += bytes;
    return undefined;
  }

  release(bytes: number): void {
    if (bytes > this.heldBytes) throw new NexusError('ERR_BUDGET_RELEASE', `released ${bytes} bytes of ${this.heldBytes} held`);
    this.heldBytes -= bytes;
  }
}
