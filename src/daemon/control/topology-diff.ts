// The topology diff (issue 10, config.apply): from the running topology and a new one, both
// normalized by the same loader as start-up (config/load.ts), the ordered steps that turn one
// into the other, each with its undo (`inverseOf`). Pure: no I/O, no engine.
//
// Order, so that no step ever refers to something missing and nothing is exported while its
// access rules are half changed (SCST removes the same way: mappings first, then what they name):
//   1. target disables, LUN unmaps, group removals, portal removals, target removals, device removals;
//   2. changes in place: device resize / write cache / read-only / medium, iSCSI parameters;
//   3. device additions, target additions, portal additions, aliases, auth, groups and their
//      initiator patterns, LUN maps, target enables.
// A mapping whose device or read-only flag changed is an unmap followed by a map of the LUN.
//
// What a running unit or listener cannot change (a device's handler or block size under the same
// name, the state directory, the engine threads) is refused with the JSON path of the value in
// the new document: remove it and add it under a new name instead.

import type {
  AuthConfig, DeviceConfig, GroupConfig, LunMapping, TargetConfig, Topology,
} from '../../engine/topology';
import { jsonPointer, type ConfigError } from '../config/load';
import { deviceTypes } from '../../engine/devices';
import { INQUIRY_FIELDS, type InquiryFields } from '../../engine/logical-unit';

/** The topology's `iscsi` section, setting by setting. */
export type IscsiValue = string | number | boolean | readonly string[];

/** A target without its LUN maps and groups (those are steps of their own). */
export type BareTarget = Omit<TargetConfig, 'luns' | 'groups'>;
/** A group without its LUN map (its mappings are steps of their own). */
export type BareGroup = Omit<GroupConfig, 'luns'>;

export type AuthScope = 'auth' | 'discoveryAuth';

export type Step =
  | { readonly op: 'device.add'; readonly device: DeviceConfig }
  | { readonly op: 'device.remove'; readonly device: DeviceConfig }
  | { readonly op: 'device.resize'; readonly device: string; readonly from: bigint; readonly to: bigint }
  | { readonly op: 'device.writeCache'; readonly device: string; readonly from: DeviceConfig['writeCache']; readonly to: DeviceConfig['writeCache'] }
  | { readonly op: 'device.readOnly'; readonly device: string; readonly from: boolean; readonly to: boolean }
  /** The INQUIRY fields (vendor, product, revision, serial) of a device: INQUIRY DATA HAS CHANGED. */
  | { readonly op: 'device.inquiry'; readonly device: string; readonly from: InquiryFields; readonly to: InquiryFields }
  /** Medium of a removable device (Engine.changeMedium): undefined = no medium. */
  | { readonly op: 'device.medium'; readonly device: string; readonly from?: string; readonly to?: string }
  | { readonly op: 'target.add'; readonly target: BareTarget }
  | { readonly op: 'target.remove'; readonly target: BareTarget }
  | { readonly op: 'target.alias'; readonly target: string; readonly from?: string; readonly to?: string }
  /** New logins refused (disable: its sessions are asked to log out) or taken again. */
  | { readonly op: 'target.enable'; readonly target: string }
  | { readonly op: 'target.disable'; readonly target: string }
  | { readonly op: 'portal.add'; readonly target: string; readonly portal: string }
  | { readonly op: 'portal.remove'; readonly target: string; readonly portal: string }
  /** `group` undefined: the target's default LUN map. */
  | { readonly op: 'lun.map'; readonly target: string; readonly group?: string; readonly mapping: LunMapping }
  | { readonly op: 'lun.unmap'; readonly target: string; readonly group?: string; readonly mapping: LunMapping }
  | { readonly op: 'group.add'; readonly target: string; readonly group: BareGroup }
  | { readonly op: 'group.remove'; readonly target: string; readonly group: BareGroup }
  | { readonly op: 'group.initiators'; readonly target: string; readonly group: string; readonly from: readonly string[]; readonly to: readonly string[] }
  /** CHAP of a target (`group` undefined) or of a group; for new logins (RFC 7143 12.1.3). */
  | { readonly op: 'auth.set'; readonly target: string; readonly group?: string; readonly scope: AuthScope; readonly from?: AuthConfig; readonly to?: AuthConfig }
  /** An iSCSI parameter for new sessions (the topology's `iscsi` section). */
  | { readonly op: 'iscsi.set'; readonly key: string; readonly from?: IscsiValue; readonly to?: IscsiValue };

export type StepOp = Step['op'];

export type DiffResult = { readonly ok: true; readonly steps: Step[] } | { readonly ok: false; readonly errors: ConfigError[] };

/** The step that takes back `s` (applied after `s`, it restores what was before). */
export function inverseOf(s: Step): Step {
  switch (s.op) {
    case 'device.add': return { op: 'device.remove', device: s.device };
    case 'device.remove': return { op: 'device.add', device: s.device };
    case 'device.resize':
    case 'device.writeCache':
    case 'device.readOnly':
    case 'device.inquiry':
      return { ...s, from: s.to, to: s.from } as Step;
    case 'device.medium': return { op: 'device.medium', device: s.device, from: s.to, to: s.from };
    case 'target.add': return { op: 'target.remove', target: s.target };
    case 'target.remove': return { op: 'target.add', target: s.target };
    case 'target.alias': return { op: 'target.alias', target: s.target, from: s.to, to: s.from };
    case 'target.enable': return { op: 'target.disable', target: s.target };
    case 'target.disable': return { op: 'target.enable', target: s.target };
    case 'portal.add': return { op: 'portal.remove', target: s.target, portal: s.portal };
    case 'portal.remove': return { op: 'portal.add', target: s.target, portal: s.portal };
    case 'lun.map': return { ...s, op: 'lun.unmap' };
    case 'lun.unmap': return { ...s, op: 'lun.map' };
    case 'group.add': return { op: 'group.remove', target: s.target, group: s.group };
    case 'group.remove': return { op: 'group.add', target: s.target, group: s.group };
    case 'group.initiators': return { ...s, from: s.to, to: s.from };
    case 'auth.set': return { ...s, from: s.to, to: s.from };
    case 'iscsi.set': return { op: 'iscsi.set', key: s.key, from: s.to, to: s.from };
  }
}

/**
 * One line per step, for people (`nexus config apply` shows these) and logs. CHAP secrets are never
 * part of it: a changed secret reads "CHAP user u".
 */
export function describeStep(s: Step): string {
  const where = (target: string, group?: string): string => (group === undefined ? `target ${target}` : `target ${target} group ${group}`);
  switch (s.op) {
    case 'device.add': return `add device ${s.device.name} (${s.device.handler}, ${s.device.sizeBytes} bytes${s.device.path !== undefined ? `, ${s.device.path}` : ''})`;
    case 'device.remove': return `remove device ${s.device.name}`;
    case 'device.resize': return `resize device ${s.device} from ${s.from} to ${s.to} bytes`;
    case 'device.writeCache': return `device ${s.device} write cache ${s.from} -> ${s.to}`;
    case 'device.readOnly': return `device ${s.device} read-only ${s.from} -> ${s.to}`;
    case 'device.inquiry': return `device ${s.device} INQUIRY ${inquiryText(s.from)} -> ${inquiryText(s.to)}`;
    case 'device.medium': return s.to === undefined ? `eject the medium of device ${s.device}` : `load ${s.to} into device ${s.device}`;
    case 'target.add': return `add target ${s.target.name}`;
    case 'target.remove': return `remove target ${s.target.name}`;
    case 'target.alias': return `target ${s.target} alias ${s.from ?? '(none)'} -> ${s.to ?? '(none)'}`;
    case 'target.enable': return `enable target ${s.target}`;
    case 'target.disable': return `disable target ${s.target}`;
    case 'portal.add': return `${where(s.target)}: add portal ${s.portal}`;
    case 'portal.remove': return `${where(s.target)}: remove portal ${s.portal}`;
    case 'lun.map': return `${where(s.target, s.group)}: map LUN ${s.mapping.lun} to device ${s.mapping.device}${s.mapping.readOnly ? ' read-only' : ''}`;
    case 'lun.unmap': return `${where(s.target, s.group)}: unmap LUN ${s.mapping.lun} (device ${s.mapping.device})`;
    case 'group.add': return `${where(s.target)}: add group ${s.group.name} for ${s.group.initiators.join(', ')}`;
    case 'group.remove': return `${where(s.target)}: remove group ${s.group.name}`;
    case 'group.initiators': return `${where(s.target, s.group)}: initiators ${s.from.join(', ')} -> ${s.to.join(', ')}`;
    case 'auth.set': return `${where(s.target, s.group)}: ${s.scope === 'auth' ? 'CHAP' : 'discovery CHAP'} ${authText(s.from)} -> ${authText(s.to)}`;
    case 'iscsi.set': return `iscsi ${s.key} ${valueText(s.from)} -> ${valueText(s.to)}`;
  }
}

function inquiryText(f: InquiryFields): string {
  const set = INQUIRY_FIELDS.filter(k => f[k] !== undefined).map(k => `${k} "${f[k]}"`);
  return set.length === 0 ? '(defaults)' : set.join(', ');
}

function authText(a: AuthConfig | undefined): string {
  if (a === undefined || (a.chap === undefined && a.mutualChap === undefined)) return 'none';
  const parts: string[] = [];
  if (a.chap) parts.push(`user ${a.chap.user}`);
  if (a.mutualChap) parts.push(`mutual user ${a.mutualChap.user}`);
  return parts.join(', ');
}

function valueText(v: IscsiValue | undefined): string {
  if (v === undefined) return '(default)';
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** Device fields a live unit cannot change under the same name (its personality, its geometry). */
const FIXED_DEVICE_FIELDS = [
  'deviceType', 'handler', 'blockSize', 'physicalBlockSize', 'thin', 'removable', 'allowVendorCommands',
] as const satisfies readonly (keyof DeviceConfig)[];

/** The diff from `running` to `next`, or every change that cannot be made live. */
export function diffTopology(running: Topology, next: Topology): DiffResult {
  const errors: ConfigError[] = [];
  const refuse = (path: string, what: string): void => {
    errors.push({ path, message: `${what} cannot be changed while the daemon runs (restart it, or remove and add under a new name)` });
  };

  // Daemon-wide settings: the runtime was built from them.
  if (running.stateDir !== next.stateDir) refuse('/stateDir', 'the state directory');
  if (running.gateway !== next.gateway) refuse('/gateway', 'the gateway this daemon is');
  if (running.engine.threads !== next.engine.threads) refuse('/engine/threads', 'the number of engine threads');
  if (running.engine.bufferPoolBytes !== next.engine.bufferPoolBytes) refuse('/engine/bufferPool', 'the buffer pool size');
  if ((running.engine.statistics ?? true) !== (next.engine.statistics ?? true)) refuse('/engine/statistics', 'whether the data path counts statistics');
  if (running.control?.socket !== next.control?.socket) refuse('/control/socket', 'the control socket path');
  if (running.metrics?.listen !== next.metrics?.listen) refuse('/metrics/listen', 'the metrics endpoint');

  const removals: Step[] = [];
  const changes: Step[] = [];
  const additions: Step[] = [];

  // ---- devices ----
  const oldDevices = new Map(running.devices.map(d => [d.name, d]));
  const newDevices = new Map(next.devices.map(d => [d.name, d]));
  const deviceRemovals: Step[] = [];
  // A medium changer acts on its drives' units from the start (DevicePersonality.start) and keeps
  // its library in its state file: it is set up with the daemon, not added, removed or re-shaped live.
  for (const d of running.devices) {
    if (newDevices.has(d.name)) continue;
    if (d.library !== undefined) refuse('/devices', `removing the medium changer "${d.name}"`);
    else deviceRemovals.push({ op: 'device.remove', device: d });
  }
  next.devices.forEach((d, i) => {
    const o = oldDevices.get(d.name);
    if (o === undefined) {
      if (d.library !== undefined) refuse(jsonPointer('devices', i), `adding the medium changer "${d.name}"`);
      else additions.push({ op: 'device.add', device: d });
      return;
    }
    for (const f of FIXED_DEVICE_FIELDS) {
      if (o[f] !== d[f]) refuse(jsonPointer('devices', i, f), `the ${f} of device "${d.name}"`);
    }
    if (JSON.stringify(o.library) !== JSON.stringify(d.library)) refuse(jsonPointer('devices', i, 'library'), `the library of medium changer "${d.name}"`);
    // An rbd unit's image and cluster session are opened once; another image is another device.
    if (JSON.stringify(o.rbd) !== JSON.stringify(d.rbd)) refuse(jsonPointer('devices', i, 'image'), `the image of rbd device "${d.name}"`);
    // SPC-4 5.16: a running unit's access states change through alua.set (and are kept in the
    // state directory); its ALUA settings are read at start.
    if (JSON.stringify(o.alua) !== JSON.stringify(d.alua)) refuse(jsonPointer('devices', i, 'alua'), `the ALUA settings of device "${d.name}" (change states with alua.set)`);
    // Drives whose medium the host changes (CD/DVD-ROM, tape): a new path is a medium change.
    const hasMedium = deviceTypes.of(o).changeMedium !== undefined;
    if (o.path !== d.path) {
      if (hasMedium) changes.push({ op: 'device.medium', device: d.name, from: o.path, to: d.path });
      else refuse(jsonPointer('devices', i, 'path'), `the path of device "${d.name}"`);
    }
    // A CD/DVD's capacity is its medium's (MMC-6 READ CAPACITY): it follows the image.
    if (!hasMedium && o.sizeBytes !== d.sizeBytes) changes.push({ op: 'device.resize', device: d.name, from: o.sizeBytes, to: d.sizeBytes });
    if (o.writeCache !== d.writeCache) changes.push({ op: 'device.writeCache', device: d.name, from: o.writeCache, to: d.writeCache });
    if (o.readOnly !== d.readOnly) changes.push({ op: 'device.readOnly', device: d.name, from: o.readOnly, to: d.readOnly });
    if (INQUIRY_FIELDS.some(k => o[k] !== d[k])) {
      changes.push({ op: 'device.inquiry', device: d.name, from: inquiryOf(o), to: inquiryOf(d) });
    }
  });

  // ---- iSCSI parameters (for new sessions) ----
  const oldIscsi = running.iscsi as unknown as Record<string, IscsiValue | undefined>;
  const newIscsi = next.iscsi as unknown as Record<string, IscsiValue | undefined>;
  const keys = [...new Set([...Object.keys(oldIscsi), ...Object.keys(newIscsi)])].sort();
  for (const key of keys) {
    const from = oldIscsi[key];
    const to = newIscsi[key];
    if (!sameValue(from, to)) changes.push({ op: 'iscsi.set', key, from, to });
  }

  // ---- targets ----
  const oldTargets = new Map(running.targets.map(t => [t.name, t]));
  const newTargets = new Map(next.targets.map(t => [t.name, t]));
  const targetRemovals: Step[] = [];
  const mapRemovals: Step[] = [];
  const groupRemovals: Step[] = [];
  const portalRemovals: Step[] = [];
  const targetAdditions: Step[] = [];
  const portalAdditions: Step[] = [];
  const settings: Step[] = [];
  const groupAdditions: Step[] = [];
  const mapAdditions: Step[] = [];
  const disables: Step[] = [];
  const enables: Step[] = [];

  for (const t of running.targets) {
    if (newTargets.has(t.name)) continue;
    for (const g of t.groups) {
      for (const m of g.luns) mapRemovals.push({ op: 'lun.unmap', target: t.name, group: g.name, mapping: m });
      groupRemovals.push({ op: 'group.remove', target: t.name, group: bareGroup(g) });
    }
    for (const m of t.luns) mapRemovals.push({ op: 'lun.unmap', target: t.name, mapping: m });
    targetRemovals.push({ op: 'target.remove', target: bareTarget(t) });
  }

  next.targets.forEach((t, ti) => {
    const o = oldTargets.get(t.name);
    if (o === undefined) {
      targetAdditions.push({ op: 'target.add', target: bareTarget(t) });
      for (const g of t.groups) {
        groupAdditions.push({ op: 'group.add', target: t.name, group: bareGroup(g) });
        for (const m of g.luns) mapAdditions.push({ op: 'lun.map', target: t.name, group: g.name, mapping: m });
      }
      for (const m of t.luns) mapAdditions.push({ op: 'lun.map', target: t.name, mapping: m });
      return;
    }
    if (o.driver !== t.driver) refuse(jsonPointer('targets', ti, 'driver'), `the driver of target "${t.name}"`);
    // Open sessions know their target port group; the groups are read at start.
    if (JSON.stringify(o.portGroups) !== JSON.stringify(t.portGroups)) refuse(jsonPointer('targets', ti, 'portGroups'), `the target port groups of target "${t.name}"`);
    for (const p of o.portals) if (!t.portals.includes(p)) portalRemovals.push({ op: 'portal.remove', target: t.name, portal: p });
    for (const p of t.portals) if (!o.portals.includes(p)) portalAdditions.push({ op: 'portal.add', target: t.name, portal: p });
    if (o.alias !== t.alias) settings.push({ op: 'target.alias', target: t.name, from: o.alias, to: t.alias });
    // Disabled first (before its maps change), enabled last (once everything it exports is there).
    if (o.enabled !== false && t.enabled === false) disables.push({ op: 'target.disable', target: t.name });
    if (o.enabled === false && t.enabled !== false) enables.push({ op: 'target.enable', target: t.name });
    for (const scope of ['auth', 'discoveryAuth'] as const) {
      if (!sameAuth(o[scope], t[scope])) settings.push({ op: 'auth.set', target: t.name, scope, from: o[scope], to: t[scope] });
    }
    diffMap(t.name, undefined, o.luns, t.luns, mapRemovals, mapAdditions);
    const oldGroups = new Map(o.groups.map(g => [g.name, g]));
    const newGroups = new Map(t.groups.map(g => [g.name, g]));
    for (const g of o.groups) {
      if (newGroups.has(g.name)) continue;
      for (const m of g.luns) mapRemovals.push({ op: 'lun.unmap', target: t.name, group: g.name, mapping: m });
      groupRemovals.push({ op: 'group.remove', target: t.name, group: bareGroup(g) });
    }
    for (const g of t.groups) {
      const og = oldGroups.get(g.name);
      if (og === undefined) {
        groupAdditions.push({ op: 'group.add', target: t.name, group: bareGroup(g) });
        for (const m of g.luns) mapAdditions.push({ op: 'lun.map', target: t.name, group: g.name, mapping: m });
        continue;
      }
      if (!sameList(og.initiators, g.initiators)) {
        groupAdditions.push({ op: 'group.initiators', target: t.name, group: g.name, from: og.initiators, to: g.initiators });
      }
      if (!sameAuth(og.auth, g.auth)) settings.push({ op: 'auth.set', target: t.name, group: g.name, scope: 'auth', from: og.auth, to: g.auth });
      diffMap(t.name, g.name, og.luns, g.luns, mapRemovals, mapAdditions);
    }
  });

  if (errors.length > 0) return { ok: false, errors };
  removals.push(...disables, ...mapRemovals, ...groupRemovals, ...portalRemovals, ...targetRemovals, ...deviceRemovals);
  const devicesAdded = additions.splice(0);
  additions.push(...devicesAdded, ...targetAdditions, ...portalAdditions, ...settings, ...groupAdditions, ...mapAdditions, ...enables);
  return { ok: true, steps: [...removals, ...changes, ...additions] };
}

function inquiryOf(d: DeviceConfig): InquiryFields {
  const out: { -readonly [K in keyof InquiryFields]: InquiryFields[K] } = {};
  for (const k of INQUIRY_FIELDS) if (d[k] !== undefined) out[k] = d[k];
  return out;
}

/** LUN by LUN: gone or changed is an unmap; new or changed is a map. */
function diffMap(target: string, group: string | undefined, from: readonly LunMapping[], to: readonly LunMapping[], out: Step[], into: Step[]): void {
  const before = new Map(from.map(m => [m.lun, m]));
  const after = new Map(to.map(m => [m.lun, m]));
  const g = group === undefined ? {} : { group };
  for (const m of from) {
    const n = after.get(m.lun);
    if (n === undefined || n.device !== m.device || n.readOnly !== m.readOnly) out.push({ op: 'lun.unmap', target, ...g, mapping: m });
  }
  for (const m of to) {
    const o = before.get(m.lun);
    if (o === undefined || o.device !== m.device || o.readOnly !== m.readOnly) into.push({ op: 'lun.map', target, ...g, mapping: m });
  }
}

function bareTarget(t: TargetConfig): BareTarget {
  const { luns: _l, groups: _g, ...bare } = t;
  return { ...bare, portals: [...t.portals] };
}

function bareGroup(g: GroupConfig): BareGroup {
  const { luns: _l, ...bare } = g;
  return { ...bare, initiators: [...g.initiators] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameValue(a: IscsiValue | undefined, b: IscsiValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return sameList(a, b);
  return a === b;
}

function sameChap(a: { user: string; secret: string } | undefined, b: { user: string; secret: string } | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.user === b.user && a.secret === b.secret);
}

function sameAuth(a: AuthConfig | undefined, b: AuthConfig | undefined): boolean {
  return sameChap(a?.chap, b?.chap) && sameChap(a?.mutualChap, b?.mutualChap);
}
