// TCMU's generic-netlink messages (src/transports/tcmu/netlink.ts) byte for byte against
// netlink(7), genetlink and linux/target_core_user.h, with the expected bytes written out by hand
// (host byte order: these hosts are little-endian); then the channel's start-up and answers
// against the fake kernel of fake-netlink.ts.
import { expect } from 'chai';
import { endianness } from 'node:os';
import {
  TcmuNetlink, decodeFamily, decodeGenl, decodeNetlinkMessages, decodeTcmuEvent, encodeDone, encodeGetFamily,
  encodeSetFeatures,
} from '../../../src/transports/tcmu/netlink';
import type { TcmuEvent } from '../../../src/transports/tcmu/netlink';
import { TcmuGenlCmd } from '../../../src/transports/tcmu/spec';
import { FakeTcmuGenl } from './fake-netlink';
import { describeNeeds } from '../../helpers/prereq';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const tick = (): Promise<void> => new Promise(r => setTimeout(r, 5));

// netlink(7) headers and attributes are in host byte order; the expected bytes below are a
// little-endian host's.
const describeLittleEndian = describeNeeds({
  what: 'a little-endian host (the expected netlink bytes are in little-endian host order)',
  available: endianness() === 'LE',
  howToGet: 'run the encoding tests on x86-64 or arm64',
});

describeLittleEndian('tcmu/netlink: message encoding (netlink(7), genetlink, target_core_user.h)', () => {

  it('CTRL_CMD_GETFAMILY "TCM-USER": to GENL_ID_CTRL, REQUEST|ACK, the name NUL-terminated and padded', () => {
    expect(Buffer.from(encodeGetFamily(7, 0x1234)).toString('hex')).to.equal(Buffer.from(hex(`
      24000000 1000 0500 07000000 34120000
      03 01 0000
      0d00 0200 54434d2d5553455200 000000`)).toString('hex'));
  });

  it('TCMU_CMD_SET_FEATURES: SUPP_KERN_CMD_REPLY (9) as a u8, version 2', () => {
    expect(Buffer.from(encodeSetFeatures(0x1d, 2, 99, true)).toString('hex')).to.equal(Buffer.from(hex(`
      1c000000 1d00 0500 02000000 63000000
      07 02 0000
      0500 0900 01 000000`)).toString('hex'));
  });

  it('TCMU_CMD_RECONFIG_DEVICE_DONE: DEVICE_ID (8) u32, then CMD_STATUS (7) s32 = -EINVAL', () => {
    expect(Buffer.from(encodeDone(0x1d, 3, 99, TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE_DONE, 5, -22)).toString('hex')).to.equal(Buffer.from(hex(`
      24000000 1d00 0500 03000000 63000000
      06 02 0000
      0800 0800 05000000
      0800 0700 eaffffff`)).toString('hex'));
  });

  it('decodes a RECONFIG_DEVICE event with DEV_SIZE (u64, after a PAD-aligned header) as the kernel multicasts it', () => {
    const d = hex(`
      54000000 1d00 0000 00000000 00000000
      03 02 0000
      2100 0100 74636d2d757365722f302f6469736b302f6e657875732f6469736b3000 000000
      0800 0200 00000000
      0800 0800 2a000000
      0c00 0500 0000000400000000`);
    const [m] = decodeNetlinkMessages(d);
    const e = decodeTcmuEvent(m, 0x1d);
    expect(e).to.deep.equal({
      cmd: TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE, uioName: 'tcm-user/0/disk0/nexus/disk0', minor: 0, deviceId: 42, devSize: 64n * 1024n * 1024n,
    });
    // Another family's message, or a cut one, is not an event.
    expect(decodeTcmuEvent(m, 0x1e)).to.equal(undefined);
    expect(decodeNetlinkMessages(d.subarray(0, 40))).to.deep.equal([]);
  });

  it('decodes EMULATE_WRITECACHE (u8) and DEV_CFG (string) reconfigurations', () => {
    const wc = hex(`38000000 1d00 0000 00000000 00000000 03 02 0000 0a00 0100 782f782f7800 0000 0800 0200 00000000 0800 0800 01000000 0500 0600 01 000000`);
    const [m] = decodeNetlinkMessages(wc);
    const e = decodeTcmuEvent(m, 0x1d)!;
    expect([e.uioName, e.deviceId, e.writeCache, e.devSize]).to.deep.equal(['x/x/x', 1, true, undefined]);
    const cfg = hex(`34000000 1d00 0000 00000000 00000000 03 02 0000 0600 0100 7800 0000 0800 0200 03000000 0800 0800 01000000 0800 0400 612f6200`);
    expect(decodeTcmuEvent(decodeNetlinkMessages(cfg)[0], 0x1d)).to.deep.equal({
      cmd: TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE, uioName: 'x', minor: 3, deviceId: 1, devConfig: 'a/b',
    });
  });

  it('decodes CTRL_CMD_NEWFAMILY: the family id (u16) and the nested multicast groups', () => {
    const body = hex(`
      01 02 0000
      0600 0100 1d00 0000
      1c00 0700
        1800 0100
          0b00 0100 636f6e66696700 00
          0800 0200 07000000
          ` + '');
    const g = decodeGenl(body)!;
    expect(g.cmd).to.equal(1);
    expect(decodeFamily(g.attrs)).to.deep.equal({ id: 0x1d, groups: new Map([['config', 7]]) });
  });
});

describe('tcmu/netlink: the channel against the kernel\'s side', () => {
  it('joins "config", announces replies, and answers each event of the handler with its status', async () => {
    const k = new FakeTcmuGenl();
    const seen: TcmuEvent[] = [];
    const nl = await TcmuNetlink.start(cb => k.open(cb), e => { seen.push(e); return e.devSize === 4096n ? 0 : -22; });
    if (!(nl instanceof TcmuNetlink)) throw new Error(nl.error);
    expect(k.features).to.equal(1);
    const dev = { id: 9, uioName: 'tcm-user/0/d/nexus/d', nlReply: 1 };
    expect(await k.event(dev, TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE, FakeTcmuGenl.u64Attr(5, 4096n))).to.equal(0);
    expect(await k.event(dev, TcmuGenlCmd.TCMU_CMD_RECONFIG_DEVICE, FakeTcmuGenl.u64Attr(5, 100n))).to.equal(-22);
    expect(seen.map(e => [e.cmd, e.deviceId, e.devSize])).to.deep.equal([[3, 9, 4096n], [3, 9, 100n]]);
    await tick();
    expect(nl.stats).to.deep.equal({ events: 2, replies: 2, replyErrors: 0 });
    nl.close();
  });

  it('sends nothing for an event the handler leaves unanswered', async () => {
    const k = new FakeTcmuGenl();
    const nl = await TcmuNetlink.start(cb => k.open(cb), () => undefined);
    if (!(nl instanceof TcmuNetlink)) throw new Error(nl.error);
    expect(await k.event({ id: 3, uioName: 'tcm-user/0/other/file/x', nlReply: 0 }, TcmuGenlCmd.TCMU_CMD_ADDED_DEVICE)).to.equal(0);
    await tick();
    expect(nl.stats.replies).to.equal(0);
    expect(k.refused).to.deep.equal([]);
    nl.close();
  });

  it('says why when the family is missing or the socket cannot be opened', async () => {
    const k = new FakeTcmuGenl();
    const missing = await TcmuNetlink.start(cb => {
      const s = k.open(cb);
      // A kernel without target_core_user: the controller knows no TCM-USER.
      return { ...s, send: (b: Uint8Array) => s.send(Uint8Array.from(b, (x, i) => (i === 24 ? 0x41 : x))) };
    }, () => 0);
    expect(missing).to.have.property('error').that.matches(/family TCM-USER: errno 2 \(is target_core_user loaded\?\)/);
    expect(await TcmuNetlink.start(() => ({ errno: 'EPERM', message: 'Operation not permitted' }), () => 0))
      .to.deep.equal({ error: 'TCMU netlink: cannot open a generic-netlink socket: EPERM (Operation not permitted)' });
  });
});
