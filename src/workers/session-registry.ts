// The supervisor's registry of iSCSI sessions placed on engine threads, and where new ones go.
//
// RFC 7143 4.4.3: a session is identified by initiator name + ISID + target portal group; a login
// with the same triple and TSIH 0 reinstates (replaces) the old session, one with a TSIH adds a
// connection to the session that has it. The registry answers both, and tells which engine
// thread hosts a session so the supervisor can ask that thread to close it. Where sessions and
// units go: placement.ts.

import type { ConfigValue } from './messages';

export interface SessionEntry {
  readonly key: string;
  readonly initiatorName: string;
  readonly targetName: string;
  /** ISID as 12 hex digits. */
  readonly isid: string;
  readonly tpgt: number;
  readonly tsih: number;
  readonly thread: number;
  /** Connection ID of its connection (RFC 7143 11.12.4), portal it logged in on (local "address:port"). */
  readonly cid?: number;
  readonly portal?: string;
  /** What the login phase settled, as handed to the thread (the transport's encoding). */
  readonly params?: ConfigValue;
}

/** Registry key of the session an initiator port has with a target portal group. */
export function sessionKeyOf(initiatorName: string, isid: string, targetName: string, tpgt: number): string {
  return `${initiatorName}|${isid.toLowerCase()}|${targetName}|${tpgt}`;
}

export class SessionRegistry {
  private readonly byKey = new Map<string, SessionEntry>();
  private readonly byTsih = new Map<number, SessionEntry>();
  private readonly perThread: number[];
  /** Sessions (each of one connection, MaxConnections=1) per initiator name. */
  private readonly perInitiator = new Map<string, number>();

  constructor(threads: number) {
    this.perThread = new Array<number>(threads).fill(0);
  }

  get size(): number { return this.byKey.size; }

  /** Connections of `initiatorName`'s hosted sessions (maxConnectionsPerInitiator). */
  connectionsOf(initiatorName: string): number { return this.perInitiator.get(initiatorName) ?? 0; }

  /** Sessions hosted by each thread. */
  load(thread: number): number { return this.perThread[thread] ?? 0; }

  get(key: string): SessionEntry | undefined { return this.byKey.get(key); }

  byTsihOf(tsih: number): SessionEntry | undefined { return this.byTsih.get(tsih); }

  /** Every hosted session. */
  all(): SessionEntry[] { return [...this.byKey.values()]; }

  add(e: SessionEntry): void {
    this.remove(e.key);
    this.byKey.set(e.key, e);
    if (e.tsih !== 0) this.byTsih.set(e.tsih, e);
    this.perThread[e.thread]++;
    this.perInitiator.set(e.initiatorName, this.connectionsOf(e.initiatorName) + 1);
  }

  remove(key: string): SessionEntry | undefined {
    const e = this.byKey.get(key);
    if (!e) return undefined;
    this.byKey.delete(key);
    if (this.byTsih.get(e.tsih) === e) this.byTsih.delete(e.tsih);
    this.perThread[e.thread]--;
    const n = this.connectionsOf(e.initiatorName) - 1;
    if (n > 0) this.perInitiator.set(e.initiatorName, n);
    else this.perInitiator.delete(e.initiatorName);
    return e;
  }

  /** Forgets every session of a thread (it died: its connections are gone). */
  removeThread(thread: number): SessionEntry[] {
    const gone = [...this.byKey.values()].filter(e => e.thread === thread);
    for (const e of gone) this.remove(e.key);
    return gone;
  }

  /** A free TSIH (RFC 7143 11.12.6: non-zero, 16 bits), or 0 when all are taken. */
  allocateTsih(): number {
    for (let i = 0; i < 0xffff; i++) {
      this.nextTsih = (this.nextTsih % 0xffff) + 1;
      if (!this.byTsih.has(this.nextTsih)) return this.nextTsih;
    }
    return 0;
  }
  private nextTsih = 0;
}
