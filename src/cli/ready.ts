/**
 * `nexus ready`: wait until every iSCSI portal of a topology accepts TCP connections, for a
 * service manager's start-up check (contrib/systemd/nexus.service runs it as ExecStartPost, so
 * units ordered after nexus start once initiators can log in). A connection that is accepted and
 * closed before any PDU is, to the target, a login that never began.
 */

import { connect } from 'node:net';
import { localPortalsOf, type Topology } from '../engine/topology';
import { formatPortal, parsePortal } from '../daemon/config/portal';

export interface ReadyOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between attempts on a portal that refused. */
  retryMs?: number;
}

/** Portals to wait for: port 0 ("the daemon chooses") cannot be known from outside. */
export function portalsToCheck(topology: Topology): Array<{ host: string; port: number }> {
  const seen = new Set<string>();
  const out: Array<{ host: string; port: number }> = [];
  for (const t of topology.targets) {
    if (t.driver !== 'iscsi') continue;
    // Another gateway's portals are that gateway's to open.
    for (const text of localPortalsOf(t)) {
      const p = parsePortal(text);
      if (!p.ok || p.portal.port === 0 || seen.has(p.portal.text)) continue;
      seen.add(p.portal.text);
      out.push({ host: p.portal.host, port: p.portal.port });
    }
  }
  return out;
}

function accepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean): void => { clearTimeout(timer); s.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Resolves with the portals that did not accept in time (empty: ready). */
export async function waitForPortals(portals: ReadonlyArray<{ host: string; port: number }>, o: ReadyOptions): Promise<string[]> {
  const deadline = Date.now() + o.timeoutMs;
  const pending = new Set(portals.map((p) => formatPortal(p.host, p.port)));
  for (;;) {
    for (const p of portals) {
      const key = formatPortal(p.host, p.port);
      if (pending.has(key) && await accepts(p.host, p.port, Math.max(1, Math.min(1000, deadline - Date.now())))) pending.delete(key);
    }
    if (pending.size === 0 || Date.now() >= deadline) return [...pending];
    await new Promise((r) => setTimeout(r, o.retryMs ?? 100));
  }
}
