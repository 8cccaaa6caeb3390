// The kernel's side of TCMU's generic-netlink family, as target_core_user.c behaves, written from
// the kernel source independently of src/transports/tcmu/netlink.ts (its own byte handling, so
// the shim is checked against it, not against itself):
// - the controller answers CTRL_CMD_GETFAMILY "TCM-USER" with the family id and group "config";
// - TCMU_CMD_SET_FEATURES sets the module-wide reply flag (tcmu_kern_cmd_reply_supported);
// - an event is multicast to the sockets that joined the group; with no listener a reconfiguration
//   fails ESRCH (tcmu_netlink_event_send), an add waits all the same;
// - the kernel waits for a *_DONE only when the flag is set and the device's nl_reply_supported
//   is > 0 (tcmu_init_genl_cmd_reply); at enable a value >= 0 takes the flag's (tcmu_configure_device);
// - a *_DONE names the device by index; one nobody waits for is refused with ENODEV, one for
//   another command with EINVAL (tcmu_genl_cmd_done); each request gets an NLMSG_ERROR ack.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';
export const FAMILY_ID = 0x1d;
export const GROUP_ID = 7;

type OnDatagram = (d: Uint8Array | { errno: string; message: string }) => void;

interface Waiting { cmd: number; resolve: (status: number) => void }

export interface FakeGenlDevice {
  /** LIO's se_dev.dev_index. */
  readonly id: number;
  readonly uioName: string;
  /** attrib/nl_reply_supported. */
  nlReply: number;
}

function attr(type: number, value: Uint8Array): Uint8Array {
  const len = 4 + value.length;
  const b = new Uint8Array((len + 3) & ~3);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, len, LE);
  dv.setUint16(2, type, LE);
  b.set(value, 4);
  return b;
}

function message(type: number, seq: number, pid: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + body.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, b.length, LE);
  dv.setUint16(4, type, LE);
  dv.setUint32(8, seq, LE);
  dv.setUint32(12, pid, LE);
  b.set(body, 16);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u32(v: number): Uint8Array { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, LE); return b; }
function str(s: string): Uint8Array { return concat(Buffer.from(s), Uint8Array.of(0)); }

export class FakeTcmuGenl {
  /** tcmu_kern_cmd_reply_supported. */
  features = 0;
  private readonly listeners = new Map<number, OnDatagram>();
  private readonly members = new Set<number>();
  private nextPid = 4000;
  private readonly waiting = new Map<number, Waiting>();
  /** Every event multicast, for the tests: [cmd, uio name]. */
  readonly sent: Array<[number, string]> = [];
  /** *_DONE replies the kernel refused (nobody waited, or the wrong command). */
  readonly refused: number[] = [];

  /** The native addon's openNetlink, against this kernel. */
  readonly open = (onDatagram: OnDatagram) => {
    const pid = this.nextPid++;
    this.listeners.set(pid, onDatagram);
    return {
      portId: pid,
      send: (bytes: Uint8Array) => { queueMicrotask(() => this.receive(pid, bytes)); return undefined; },
      addMembership: (group: number) => { if (group !== GROUP_ID) return { errno: 'EINVAL', message: 'no such group' }; this.members.add(pid); return undefined; },
      close: () => { this.listeners.delete(pid); this.members.delete(pid); },
    };
  };

  private deliver(pid: number, bytes: Uint8Array): void {
    const l = this.listeners.get(pid);
    if (l) setImmediate(() => l(bytes));
  }

  private ack(pid: number, seq: number, error: number): void {
    const body = new Uint8Array(4 + 16);
    new DataView(body.buffer).setInt32(0, error, LE);
    this.deliver(pid, message(2, seq, pid, body));
  }

  private receive(pid: number, bytes: Uint8Array): void {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = dv.getUint32(0, LE);
    const type = dv.getUint16(4, LE);
    const seq = dv.getUint32(8, LE);
    const cmd = bytes[16];
    const attrs = new Map<number, Uint8Array>();
    for (let at = 20; at + 4 <= len;) {
      const l = dv.getUint16(at, LE);
      attrs.set(dv.getUint16(at + 2, LE), bytes.subarray(at + 4, at + l));
      at += (l + 3) & ~3;
    }
    if (type === 0x10 && cmd === 3) {
      const name = Buffer.from(attrs.get(2) ?? []).toString().replace(/\0.*$/, '');
      if (name !== 'TCM-USER') { this.ack(pid, seq, -2); return; }
      const group = attr(1, concat(attr(1, str('config')), attr(2, u32(GROUP_ID))));
      const body = concat(Uint8Array.of(1, 2, 0, 0), attr(1, Uint8Array.of(FAMILY_ID, 0)), attr(2, str('TCM-USER')), attr(7, group));
      this.deliver(pid, message(0x10, seq, pid, body));
      this.ack(pid, seq, 0);
      return;
    }
    if (type !== FAMILY_ID) { this.ack(pid, seq, -95); return; }
    const a = (t: number) => attrs.get(t);
    if (cmd === 7) {
      this.features = a(9)?.[0] ?? 0;
      this.ack(pid, seq, 0);
      return;
    }
    if (cmd >= 4 && cmd <= 6) {
      const id = a(8) ? new DataView(a(8)!.buffer, a(8)!.byteOffset, 4).getUint32(0, LE) : -1;
      const status = a(7) ? new DataView(a(7)!.buffer, a(7)!.byteOffset, 4).getInt32(0, LE) : undefined;
      const w = this.waiting.get(id);
      if (status === undefined || w === undefined) { this.refused.push(cmd); this.ack(pid, seq, -19); return; }
      this.waiting.delete(id);
      if (w.cmd + 3 !== cmd) { this.refused.push(cmd); this.ack(pid, seq, -22); return; }
      w.resolve(status);
      this.ack(pid, seq, 0);
      return;
    }
    this.ack(pid, seq, -95);
  }

  /**
   * The kernel sends event `cmd` for `dev` with `extra` attributes (as bytes): resolves with the
   * status the configfs write returns (0 or -errno), once user space answered when the kernel waits.
   */
  event(dev: FakeGenlDevice, cmd: number, extra: Uint8Array = new Uint8Array(0)): Promise<number> {
    const wait = this.features !== 0 && dev.nlReply > 0;
    const body = concat(Uint8Array.of(cmd, 2, 0, 0), attr(1, str(dev.uioName)), attr(2, u32(0)), attr(8, u32(dev.id)), extra);
    const msg = message(FAMILY_ID, 0, 0, body);
    this.sent.push([cmd, dev.uioName]);
    if (this.members.size === 0 && cmd !== 1) return Promise.resolve(-3); // ESRCH
    for (const p of this.members) this.deliver(p, msg);
    if (!wait) return Promise.resolve(0);
    return new Promise(resolve => this.waiting.set(dev.id, { cmd, resolve }));
  }

  static u64Attr(type: number, v: bigint): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, LE);
    return attr(type, b);
  }

  static u8Attr(type: number, v: number): Uint8Array { return attr(type, Uint8Array.of(v)); }
  static stringAttr(type: number, s: string): Uint8Array { return attr(type, str(s)); }
}
