import * as native from '../../native';
import type { NativeError, RadosObject, RbdOpenOptions } from '../../native';
import type { ReservationChannel, ReservationEvent, SharedReservationState, VersionedReservations } from '../pr';
import { decodeEvent, decodeState, encodeEvent, encodeState, NO_EVENT } from '../shared-reservations';
import { errnoError } from './errno-sense';

/**
 * The reservations of an rbd image that several gateways export, kept in the cluster beside the
 * image (shared-reservations.ts has the design): one RADOS object, `nexus_reservations.<image
 * id>` in the image's pool, holding as JSON
 *
 *   { version, state: { generation, pr, spc2? }, gateways: [ { gid, addrs } ] }
 *
 * with its version mirrored in the "nexus.version" xattr, which every write compares first (one
 * write op: compare, write, set; atomic in the OSD). `gateways` are the members: the gateways
 * serving the image now, each by its client id (the gid its watch acknowledges with) and the
 * addresses of its clients (this object's connection and the image's), which fencing blocklists.
 *
 * - publish: compare-and-swap the new state; notify the object's watchers with the event and
 *   wait for their acknowledgements; fence every member that did not acknowledge.
 * - a notify from another gateway: reload the object, install it, apply the event to this
 *   gateway's I_T nexuses, then acknowledge.
 * - joining (start, and after this gateway was fenced): watch, then ping the members (fencing
 *   the ones that do not answer: a dead gateway, or this gateway's previous life after a crash),
 *   then add itself to the members; the unit serves only after that.
 */

/** How long a change waits for the other gateways' acknowledgements before fencing them. */
export const NOTIFY_TIMEOUT_MS = 10_000;
/** How long a fenced client stays blocklisted (a dead process never comes back; a live one reconnects as a new client). */
const BLOCKLIST_SECONDS = 3600;
const RETRY_PAUSE_MS = 1_000;

interface Member { gid: string; addrs: string[] }
interface Doc { version: number; state: SharedReservationState; gateways: Member[] }

const EMPTY_STATE: SharedReservationState = { generation: 0, pr: { aptpl: false, registrations: [] } };

function isNativeError(v: unknown): v is NativeError { return native.isNativeError(v); }

/**
 * `[v2:127.0.0.1:0/1234,v1:127.0.0.1:0/1234]` (librados's address vector) → `127.0.0.1:0/1234`
 * once each: what `osd blocklist add` takes.
 */
export function blocklistAddrs(vec: string): string[] {
  const out = new Set<string>();
  for (const part of vec.replace(/^\[|\]$/g, '').split(',')) {
    const a = part.trim().replace(/^(v1|v2|any):/, '');
    if (a !== '') out.add(a);
  }
  return [...out];
}

export class RadosReservations implements ReservationChannel {
  private obj!: RadosObject;
  private me!: Member;
  private closed = false;
  private rejoining: Promise<void> | undefined;
  private apply: ((e: ReservationEvent) => Promise<void>) | undefined;
  private refreshed: ((v: VersionedReservations) => void) | undefined;

  private constructor(
    private readonly o: RbdOpenOptions & { object: string },
    /** The image client's addresses now (it reconnects with new ones after being fenced). */
    private readonly imageAddrs: () => string | undefined,
  ) {}

  static async open(o: RbdOpenOptions, imageId: string, imageAddrs: () => string | undefined): Promise<RadosReservations> {
    const r = new RadosReservations({ ...o, object: `nexus_reservations.${imageId}` }, imageAddrs);
    await r.join();
    return r;
  }

  private call<T>(what: string, f: (cb: (r: T) => void) => void): Promise<Exclude<T, NativeError | undefined> | undefined> {
    return new Promise((resolve, reject) => f(r => {
      if (isNativeError(r)) {
        // Fenced (blocklisted): this gateway joins again with new clients.
        if (r.errno === 'ESHUTDOWN') this.rejoin();
        reject(errnoError(r.errno, `rados ${this.o.pool}/${this.o.object} ${what}: ${r.message}`));
      } else resolve(r as Exclude<T, NativeError | undefined> | undefined);
    }));
  }

  private async readDoc(): Promise<Doc> {
    const r = await this.call<{ text: string } | NativeError>('read', cb => this.obj.read(cb));
    const raw = JSON.parse((r as { text: string }).text) as { version: number; state: unknown; gateways?: Member[] };
    return { version: raw.version, state: decodeState(raw.state), gateways: raw.gateways ?? [] };
  }

  /** Replace `base` by `next` in one guarded write; false when `base` is no longer current. */
  private async swap(base: Doc | undefined, next: Doc): Promise<boolean> {
    const text = JSON.stringify({ version: next.version, state: encodeState(next.state), gateways: next.gateways });
    try {
      await this.call<NativeError | undefined>('write', cb => this.obj.write(base === undefined ? '' : String(base.version), String(next.version), text, cb));
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ECANCELED' || code === 'EEXIST') return false;
      throw e;
    }
  }

  /** Open the connection, watch, fence the members that do not answer, become one. */
  private async join(): Promise<void> {
    const obj = await native.openRadosObject({ ...this.o, connectTimeoutMs: 20_000, opTimeoutMs: 45_000 });
    if (isNativeError(obj)) throw errnoError(obj.errno, `rados ${this.o.pool}/${this.o.object}: ${obj.message}`);
    this.obj = obj;
    const client = obj.client();
    this.me = { gid: client.gid, addrs: [...blocklistAddrs(client.addrs), ...blocklistAddrs(this.imageAddrs() ?? '')] };
    // The first gateway ever creates the object (an exclusive create: one of several wins).
    await this.swap(undefined, { version: 1, state: EMPTY_STATE, gateways: [] });
    await this.call<NativeError | undefined>('watch', cb => obj.watch((kind, a, b, c, d) => this.watchEvent(kind, a, b, c, d), cb));
    const doc = await this.readDoc();
    await this.tell(doc.version, NO_EVENT, doc.gateways);
    for (;;) {
      const cur = await this.readDoc();
      const next: Doc = { ...cur, version: cur.version + 1, gateways: [...cur.gateways.filter(g => g.gid !== this.me.gid), this.me] };
      if (await this.swap(cur, next)) return;
    }
  }

  /** Fenced or the watch lost: new clients, a new watch, joined again, the state reloaded. */
  private rejoin(): void {
    if (this.rejoining || this.closed) return;
    this.rejoining = (async () => {
      const old = this.obj;
      await new Promise<void>(r => { try { old.close(r); } catch { r(); } });
      while (!this.closed) {
        try {
          await this.join();
          const v = await this.load();
          this.refreshed?.(v);
          return;
        } catch {
          await new Promise(r => setTimeout(r, RETRY_PAUSE_MS));
        }
      }
    })().finally(() => { this.rejoining = undefined; });
  }

  private watchEvent(kind: string, notifyId: string, cookie?: string, notifier?: string, payload?: string): void {
    if (kind === 'error') { this.rejoin(); return; }
    if (cookie === undefined) return;
    const ack = (): void => { if (!this.closed) this.obj.ack(notifyId, cookie, '', () => undefined); };
    // Our own notify comes back to our watch too: nothing to install.
    if (notifier === this.me.gid) { ack(); return; }
    void (async () => {
      try {
        const v = await this.load();
        this.refreshed?.(v);
        const msg = JSON.parse(payload ?? '{}') as { event?: unknown };
        await this.apply?.(decodeEvent(msg.event));
        ack();
      } catch {
        // Not acknowledged: the writer fences this gateway, which then joins again.
      }
    })();
  }

  /**
   * Notify the watchers of `version` and `event`; members other than this gateway that did not
   * acknowledge are fenced (blocklisted, then dropped from the members) when `fence` is set.
   */
  private async tell(version: number, event: ReservationEvent, members: Member[], fence = true): Promise<void> {
    const reply = await this.call<{ acks: Array<{ gid: string }> } | NativeError>('notify',
      cb => this.obj.notify(JSON.stringify({ version, event: encodeEvent(event) }), NOTIFY_TIMEOUT_MS, cb));
    const acked = new Set((reply as { acks: Array<{ gid: string }> }).acks.map(a => a.gid));
    const missing = members.filter(m => m.gid !== this.me.gid && !acked.has(m.gid));
    if (fence && missing.length > 0) await this.fence(missing);
  }

  /** Blocklist every client of `members`, then drop them from the members. */
  private async fence(members: Member[]): Promise<void> {
    for (const m of members) {
      for (const addr of m.addrs) await this.call<NativeError | undefined>('blocklist', cb => this.obj.blocklist(addr, BLOCKLIST_SECONDS, cb));
    }
    const gone = new Set(members.map(m => m.gid));
    for (;;) {
      const cur = await this.readDoc();
      if (!cur.gateways.some(g => gone.has(g.gid))) return;
      if (await this.swap(cur, { ...cur, version: cur.version + 1, gateways: cur.gateways.filter(g => !gone.has(g.gid)) })) return;
    }
  }

  async load(): Promise<VersionedReservations> {
    const d = await this.readDoc();
    return { version: d.version, state: d.state };
  }

  async publish(base: number, next: SharedReservationState, event: ReservationEvent): Promise<number | undefined> {
    const cur = await this.readDoc();
    if (cur.version !== base) return undefined;
    const doc: Doc = { version: base + 1, state: next, gateways: cur.gateways };
    if (!(await this.swap(cur, doc))) return undefined;
    await this.tell(doc.version, event, doc.gateways);
    return doc.version;
  }

  async announce(event: ReservationEvent): Promise<void> {
    const cur = await this.readDoc();
    await this.tell(cur.version, event, cur.gateways, false);
  }

  listen(apply: (e: ReservationEvent) => Promise<void>, refreshed: (v: VersionedReservations) => void): void {
    this.apply = apply;
    this.refreshed = refreshed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rejoining;
    // Leave the members, so that no one waits for (or fences) a gateway that stopped cleanly.
    try {
      for (let i = 0; i < 10; i++) {
        const cur = await this.readDoc();
        if (!cur.gateways.some(g => g.gid === this.me.gid)) break;
        if (await this.swap(cur, { ...cur, version: cur.version + 1, gateways: cur.gateways.filter(g => g.gid !== this.me.gid) })) break;
      }
    } catch { /* the cluster is gone or we were fenced: the others fence us anyway */ }
    await new Promise<void>(r => this.obj.close(r));
  }
}
