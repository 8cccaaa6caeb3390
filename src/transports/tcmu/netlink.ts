// TCMU's generic-netlink channel (DESIGN.md §8; constants in spec.ts): how target_core_user tells
// its user-space handler that a device was added, removed or reconfigured (dev_size, dev_config,
// emulate_write_cache written in configfs), and how the handler answers when the kernel waits.
//
// Messages (netlink(7), genetlink, host byte order; every part padded to 4 bytes):
//
//   struct nlmsghdr (16)              struct genlmsghdr (4)      struct nlattr (4) + payload
//     0 u32 nlmsg_len                   0 u8 cmd                   0 u16 nla_len (4 + payload)
//     4 u16 nlmsg_type (family id)      1 u8 version               2 u16 nla_type
//     6 u16 nlmsg_flags                 2 u16 reserved
//     8 u32 nlmsg_seq
//    12 u32 nlmsg_pid (port id)
//
// Start-up, on a socket the caller opened (TcmuNetlinkSocket; the native addon's openNetlink):
// CTRL_CMD_GETFAMILY "TCM-USER" to the generic-netlink controller gives the family id and the id
// of its multicast group "config", which the socket joins; TCMU_CMD_SET_FEATURES with
// TCMU_ATTR_SUPP_KERN_CMD_REPLY = 1 tells the kernel that replies come. From then on each
// event is handed to the caller's handler, and its answer, when there is one, goes back as the
// matching *_DONE with TCMU_ATTR_DEVICE_ID and TCMU_ATTR_CMD_STATUS (tcmu_genl_cmd_done).
//
// Everything read is checked: a length that runs past the datagram ends its parsing, never a
// read outside it. The encoders and decoders are pure (the unit tests hold them to bytes built
// by hand).
import { endianness } from 'node:os';
import {
  TCMU_GENL_FAMILY_NAME, TCMU_GENL_MCGRP_CONFIG, TCMU_GENL_VERSION, TcmuGenlAttr, TcmuGenlCmd,
} from './spec';

/** netlink(7) message types and flags, linux/netlink.h. */
export const enum Nlmsg {
  NLMSG_NOOP = 1,
  NLMSG_ERROR = 2,
  NLMSG_DONE = 3,
  /** GENL_ID_CTRL: the generic-netlink controller's family id. */
  GENL_ID_CTRL = 0x10,
  NLM_F_REQUEST = 0x1,
  NLM_F_ACK = 0x4,
  HDRLEN = 16,
  GENL_HDRLEN = 4,
  NLA_HDRLEN = 4,
  /** NETLINK_GENERIC, the socket protocol. */
  NETLINK_GENERIC = 16,
}

/** linux/genetlink.h controller commands and attributes. */
export const enum GenlCtrl {
  CTRL_CMD_NEWFAMILY = 1,
  CTRL_CMD_GETFAMILY = 3,
  CTRL_ATTR_FAMILY_ID = 1,
  CTRL_ATTR_FAMILY_NAME = 2,
  CTRL_ATTR_MCAST_GROUPS = 7,
  CTRL_ATTR_MCAST_GRP_NAME = 1,
  CTRL_ATTR_MCAST_GRP_ID = 2,
}

const LE = endianness() === 'LE';

function align4(n: number): number { return (n + 3) & ~3; }

export interface NlAttr {
  readonly type: number;
  readonly value: Uint8Array;
}

export const nla = {
  u8: (type: number, v: number): NlAttr => ({ type, value: Uint8Array.of(v & 0xff) }),
  u32: (type: number, v: number): NlAttr => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, LE);
    return { type, value: b };
  },
  s32: (type: number, v: number): NlAttr => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v | 0, LE);
    return { type, value: b };
  },
  /** NLA_STRING as the kernel's nla_put_string writes it: the bytes and a NUL. */
  string: (type: number, s: string): NlAttr => {
    const t = Buffer.from(s, 'utf8');
    const b = new Uint8Array(t.length + 1);
    b.set(t);
    return { type, value: b };
  },
};

export interface GenlMessage {
  /** nlmsg_type: the family id (or a control type such as NLMSG_ERROR). */
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly portId: number;
  readonly cmd: number;
  readonly version: number;
  readonly attrs: readonly NlAttr[];
}

/** One generic-netlink message: nlmsghdr, genlmsghdr, the attributes each padded to 4. */
export function encodeGenlMessage(m: GenlMessage): Uint8Array {
  let len = Nlmsg.HDRLEN + Nlmsg.GENL_HDRLEN;
  for (const a of m.attrs) len += align4(Nlmsg.NLA_HDRLEN + a.value.length);
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, len, LE);
  dv.setUint16(4, m.type, LE);
  dv.setUint16(6, m.flags, LE);
  dv.setUint32(8, m.seq >>> 0, LE);
  dv.setUint32(12, m.portId >>> 0, LE);
  out[16] = m.cmd;
  out[17] = m.version;
  let at = Nlmsg.HDRLEN + Nlmsg.GENL_HDRLEN;
  for (const a of m.attrs) {
    dv.setUint16(at, Nlmsg.NLA_HDRLEN + a.value.length, LE);
    dv.setUint16(at + 2, a.type, LE);
    out.set(a.value, at + Nlmsg.NLA_HDRLEN);
    at += align4(Nlmsg.NLA_HDRLEN + a.value.length);
  }
  return out;
}

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly portId: number;
  /** The bytes after the nlmsghdr. */
  readonly payload: Uint8Array;
}

/** The messages of one datagram; parsing stops at the first header that does not fit. */
export function decodeNetlinkMessages(datagram: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const dv = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  let at = 0;
  while (at + Nlmsg.HDRLEN <= datagram.length) {
    const len = dv.getUint32(at, LE);
    if (len < Nlmsg.HDRLEN || at + len > datagram.length) break;
    out.push({
      type: dv.getUint16(at + 4, LE), flags: dv.getUint16(at + 6, LE), seq: dv.getUint32(at + 8, LE),
      portId: dv.getUint32(at + 12, LE), payload: datagram.subarray(at + Nlmsg.HDRLEN, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** Attributes in `bytes`, by type (the last of a type wins, as nla_parse does). */
export function decodeAttrs(bytes: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + Nlmsg.NLA_HDRLEN <= bytes.length) {
    const len = dv.getUint16(at, LE);
    if (len < Nlmsg.NLA_HDRLEN || at + len > bytes.length) break;
    // NLA_F_NESTED and NLA_F_NET_BYTEORDER live in the type's top bits.
    out.set(dv.getUint16(at + 2, LE) & 0x3fff, bytes.subarray(at + Nlmsg.NLA_HDRLEN, at + len));
    at += align4(len);
  }
  return out;
}

/** The generic-netlink header and attributes of a message's payload. */
export function decodeGenl(payload: Uint8Array): { cmd: number; version: number; attrs: Map<number, Uint8Array> } | undefined {
  if (payload.length < Nlmsg.GENL_HDRLEN) return undefined;
  return { cmd: payload[0], version: payload[1], attrs: decodeAttrs(payload.subarray(Nlmsg.GENL_HDRLEN)) };
}

function u32Of(v: Uint8Array | undefined): number | undefined {
  return v !== undefined && v.length >= 4 ? new DataView(v.buffer, v.byteOffset, 4).getUint32(0, LE) : undefined;
}

function u16Of(v: Uint8Array | undefined): number | undefined {
  return v !== undefined && v.length >= 2 ? new DataView(v.buffer, v.byteOffset, 2).getUint16(0, LE) : undefined;
}

function u64Of(v: Uint8Array | undefined): bigint | undefined {
  return v !== undefined && v.length >= 8 ? new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, LE) : undefined;
}

function stringOf(v: Uint8Array | undefined): string | undefined {
  if (v === undefined) return undefined;
  const nul = v.indexOf(0);
  return Buffer.from(v.buffer, v.byteOffset, nul < 0 ? v.length : nul).toString('utf8');
}

/** NLMSG_ERROR's payload: the error (0 is an acknowledgement, else -errno). */
export function decodeNlError(payload: Uint8Array): number | undefined {
  return payload.length >= 4 ? new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, LE) : undefined;
}

/** CTRL_CMD_GETFAMILY for `name`. */
export function encodeGetFamily(seq: number, portId: number, name: string = TCMU_GENL_FAMILY_NAME): Uint8Array {
  return encodeGenlMessage({
    type: Nlmsg.GENL_ID_CTRL, flags: Nlmsg.NLM_F_REQUEST | Nlmsg.NLM_F_ACK, seq, portId,
    cmd: GenlCtrl.CTRL_CMD_GETFAMILY, version: 1, attrs: [nla.string(GenlCtrl.CTRL_ATTR_FAMILY_NAME, name)],
  });
}

/** CTRL_CMD_NEWFAMILY's answer: the family id and its multicast groups by name. */
export function decodeFamily(attrs: Map<number, Uint8Array>): { id: number; groups: Map<string, number> } | undefined {
  const id = u16Of(attrs.get(GenlCtrl.CTRL_ATTR_FAMILY_ID));
  if (id === undefined) return undefined;
  const groups = new Map<string, number>();
  const nest = attrs.get(GenlCtrl.CTRL_ATTR_MCAST_GROUPS);
  if (nest !== undefined) {
    for (const g of decodeAttrs(nest).values()) {
      const ga = decodeAttrs(g);
      const name = stringOf(ga.get(GenlCtrl.CTRL_ATTR_MCAST_GRP_NAME));
      const gid = u32Of(ga.get(GenlCtrl.CTRL_ATTR_MCAST_GRP_ID));
      if (name !== undefined && gid !== undefined) groups.set(name, gid);
    }
  }
  return { id, groups };
}

/** TCMU_CMD_SET_FEATURES: whether user space answers the kernel's events. */
export function encodeSetFeatures(familyId: number, seq: number, portId: number, replies: boolean): Uint8Array {
  return encodeGenlMessage({
    type: familyId, flags: Nlmsg.NLM_F_REQUEST | Nlmsg.NLM_F_ACK, seq, portId,
    cmd: TcmuGenlCmd.TCMU_CMD_SET_FEATURES, version: TCMU_GENL_VERSION,
    attrs: [nla.u8(TcmuGenlAttr.TCMU_ATTR_SUPP_KERN_CMD_REPLY, replies ? 1 : 0)],
  });
}

/** The *_DONE command that answers each event. */
export function doneCommandOf(cmd: TcmuGenlCmd): TcmuGenlCmd | undefined {
  switch (cmd) {
    case TcmuGenlCmd.TCMU_CMD_ADDED_DEVICE: return TcmuGenlCmd.TCMU_CMD_ADDED_DEVICE_DONE;
    case TcmuGenlCmd.TCMU_CMD_REMOVED_DEVICE: return TcmuGenlCmd.TCMU_CMD_REMOVED_DEVICE_DONE;
    case TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE: return TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE_DONE;
    default: return undefined;
  }
}

/** The answer to an event: the device's LIO index and 0 or -errno. */
export function encodeDone(familyId: number, seq: number, portId: number, done: TcmuGenlCmd, deviceId: number, status: number): Uint8Array {
  return encodeGenlMessage({
    type: familyId, flags: Nlmsg.NLM_F_REQUEST | Nlmsg.NLM_F_ACK, seq, portId, cmd: done, version: TCMU_GENL_VERSION,
    attrs: [nla.u32(TcmuGenlAttr.TCMU_ATTR_DEVICE_ID, deviceId), nla.s32(TcmuGenlAttr.TCMU_ATTR_CMD_STATUS, status)],
  });
}

/** One of the kernel's device events (tcmu_netlink_event_init and the reconfiguration senders). */
export interface TcmuEvent {
  readonly cmd: TcmuGenlCmd.TCMU_CMD_ADDED_DEVICE | TcmuGenlCmd.TCMU_CMD_REMOVED_DEVICE | TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE;
  /** The uio device's name: tcm-user/<hba>/<device>/<dev_config>. */
  readonly uioName: string;
  readonly minor: number;
  /** LIO's device index, which the answer names. */
  readonly deviceId: number;
  /** RECONFIG: the new dev_size in bytes. */
  readonly devSize?: bigint;
  /** RECONFIG: the new dev_config. */
  readonly devConfig?: string;
  /** RECONFIG: the new emulate_write_cache. */
  readonly writeCache?: boolean;
}

/** A device event of the TCMU family, or undefined for anything else. */
export function decodeTcmuEvent(m: NetlinkMessage, familyId: number): TcmuEvent | undefined {
  if (m.type !== familyId) return undefined;
  const g = decodeGenl(m.payload);
  if (g === undefined || doneCommandOf(g.cmd) === undefined) return undefined;
  const uioName = stringOf(g.attrs.get(TcmuGenlAttr.TCMU_ATTR_DEVICE));
  const minor = u32Of(g.attrs.get(TcmuGenlAttr.TCMU_ATTR_MINOR));
  const deviceId = u32Of(g.attrs.get(TcmuGenlAttr.TCMU_ATTR_DEVICE_ID));
  if (uioName === undefined || minor === undefined || deviceId === undefined) return undefined;
  const wc = g.attrs.get(TcmuGenlAttr.TCMU_ATTR_WRITECACHE);
  const devSize = u64Of(g.attrs.get(TcmuGenlAttr.TCMU_ATTR_DEV_SIZE));
  const devConfig = stringOf(g.attrs.get(TcmuGenlAttr.TCMU_ATTR_DEV_CFG));
  return {
    cmd: g.cmd as TcmuEvent['cmd'], uioName, minor, deviceId,
    ...(devSize !== undefined ? { devSize } : {}),
    ...(devConfig !== undefined ? { devConfig } : {}),
    ...(wc !== undefined && wc.length >= 1 ? { writeCache: wc[0] !== 0 } : {}),
  };
}

/** The socket the channel runs on (the native addon's NetlinkSocket, or a test's fake kernel). */
export interface TcmuNetlinkSocket {
  readonly portId: number;
  send(bytes: Uint8Array): { readonly errno: string; readonly message?: string } | undefined;
  addMembership(group: number): { readonly errno: string; readonly message?: string } | undefined;
  close(): void;
}

/**
 * What the handler answers for an event: a status (0, or -errno to refuse: the configfs write
 * that caused the event then fails with that errno) when the kernel waits for one; undefined
 * when the event is not the handler's (another TCMU handler's device) or nobody waits.
 */
export type TcmuEventHandler = (e: TcmuEvent) => Promise<number | undefined> | number | undefined;

export interface TcmuNetlinkLog {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

/** How long start-up waits for each of the kernel's answers. */
const REQUEST_TIMEOUT_MS = 5000;

export class TcmuNetlink {
  private seq = 1;
  private readonly pending = new Map<number, (m: NetlinkMessage) => void>();
  private familyId = -1;
  private closed = false;
  /** Events answered, by kind, and replies the kernel refused. */
  readonly stats = { events: 0, replies: 0, replyErrors: 0 };

  private constructor(private readonly socket: TcmuNetlinkSocket, private readonly handler: TcmuEventHandler, private readonly log?: TcmuNetlinkLog) {}

  /**
   * Joins TCMU's "config" group on `open`'s socket and tells the kernel that replies come; the
   * handler sees every event from then on. Says why when the family is missing (target_core_user
   * not loaded) or the kernel refuses (SET_FEATURES needs CAP_NET_ADMIN).
   */
  static async start(
    open: (onDatagram: (d: Uint8Array | { readonly errno: string; readonly message?: string }) => void) => TcmuNetlinkSocket | { readonly errno: string; readonly message?: string },
    handler: TcmuEventHandler, log?: TcmuNetlinkLog,
  ): Promise<TcmuNetlink | { error: string }> {
    let self: TcmuNetlink | undefined;
    const s = open(d => self?.onDatagram(d));
    if (!('portId' in s)) return { error: `TCMU netlink: cannot open a generic-netlink socket: ${s.errno}${s.message ? ` (${s.message})` : ''}` };
    self = new TcmuNetlink(s, handler, log);
    const r = await self.handshake();
    if (r !== undefined) {
      self.close();
      return { error: r };
    }
    return self;
  }

  private async handshake(): Promise<string | undefined> {
    const fam = await this.request(seq => encodeGetFamily(seq, this.socket.portId));
    if (typeof fam === 'string') return `TCMU netlink: family ${TCMU_GENL_FAMILY_NAME}: ${fam} (is target_core_user loaded?)`;
    const g = decodeGenl(fam.payload);
    const family = g && g.cmd === GenlCtrl.CTRL_CMD_NEWFAMILY ? decodeFamily(g.attrs) : undefined;
    const group = family?.groups.get(TCMU_GENL_MCGRP_CONFIG);
    if (family === undefined || group === undefined) return `TCMU netlink: the kernel's answer names no ${TCMU_GENL_FAMILY_NAME} family with a "${TCMU_GENL_MCGRP_CONFIG}" group`;
    this.familyId = family.id;
    const joined = this.socket.addMembership(group);
    if (joined) return `TCMU netlink: joining group "${TCMU_GENL_MCGRP_CONFIG}": ${joined.errno}`;
    const set = await this.request(seq => encodeSetFeatures(family.id, seq, this.socket.portId, true));
    if (typeof set === 'string') return `TCMU netlink: SET_FEATURES: ${set}`;
    return undefined;
  }

  /** Sends one request and waits for the kernel's answer (a message, or its NLMSG_ERROR ack). */
  private request(build: (seq: number) => Uint8Array): Promise<NetlinkMessage | string> {
    const seq = this.seq++;
    return new Promise(resolve => {
      const timer = setTimeout(() => { this.pending.delete(seq); resolve('no answer from the kernel'); }, REQUEST_TIMEOUT_MS);
      this.pending.set(seq, m => {
        clearTimeout(timer);
        this.pending.delete(seq);
        if (m.type === Nlmsg.NLMSG_ERROR) {
          const e = decodeNlError(m.payload) ?? -1;
          resolve(e === 0 ? m : `errno ${-e}`);
        } else {
          resolve(m);
        }
      });
      const err = this.socket.send(build(seq));
      if (err) {
        clearTimeout(timer);
        this.pending.delete(seq);
        resolve(err.errno);
      }
    });
  }

  private onDatagram(d: Uint8Array | { readonly errno: string; readonly message?: string }): void {
    if (this.closed) return;
    if (!(d instanceof Uint8Array)) {
      // ENOBUFS: events were lost (the kernel has logged them as sent); a waiting write then
      // needs block_netlink/reset_netlink, which is the administrator's to do.
      this.log?.warn({ errno: d.errno }, 'TCMU netlink: receive failed');
      return;
    }
    for (const m of decodeNetlinkMessages(d)) {
      // An answer to a request of ours carries its sequence number; events carry 0.
      const waiter = m.seq !== 0 ? this.pending.get(m.seq) : undefined;
      if (waiter !== undefined) {
        waiter(m);
        continue;
      }
      if (m.type === Nlmsg.NLMSG_ERROR) {
        const e = decodeNlError(m.payload);
        if (e !== undefined && e !== 0) {
          this.stats.replyErrors++;
          this.log?.warn({ errno: -e, seq: m.seq }, 'TCMU netlink: the kernel refused a reply');
        }
        continue;
      }
      const e = this.familyId >= 0 ? decodeTcmuEvent(m, this.familyId) : undefined;
      if (e !== undefined) void this.dispatch(e);
    }
  }

  private async dispatch(e: TcmuEvent): Promise<void> {
    this.stats.events++;
    let status: number | undefined;
    try {
      status = await this.handler(e);
    } catch (err) {
      // A bug in the handler: the kernel must not wait for ever.
      this.log?.warn({ uioName: e.uioName, error: (err as Error).message }, 'TCMU netlink: event handler failed');
      status = -5; // EIO
    }
    if (status === undefined || this.closed) return;
    const done = doneCommandOf(e.cmd)!;
    const err = this.socket.send(encodeDone(this.familyId, this.seq++, this.socket.portId, done, e.deviceId, status));
    if (err) this.log?.warn({ uioName: e.uioName, errno: err.errno }, 'TCMU netlink: reply not sent');
    else this.stats.replies++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.pending.values()]) w({ type: Nlmsg.NLMSG_ERROR, flags: 0, seq: 0, portId: 0, payload: Uint8Array.of(0xfb, 0xff, 0xff, 0xff) });
    this.socket.close();
  }
}
