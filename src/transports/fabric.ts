// DESIGN.md §6: what every transport (target driver) offers the daemon. A transport turns wire
// traffic into engine calls (open an I_T nexus, execute, task management) and back; the daemon
// only starts and stops it.

export interface ListeningAddress {
  host: string;
  port: number;
}

export interface Fabric {
  /** Short name for logs ("iscsi", "local", "tcmu"). */
  readonly name: string;
  /** Start serving; resolves with every address actually listened on (port 0 resolved). */
  start(): Promise<ListeningAddress[]>;
  /**
   * Stop: accept nothing new, ask initiators to leave (bounded wait), drop what is left and
   * free every nexus. Resolves when no connection remains.
   */
  stop(): Promise<void>;
  /** Live sessions (I_T nexuses) of this transport. */
  sessionCount(): number;
}
