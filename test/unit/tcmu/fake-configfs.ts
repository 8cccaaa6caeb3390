// A configfs tree that behaves as LIO's does for the shim's operations, written from the kernel
// sources independently of kernel-shim/ (so the shim's plan is checked against it, not against
// itself): target_core_configfs.c (core/<backend>_<n>/<dev>, control, enable, attrib, action),
// target_core_user.c (control tokens, the uio device named tcm-user/<hba>/<dev>/<dev_config>),
// target_core_fabric_configfs.c (wwn, tpgt_N with lun/, acls/, np/, attrib/, param/, auth/;
// LUN and mapped-LUN links; items with links cannot be removed) and each fabric module's checks:
// tcm_loop (naa./fc./iqn. names, the nexus attribute), tcm_qla2xxx and tcm_fc (strict colon
// WWPNs, tpgt_1 only, enable on qla2xxx), ib_srpt (the port must exist, enable, ACL port ids).
import * as path from 'node:path';
import { constants } from 'node:os';
import type { ConfigfsFs } from '../../../kernel-shim/configfs';
import { FakeTcmuGenl } from './fake-netlink';
import type { FakeGenlDevice } from './fake-netlink';

type Node =
  | { kind: 'dir'; user: boolean }
  | { kind: 'file'; value: string }
  | { kind: 'link'; target: string };

function err(code: string, p: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${p}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

const STRICT_WWPN = /^[0-9a-f]{2}(:[0-9a-f]{2}){7}$/;
const TCMU_TOKENS = ['dev_config', 'dev_size', 'hw_block_size', 'hw_max_sectors', 'nl_reply_supported', 'max_data_area_mb'];

interface FabricRules {
  module: string;
  wwn(name: string, fake: FakeConfigfs): boolean;
  initiator(name: string): boolean;
  tpgts: 'any' | 1;
  tpgAttrs: string[];
}

const LOOP_NAME = /^(naa\.|fc\.|iqn\.)/;
const FABRIC_RULES: Record<string, FabricRules> = {
  loopback: { module: 'tcm_loop', wwn: n => LOOP_NAME.test(n), initiator: n => LOOP_NAME.test(n), tpgts: 'any', tpgAttrs: ['nexus', 'transport_status', 'address'] },
  qla2xxx: { module: 'tcm_qla2xxx', wwn: n => STRICT_WWPN.test(n), initiator: n => STRICT_WWPN.test(n), tpgts: 1, tpgAttrs: ['enable', 'dynamic_sessions'] },
  fc: { module: 'tcm_fc', wwn: n => STRICT_WWPN.test(n), initiator: n => STRICT_WWPN.test(n), tpgts: 1, tpgAttrs: [] },
  srpt: {
    module: 'ib_srpt', wwn: (n, f) => f.hcaPorts.includes(n),
    initiator: n => /^(0x)?([0-9a-fA-F]{2}){1,16}$/.test(n) || /^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4}){3}$/.test(n) || /^\d+\.\d+\.\d+\.\d+$/.test(n),
    tpgts: 'any', tpgAttrs: ['enable'],
  },
};

export class FakeConfigfs implements ConfigfsFs {
  readonly nodes = new Map<string, Node>();
  /** Loaded kernel modules (/sys/module). */
  readonly modules: Set<string>;
  /** ib_srpt's HCA port names (GUID and GID forms). */
  readonly hcaPorts = ['fe80:0000:0000:0001', '0xfe800000000000000002c90300a1b2c3'];
  private nextUio = 0;
  /** TCMU's generic-netlink family: the events the backstores' attribute writes send. */
  readonly genl = new FakeTcmuGenl();
  /** LIO's devices of the TCMU backstores, by directory. */
  readonly genlDevices = new Map<string, FakeGenlDevice & { uioName: string }>();
  private nextDevIndex = 1;
  /** Refuse the operation on this path (a test's injected failure). */
  failOn: string | undefined;
  /**
   * What linking a LUN waits for, as the kernel's symlink does: the initiator's scan of the new
   * LUN (tcm_loop: INQUIRY and the rest, answered through the backstore's ring).
   */
  scan: ((backstore: string) => Promise<void>) | undefined;

  constructor(readonly root = '/sys/kernel/config', modules: string[] = ['target_core_mod', 'target_core_user', 'tcm_loop', 'tcm_qla2xxx', 'tcm_fc', 'ib_srpt']) {
    this.modules = new Set(modules);
    this.dir('/', false);
    for (const m of this.modules) this.mkdirp(`/sys/module/${m}`);
    this.mkdirp('/sys/class/uio');
    if (this.modules.has('target_core_mod')) {
      this.mkdirp(path.join(root, 'target', 'core', 'alua'));
      this.file(path.join(root, 'target', 'version'), 'Target Engine Core ConfigFS Infrastructure v5.0');
    }
  }

  private dir(p: string, user: boolean): void { this.nodes.set(p, { kind: 'dir', user }); }
  private file(p: string, value = ''): void { this.nodes.set(p, { kind: 'file', value }); }
  private mkdirp(p: string): void {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const q = '/' + parts.slice(0, i).join('/');
      if (!this.nodes.has(q)) this.dir(q, false);
    }
  }

  /** Every path and what it holds, to compare the tree before and after. */
  snapshot(): string[] {
    return [...this.nodes.entries()].map(([p, n]) => `${p} ${n.kind}${n.kind === 'link' ? ` -> ${n.target}` : ''}${n.kind === 'file' ? ` = ${n.value}` : ''}`).sort();
  }

  exists(p: string): boolean { return this.nodes.has(p); }

  list(p: string): string[] {
    const prefix = p.endsWith('/') ? p : p + '/';
    return [...this.nodes.keys()].filter(k => k.startsWith(prefix) && !k.slice(prefix.length).includes('/'))
      .map(k => k.slice(prefix.length));
  }

  read(p: string): string {
    const n = this.nodes.get(p);
    if (!n) throw err('ENOENT', p);
    if (n.kind !== 'file') throw err('EISDIR', p);
    return n.value;
  }

  /** Where `p` sits: [kind of place, its parts under the target dir]. */
  private rel(p: string): string[] {
    const base = path.join(this.root, 'target') + '/';
    return p.startsWith(base) ? p.slice(base.length).split('/') : [];
  }

  mkdir(p: string): void {
    if (this.failOn === p) throw err('EIO', p);
    if (this.nodes.has(p)) throw err('EEXIST', p);
    const parent = this.nodes.get(path.dirname(p));
    if (!parent || parent.kind !== 'dir') throw err('ENOENT', p);
    const r = this.rel(p);
    const name = path.basename(p);
    if (r.length === 0) throw err('EPERM', p);
    if (r[0] === 'core') return this.mkdirCore(p, r);
    const rules = FABRIC_RULES[r[0]];
    if (r.length === 1) {
      // target_core_register_fabric: only a registered (loaded) fabric module.
      if (!rules || !this.modules.has(rules.module)) throw err('EINVAL', p);
      this.dir(p, true);
      this.mkdirp(path.join(p, 'discovery_auth'));
      return;
    }
    if (!rules) throw err('EINVAL', p);
    if (r.length === 2) {
      if (!rules.wwn(name, this)) throw err('EINVAL', p);
      this.dir(p, true);
      this.file(path.join(p, 'version'), 'fabric version');
      this.mkdirp(path.join(p, 'fabric_statistics'));
      return;
    }
    if (r.length === 3) {
      const m = /^tpgt_(\d+)$/.exec(name);
      if (!m) throw err('EINVAL', p);
      if (rules.tpgts === 1 && Number(m[1]) !== 1) throw err('ENOSYS', p);
      this.dir(p, true);
      for (const d of ['lun', 'acls', 'np', 'attrib', 'param', 'auth', 'fabric_statistics']) this.dir(path.join(p, d), false);
      for (const a of rules.tpgAttrs) this.file(path.join(p, a), a === 'enable' ? '0' : '');
      return;
    }
    if (r.length === 5 && r[3] === 'lun') {
      if (!/^lun_\d+$/.test(name)) throw err('EINVAL', p);
      this.dir(p, true);
      for (const a of ['alua_tg_pt_gp', 'alua_tg_pt_offline', 'alua_tg_pt_status', 'alua_tg_pt_write_md']) this.file(path.join(p, a));
      this.mkdirp(path.join(p, 'statistics'));
      return;
    }
    if (r.length === 5 && r[3] === 'acls') {
      if (!rules.initiator(name)) throw err('EINVAL', p);
      this.dir(p, true);
      for (const d of ['attrib', 'auth', 'param', 'fabric_statistics']) this.dir(path.join(p, d), false);
      for (const a of ['info', 'cmdsn_depth', 'tag']) this.file(path.join(p, a));
      return;
    }
    if (r.length === 6 && r[3] === 'acls') {
      if (!/^lun_\d+$/.test(name)) throw err('EINVAL', p);
      this.dir(p, true);
      this.file(path.join(p, 'write_protect'), '0');
      this.mkdirp(path.join(p, 'statistics'));
      return;
    }
    throw err('EPERM', p);
  }

  private mkdirCore(p: string, r: string[]): void {
    if (r.length === 2) {
      const m = /^(\w+)_(\d+)$/.exec(r[1]);
      if (!m || (m[1] === 'user' && !this.modules.has('target_core_user'))) throw err('EINVAL', p);
      this.dir(p, true);
      this.file(path.join(p, 'hba_info'));
      this.file(path.join(p, 'hba_mode'), '0');
      return;
    }
    if (r.length === 3) {
      this.dir(p, true);
      for (const a of ['control', 'info', 'udev_path', 'alias']) this.file(path.join(p, a));
      this.file(path.join(p, 'enable'), '0');
      this.genlDevices.set(p, { id: this.nextDevIndex++, uioName: '', nlReply: 0 });
      for (const a of ['cmd_time_out', 'qfull_time_out', 'max_data_area_mb', 'hw_block_size', 'hw_max_sectors', 'nl_reply_supported',
        'dev_config', 'dev_size', 'emulate_write_cache', 'tmr_notification', 'pgr_support', 'alua_support']) this.file(path.join(p, 'attrib', a), '0');
      this.dir(path.join(p, 'attrib'), false);
      for (const a of ['block_dev', 'reset_ring']) this.file(path.join(p, 'action', a));
      this.dir(path.join(p, 'action'), false);
      for (const d of ['pr', 'wwn', 'alua', 'statistics']) this.dir(path.join(p, d), false);
      return;
    }
    throw err('EPERM', p);
  }

  write(p: string, value: string): Promise<void> | void {
    if (this.failOn === p) throw err('EIO', p);
    const n = this.nodes.get(p);
    if (!n) throw err('ENOENT', p);
    if (n.kind !== 'file') throw err('EISDIR', p);
    const dev = path.dirname(p);
    const name = path.basename(p);
    const r = this.rel(p);
    if (r[0] === 'core' && r.length === 4 && name === 'control') {
      for (const tok of value.split(',')) {
        const [k, v] = tok.split('=');
        if (!TCMU_TOKENS.includes(k)) throw err('EINVAL', p);
        if (k === 'max_data_area_mb' && this.read(path.join(dev, 'enable')) === '1') throw err('EINVAL', p);
        if (k === 'nl_reply_supported') this.genlDevices.get(dev)!.nlReply = Number(v);
      }
      n.value = value;
      return;
    }
    if (r[0] === 'core' && r.length === 4 && name === 'enable') {
      if (value !== '1') throw err('EINVAL', p);
      if (n.value === '1') throw err('EEXIST', p);
      n.value = '1';
      const control = Object.fromEntries(this.read(path.join(dev, 'control')).split(',').filter(Boolean).map(t => t.split('=')));
      const uio = `/sys/class/uio/uio${this.nextUio++}`;
      this.dir(uio, false);
      this.file(path.join(uio, 'name'), `tcm-user/${/_(\d+)$/.exec(r[1])![1]}/${r[2]}${control.dev_config ? `/${control.dev_config}` : ''}\n`);
      this.dir(path.join(uio, 'maps'), false);
      this.dir(path.join(uio, 'maps', 'map0'), false);
      const mb = Number(control.max_data_area_mb ?? 1024);
      this.file(path.join(uio, 'maps', 'map0', 'size'), `0x${(8 * 1024 * 1024 + mb * 1024 * 1024).toString(16)}\n`);
      // tcmu_configure_device: nl_reply_supported >= 0 takes the module-wide flag, then the add event.
      const g = this.genlDevices.get(dev)!;
      g.uioName = this.read(path.join(uio, 'name')).trim();
      if (g.nlReply >= 0) g.nlReply = this.genl.features;
      return this.genl.event(g, 1).then(st => { if (st < 0) throw err(errnoName(st), p); });
    }
    if (r[0] === 'core' && r[3] === 'attrib' && ['dev_size', 'emulate_write_cache', 'dev_config', 'nl_reply_supported'].includes(name)) {
      const g = this.genlDevices.get(path.dirname(dev))!;
      if (name === 'nl_reply_supported') { g.nlReply = Number(value); n.value = value; return; }
      if (this.read(path.join(path.dirname(dev), 'enable')) !== '1') { n.value = value; return; }
      // tcmu_dev_size_store and the others: a reconfiguration event, the value kept only when it succeeded.
      const extra = name === 'dev_size' ? FakeTcmuGenl.u64Attr(5, BigInt(value.trim()))
        : name === 'emulate_write_cache' ? FakeTcmuGenl.u8Attr(6, Number(value)) : FakeTcmuGenl.stringAttr(4, value);
      return this.genl.event(g, 3, extra).then(st => {
        if (st < 0) throw err(errnoName(st), p);
        n.value = value.trim();
      });
    }
    if (r[0] === 'core' && r[3] === 'action' && name === 'reset_ring') {
      if (value !== '1' && value !== '2') throw err('EINVAL', p);
      return;
    }
    if (r[0] !== 'core' && r.length === 4 && name === 'nexus') {
      // tcm_loop_make_nexus: one nexus per TPG, the initiator's protocol prefix that of the target.
      if (n.value !== '') throw err('EEXIST', p);
      if (value.split('.')[0] !== r[1].split('.')[0]) throw err('EINVAL', p);
      n.value = value;
      return;
    }
    if (name === 'enable' || name === 'write_protect' || r[r.length - 2] === 'attrib') {
      if (!/^[0-9-]+$/.test(value)) throw err('EINVAL', p);
      n.value = value;
      return;
    }
    throw err('EPERM', p);
  }

  symlink(target: string, p: string): Promise<void> | void {
    if (this.failOn === p) throw err('EIO', p);
    if (this.nodes.has(p)) throw err('EEXIST', p);
    const r = this.rel(p);
    const t = this.rel(target);
    const parent = path.dirname(p);
    if (!this.nodes.has(parent)) throw err('ENOENT', p);
    if (r.length === 6 && r[3] === 'lun') {
      // target_fabric_port_link: to an enabled backstore, one per LUN.
      if (t[0] !== 'core' || t.length !== 3 || this.read(path.join(target, 'enable')) !== '1') throw err('ENODEV', p);
      if (this.list(parent).some(c => this.nodes.get(path.join(parent, c))?.kind === 'link')) throw err('EEXIST', p);
    } else if (r.length === 7 && r[3] === 'acls') {
      // target_fabric_mappedlun_link: to a LUN of the same TPG.
      if (t.length !== 5 || t.slice(0, 3).join('/') !== r.slice(0, 3).join('/') || t[3] !== 'lun' || !this.nodes.has(target)) throw err('EINVAL', p);
    } else {
      throw err('EPERM', p);
    }
    this.nodes.set(p, { kind: 'link', target });
    if (r.length === 6 && this.scan) return this.scan(target);
  }

  unlink(p: string): void {
    const n = this.nodes.get(p);
    if (!n) throw err('ENOENT', p);
    if (n.kind !== 'link') throw err('EPERM', p);
    this.nodes.delete(p);
  }

  rmdir(p: string): Promise<void> | void {
    if (this.failOn === p) throw err('EIO', p);
    const n = this.nodes.get(p);
    if (!n) throw err('ENOENT', p);
    if (n.kind !== 'dir' || !n.user) throw err('EPERM', p);
    const inside = [...this.nodes.entries()].filter(([k]) => k.startsWith(p + '/'));
    if (inside.some(([, c]) => c.kind === 'link' || (c.kind === 'dir' && c.user))) throw err('ENOTEMPTY', p);
    // configfs: an item others link to is busy.
    if ([...this.nodes.values()].some(c => c.kind === 'link' && (c.target === p || c.target.startsWith(p + '/')))) throw err('EBUSY', p);
    for (const [k] of inside) this.nodes.delete(k);
    this.nodes.delete(p);
    const r = this.rel(p);
    if (r[0] === 'core' && r.length === 3) {
      // The backstore's uio device goes with it.
      for (const u of this.list('/sys/class/uio')) {
        const name = this.read(`/sys/class/uio/${u}/name`);
        if (name.startsWith(`tcm-user/${/_(\d+)$/.exec(r[1])![1]}/${r[2]}`)) {
          for (const k of [...this.nodes.keys()]) if (k === `/sys/class/uio/${u}` || k.startsWith(`/sys/class/uio/${u}/`)) this.nodes.delete(k);
        }
      }
      // tcmu_destroy_device: the remove event, its answer awaited and its status ignored.
      const g = this.genlDevices.get(p);
      this.genlDevices.delete(p);
      if (g && g.uioName !== '') return this.genl.event(g, 2).then(() => undefined);
    }
  }
}

function errnoName(status: number): string {
  const hit = Object.entries(constants.errno).find(([, v]) => v === -status);
  return hit ? hit[0] : 'EIO';
}
