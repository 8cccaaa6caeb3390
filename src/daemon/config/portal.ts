/**
 * Network portals as written in the topology: "127.0.0.1:3260", "[::1]:3260", "host.example:3260",
 * or a bare host that takes the iSCSI well-known port.
 */

import { isIPv4, isIPv6 } from 'node:net';

/** The IANA-registered iSCSI target port (service name "iscsi-target"). */
export const ISCSI_DEFAULT_PORT = 3260;

export interface Portal {
  /** Address without brackets ("::1", "127.0.0.1", "host.example"). */
  host: string;
  /** 0 asks the daemon to pick a free port (tests). */
  port: number;
  /** Canonical "host:port" / "[v6]:port" spelling. */
  text: string;
}

export type PortalParse = { ok: true; portal: Portal } | { ok: false; message: string };

// RFC 1123 2.1 host names: labels of letters, digits and hyphens, not starting or ending with '-'.
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function formatPortal(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function parsePort(text: string, whole: string): { ok: true; port: number } | { ok: false; message: string } {
  if (!/^\d{1,5}$/.test(text)) return { ok: false, message: `portal "${whole}" has a bad port "${text}"` };
  const port = Number(text);
  if (port > 65535) return { ok: false, message: `portal "${whole}": port ${port} is out of range (0..65535)` };
  return { ok: true, port };
}

export function parsePortal(text: string): PortalParse {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    // RFC 3986 3.2.2: an IPv6 literal is written in brackets so its colons are not the port's.
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, message: `portal "${text}" opens "[" but never closes it` };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { ok: false, message: `portal "${text}": expected ":port" after "]"` };
      portText = rest.slice(1);
    }
    if (!isIPv6(host)) return { ok: false, message: `portal "${text}": "${host}" is not an IPv6 address` };
  } else {
    const colons = text.split(':').length - 1;
    if (colons > 1) {
      return { ok: false, message: `portal "${text}": write IPv6 addresses in brackets, e.g. "[::1]:3260"` };
    }
    const at = text.lastIndexOf(':');
    host = at < 0 ? text : text.slice(0, at);
    portText = at < 0 ? undefined : text.slice(at + 1);
    if (!isIPv4(host) && (!HOSTNAME_RE.test(host) || /^[\d.]+$/.test(host))) {
      return { ok: false, message: `portal "${text}": "${host}" is not an IPv4 address or host name` };
    }
  }
  let port = ISCSI_DEFAULT_PORT;
  if (portText !== undefined) {
    const p = parsePort(portText, text);
    if (!p.ok) return p;
    port = p.port;
  }
  return { ok: true, portal: { host, port, text: formatPortal(host, port) } };
}
