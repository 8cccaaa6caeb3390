// RFC 7143 3.4 / 4.4: an iSCSI session. With MaxConnections=1 a session is one I_T nexus with
// one connection; it owns command numbering (CmdSN window) and the nexus into the engine.
// The registry hands out TSIHs and finds sessions for reinstatement (RFC 7143 6.3.5).
import { NexusStatistics } from '../../engine/nexus-statistics';
import type { NexusApi } from '../../engine/engine-api';
import { CmdSnWindow } from './cmdsn-window';
import type { SessionType } from './login';

export interface SessionIdentity {
  tsih: number;
  isid: number;
  initiatorName: string;
  targetName: string | undefined;
  type: SessionType;
  /**
   * RFC 7143 4.4.1: the target portal group the session logged in through (a session's
   * connections all belong to one); 0 for a discovery session, which has no target.
   */
  tpgt: number;
}

/** What a session needs of the connection that carries it. */
export interface SessionConnection {
  /** Drop the connection without further PDUs; tasks are the session's business. */
  destroy(reason: string): void;
}

export class IscsiSession {
  readonly window: CmdSnWindow;
  connection: SessionConnection | undefined;
  /** What the session's commands did (stats.get, per I_T nexus). */
  readonly statistics = new NexusStatistics();
  private ended = false;

  constructor(readonly id: SessionIdentity, firstCmdSN: number, queueDepth: number, public nexus: NexusApi | undefined) {
    this.window = new CmdSnWindow(firstCmdSN, queueDepth);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * End the session: 'loss' aborts its tasks in the engine (connection dropped, session
   * reinstated), 'logout' closes it cleanly.
   */
  async end(reason: 'loss' | 'logout'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    const n = this.nexus;
    this.nexus = undefined;
    if (n) await n.close(reason);
  }
}

export function isidHex(isid: number): string {
  return isid.toString(16).padStart(12, '0');
}

export class SessionRegistry {
  private readonly byTsih = new Map<number, IscsiSession>();
  private nextTsih = 1;

  get size(): number {
    return this.byTsih.size;
  }

  all(): IscsiSession[] {
    return [...this.byTsih.values()];
  }

  get(tsih: number): IscsiSession | undefined {
    return this.byTsih.get(tsih);
  }

  /**
   * RFC 7143 4.4.3: the session of this initiator port (name + ISID) on this target port (target
   * name + TPGT; `tpgt` 0 for discovery sessions).
   */
  find(initiatorName: string, isid: number, targetName: string | undefined, tpgt: number): IscsiSession | undefined {
    for (const s of this.byTsih.values()) {
      if (s.id.initiatorName === initiatorName && s.id.isid === isid && s.id.targetName === targetName && s.id.tpgt === tpgt) return s;
    }
    return undefined;
  }

  /** RFC 7143 11.12.6: TSIH is 16 bits and never 0. */
  allocateTsih(): number | null {
    for (let i = 0; i < 0xffff; i++) {
      const t = this.nextTsih;
      this.nextTsih = this.nextTsih >= 0xffff ? 1 : this.nextTsih + 1;
      if (!this.byTsih.has(t)) return t;
    }
    return null;
  }

  add(s: IscsiSession): void {
    this.byTsih.set(s.id.tsih, s);
  }

  remove(s: IscsiSession): void {
    if (this.byTsih.get(s.id.tsih) === s) this.byTsih.delete(s.id.tsih);
  }
}
