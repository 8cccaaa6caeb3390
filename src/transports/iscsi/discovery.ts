// RFC 7143 12.3 / Appendix C: SendTargets. The answer lists, for each target the initiator may
// see, TargetName followed by one TargetAddress=<address>:<port>,<tpgt> per portal (IPv6 in
// brackets), each portal with the tag of its own target portal group. `All` lists every visible target; a name lists that target; an empty value lists
// the target of a normal session.
import { isIPv6 } from 'node:net';

export interface DiscoveryTarget {
  name: string;
  /** The addresses the target listens on, each with its Target Portal Group Tag. */
  portals: ReadonlyArray<{ host: string; port: number; tpgt: number }>;
}

export interface DiscoverySource {
  targets(): readonly DiscoveryTarget[];
  canSee(targetName: string, initiatorName: string): boolean;
}

export function formatTargetAddress(host: string, port: number, tpgt: number): string {
  return `${isIPv6(host) ? `[${host}]` : host}:${port},${tpgt}`;
}

/**
 * The key=value pairs answering `SendTargets=<value>`. `sessionTarget` is the target of a normal
 * session (undefined in a discovery session). Pairs repeat keys, so the result is a list.
 */
export function sendTargets(
  src: DiscoverySource, initiatorName: string, value: string, sessionTarget: string | undefined,
): Array<[string, string]> {
  let wanted: (t: DiscoveryTarget) => boolean;
  if (value === 'All') wanted = () => true;
  else if (value === '') {
    if (sessionTarget === undefined) return [];
    wanted = (t) => t.name === sessionTarget;
  } else wanted = (t) => t.name === value;
  const out: Array<[string, string]> = [];
  for (const t of src.targets()) {
    if (!wanted(t) || !src.canSee(t.name, initiatorName)) continue;
    out.push(['TargetName', t.name]);
    for (const p of t.portals) out.push(['TargetAddress', formatTargetAddress(p.host, p.port, p.tpgt)]);
  }
  return out;
}
