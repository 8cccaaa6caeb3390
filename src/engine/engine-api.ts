import type { AsyncEventReport, CommandRequest, CompletionCallback, TmfRequest } from './command';
import type { TmfResponse } from './spec/status';
import type { TargetConfig } from './topology';
import type { NexusIdentity } from './nexus';

/**
 * What a transport uses of the engine (DESIGN.md §6): the seam between transports and whichever
 * engine hosts the logical units: the Engine of a scheduler's own units, or the ThreadEngine
 * (src/workers/thread-engine.ts) of the thread a session runs on, which calls local units directly
 * and reaches units on other engine threads through the rings. Transports depend on this
 * interface only.
 *
 * Completion buffers: a Completion may carry `release()`. Its `data` view is valid until then; the
 * transport calls it once the Data-In bytes are written to the socket (or copied), so the buffer
 * returns to the shared pool. Completions without `release` own their bytes.
 */
export interface NexusApi {
  readonly id: number;
  readonly initiatorName: string;
  readonly targetName: string;
  /** True once closed by the transport, or by the engine when the nexus was lost (worker death). */
  readonly isClosed: boolean;
  execute(req: CommandRequest, done: CompletionCallback): void;
  taskManagement(req: TmfRequest): Promise<TmfResponse>;
  close(reason: 'loss' | 'logout'): Promise<void>;
  /**
   * Set by a transport that can report asynchronous events (SAM-5 6.5); called on the nexus's own
   * thread, whichever engine thread homes the unit that established the condition.
   */
  onAsyncEvent: ((e: AsyncEventReport) => void) | undefined;
}

export interface EngineApi {
  /** Open an I_T nexus; undefined when the target does not exist. */
  openNexus(ident: NexusIdentity): NexusApi | undefined;
  /** Whether `initiatorName` sees anything of `targetName` (SendTargets filtering). */
  canSee(targetName: string, initiatorName: string): boolean;
  /** The LUN map group an initiator falls in (auth overrides per group). */
  groupFor(targetName: string, initiatorName: string): string | undefined;
  targetConfig(name: string): TargetConfig | undefined;
  targetNames(): string[];
  /** Flush write-back caches and close backstores (daemon shutdown). */
  close(): Promise<void>;
}
