// The control methods that change the configuration (docs/control.md). config.apply takes a whole
// topology; every other method is a copy of the running topology with one object changed, applied
// by the same transaction (config-apply.ts), so there is one mechanism and one set of messages.
// config.save writes the running topology to the topology file (config-save.ts).

import type { Topology } from '../../engine/topology';
import { topologyFileSchema } from '../config/schema';
import { topologyDocument } from './config-document';
import type { ConfigTransactions, StepProgress } from './config-apply';
import { saveTopologyFile } from './config-save';
import { ControlMethod, callerFields, controlError, defineMethod, type ControlCaller } from './methods';
import { ControlErrorCode, pointer } from './protocol';

type Doc = Record<string, unknown>;
type Obj = Record<string, unknown>;

const defs = topologyFileSchema.$defs;
/** The file schema's pieces, with their $refs resolvable inside a params schema. */
const withDefs = <T extends object>(s: T): T & { $defs: typeof defs } => ({ ...s, $defs: defs });
const name = { type: 'string', minLength: 1 } as const;
const dryRun = { type: 'boolean' } as const;
/** Send a `progress` notification as each step of the change is done (docs/control.md). */
const progress = { type: 'boolean' } as const;

function notFound(path: string, message: string): never {
  throw controlError(ControlErrorCode.NOT_FOUND, message, [{ path, message }]);
}

const list = (o: Obj, key: string): Obj[] => {
  if (!Array.isArray(o[key])) o[key] = [];
  return o[key] as Obj[];
};

function deviceIn(doc: Doc, device: string): Obj {
  return list(doc, 'devices').find(d => d.name === device) ?? notFound('/params/name', `no device "${device}"`);
}

function targetIn(doc: Doc, target: string, at = '/params/target'): Obj {
  return list(doc, 'targets').find(t => t.name === target) ?? notFound(at, `no target "${target}"`);
}

function groupIn(t: Obj, group: string, at = '/params/group'): Obj {
  return list(t, 'groups').find(g => g.name === group) ?? notFound(at, `target "${String(t.name)}" has no group "${group}"`);
}

/** The LUN map a method names: the target's default one, or a group's. */
function mapIn(doc: Doc, target: string, group: string | undefined): Obj[] {
  const t = targetIn(doc, target);
  return group === undefined ? list(t, 'luns') : list(groupIn(t, group), 'luns');
}

/** Where a change reports its steps: the requesting client, when it asked (`progress: true`). */
function progressOf(p: { progress?: boolean }, caller: ControlCaller): ((s: StepProgress) => void) | undefined {
  const notify = caller.notify;
  if (p.progress !== true || notify === undefined) return undefined;
  return (s) => notify('progress', { ...s });
}

export interface ConfigMethodsOptions {
  readonly tx: ConfigTransactions;
  /** The topology file config.save writes; undefined when the daemon serves the built-in default. */
  readonly file: string | undefined;
}

export function configMethods(o: ConfigMethodsOptions): ControlMethod[] {
  const { tx } = o;
  const doc = (t: Topology): Doc => topologyDocument(t, { secrets: true });
  const change = (edit: (d: Doc) => void, p: { dryRun?: boolean; progress?: boolean }, caller: ControlCaller) =>
    tx.edit(doc, edit, { ...callerFields(caller), at: '/params', dryRun: p.dryRun, progress: progressOf(p, caller) });

  return [
    defineMethod<{ topology: unknown; dryRun?: boolean; progress?: boolean }>('config.apply',
      'apply a whole topology as one transaction (the steps are returned; dryRun: only computed)', {
        type: 'object', additionalProperties: false, required: ['topology'],
        properties: { topology: { type: 'object' }, dryRun, progress },
      }, (p, caller) => tx.apply(p.topology, { ...callerFields(caller), at: '/params/topology', dryRun: p.dryRun, progress: progressOf(p, caller) })),

    defineMethod<{ device: Obj; dryRun?: boolean; progress?: boolean }>('device.add', 'add a device (a topology "devices" entry)', withDefs({
      type: 'object', additionalProperties: false, required: ['device'], properties: { device: { $ref: '#/$defs/device' }, dryRun, progress },
    }) as never, (p, caller) => change(d => { list(d, 'devices').push(p.device); }, p, caller)),

    defineMethod<{ name: string; dryRun?: boolean; progress?: boolean }>('device.remove', 'remove a device no LUN maps', {
      type: 'object', additionalProperties: false, required: ['name'], properties: { name, dryRun, progress },
    }, (p, caller) => change(d => {
      deviceIn(d, p.name);
      for (const [ti, t] of list(d, 'targets').entries()) {
        const maps = [{ at: pointer('targets', ti, 'luns'), luns: list(t, 'luns') }, ...list(t, 'groups').map((g, gi) => ({ at: pointer('targets', ti, 'groups', gi, 'luns'), luns: list(g, 'luns') }))];
        for (const m of maps) {
          if (m.luns.some(l => l.device === p.name)) {
            throw controlError(ControlErrorCode.INVALID_PARAMS, `device "${p.name}" is still mapped`, [{ path: '/params/name', message: `device "${p.name}" is still mapped at ${m.at}: unmap it first` }]);
          }
        }
      }
      d.devices = list(d, 'devices').filter(x => x.name !== p.name);
    }, p, caller)),

    defineMethod<{ name: string; size: string | number; dryRun?: boolean; progress?: boolean }>('device.resize', 'change the capacity of a device (CAPACITY DATA HAS CHANGED)', {
      type: 'object', additionalProperties: false, required: ['name', 'size'],
      properties: { name, size: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }] }, dryRun, progress },
    }, (p, caller) => change(d => { deviceIn(d, p.name).size = p.size; }, p, caller)),

    defineMethod<{ name: string; writeCache?: string; readOnly?: boolean; vendor?: string; product?: string; revision?: string; serial?: string; dryRun?: boolean; progress?: boolean }>(
      'device.set', 'change the write cache mode, read-only flag or INQUIRY fields (vendor, product, revision, serial) of a device', {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: {
          name, writeCache: { enum: ['writeback', 'writethrough'] }, readOnly: { type: 'boolean' },
          // The topology's patterns are checked by the loader (same messages as at start-up).
          vendor: { type: 'string' }, product: { type: 'string' }, revision: { type: 'string' }, serial: { type: 'string' }, dryRun, progress,
        },
      }, (p, caller) => change(d => {
        const dev = deviceIn(d, p.name);
        if (p.writeCache !== undefined) dev.writeCache = p.writeCache;
        if (p.readOnly !== undefined) dev.readOnly = p.readOnly;
        for (const k of ['vendor', 'product', 'revision', 'serial'] as const) if (p[k] !== undefined) dev[k] = p[k];
      }, p, caller)),

    defineMethod<{ name: string; path?: string; dryRun?: boolean; progress?: boolean }>('device.medium', 'load a medium into a removable device (path), or eject it (no path)', {
      type: 'object', additionalProperties: false, required: ['name'], properties: { name, path: { type: 'string', minLength: 1 }, dryRun, progress },
    }, (p, caller) => change(d => {
      const dev = deviceIn(d, p.name);
      if (p.path === undefined) delete dev.path;
      else dev.path = p.path;
    }, p, caller)),

    defineMethod<{ target: Obj; dryRun?: boolean; progress?: boolean }>('target.add', 'add a target (a topology "targets" entry)', withDefs({
      type: 'object', additionalProperties: false, required: ['target'], properties: { target: { $ref: '#/$defs/target' }, dryRun, progress },
    }) as never, (p, caller) => change(d => { list(d, 'targets').push(p.target); }, p, caller)),

    defineMethod<{ name: string; dryRun?: boolean; progress?: boolean }>('target.remove', 'remove a target: its sessions are logged out', {
      type: 'object', additionalProperties: false, required: ['name'], properties: { name, dryRun, progress },
    }, (p, caller) => change(d => {
      targetIn(d, p.name, '/params/name');
      d.targets = list(d, 'targets').filter(t => t.name !== p.name);
    }, p, caller)),

    defineMethod<{ name: string; dryRun?: boolean; progress?: boolean }>('target.enable', 'take new logins to a disabled target again', {
      type: 'object', additionalProperties: false, required: ['name'], properties: { name, dryRun, progress },
    }, (p, caller) => change(d => { delete targetIn(d, p.name, '/params/name').enabled; }, p, caller)),

    defineMethod<{ name: string; dryRun?: boolean; progress?: boolean }>('target.disable', 'refuse new logins to a target and log out its sessions; discovery stops listing it', {
      type: 'object', additionalProperties: false, required: ['name'], properties: { name, dryRun, progress },
    }, (p, caller) => change(d => { targetIn(d, p.name, '/params/name').enabled = false; }, p, caller)),

    defineMethod<{ target: string; group?: string; lun: number; device: string; readOnly?: boolean; dryRun?: boolean; progress?: boolean }>('lun.map',
      'map a device at a LUN of a target (or of one of its groups)', {
        type: 'object', additionalProperties: false, required: ['target', 'lun', 'device'],
        properties: { target: name, group: name, lun: { type: 'integer', minimum: 0, maximum: 16383 }, device: name, readOnly: { type: 'boolean' }, dryRun, progress },
      }, (p, caller) => change(d => {
        const map = mapIn(d, p.target, p.group);
        if (map.some(m => m.lun === p.lun)) {
          throw controlError(ControlErrorCode.INVALID_PARAMS, `LUN ${p.lun} is already mapped`, [{ path: '/params/lun', message: `LUN ${p.lun} is already mapped: unmap it first` }]);
        }
        map.push({ lun: p.lun, device: p.device, ...(p.readOnly !== undefined ? { readOnly: p.readOnly } : {}) });
      }, p, caller)),

    defineMethod<{ target: string; group?: string; lun: number; dryRun?: boolean; progress?: boolean }>('lun.unmap', 'unmap a LUN (REPORTED LUNS DATA HAS CHANGED)', {
      type: 'object', additionalProperties: false, required: ['target', 'lun'],
      properties: { target: name, group: name, lun: { type: 'integer', minimum: 0, maximum: 16383 }, dryRun, progress },
    }, (p, caller) => change(d => {
      const map = mapIn(d, p.target, p.group);
      const i = map.findIndex(m => m.lun === p.lun);
      if (i < 0) notFound('/params/lun', `LUN ${p.lun} is not mapped`);
      map.splice(i, 1);
    }, p, caller)),

    defineMethod<{ target: string; group: Obj; dryRun?: boolean; progress?: boolean }>('group.add', 'add a group (initiator patterns, LUN map, auth) to a target', withDefs({
      type: 'object', additionalProperties: false, required: ['target', 'group'], properties: { target: name, group: { $ref: '#/$defs/group' }, dryRun, progress },
    }) as never, (p, caller) => change(d => { list(targetIn(d, p.target), 'groups').push(p.group); }, p, caller)),

    defineMethod<{ target: string; name: string; dryRun?: boolean; progress?: boolean }>('group.remove', 'remove a group with its LUN map; its sessions are logged out', {
      type: 'object', additionalProperties: false, required: ['target', 'name'], properties: { target: name, name, dryRun, progress },
    }, (p, caller) => change(d => {
      const t = targetIn(d, p.target);
      groupIn(t, p.name, '/params/name');
      t.groups = list(t, 'groups').filter(g => g.name !== p.name);
    }, p, caller)),

    defineMethod<{ target: string; name: string; initiators: string[]; dryRun?: boolean; progress?: boolean }>('group.set', 'replace the initiator patterns of a group', {
      type: 'object', additionalProperties: false, required: ['target', 'name', 'initiators'],
      properties: { target: name, name, initiators: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 223 } }, dryRun, progress },
    }, (p, caller) => change(d => { groupIn(targetIn(d, p.target), p.name, '/params/name').initiators = p.initiators; }, p, caller)),

    defineMethod<{ target: string; group?: string; discovery?: boolean; auth: Obj | null; dryRun?: boolean; progress?: boolean }>('auth.set',
      'CHAP (and mutual CHAP) of a target, a group, or discovery; null removes it; for new logins', withDefs({
        type: 'object', additionalProperties: false, required: ['target', 'auth'],
        properties: { target: name, group: name, discovery: { type: 'boolean' }, auth: { anyOf: [{ $ref: '#/$defs/auth' }, { type: 'null' }] }, dryRun, progress },
      }) as never, (p, caller) => change(d => {
        const t = targetIn(d, p.target);
        if (p.discovery === true && p.group !== undefined) {
          throw controlError(ControlErrorCode.INVALID_PARAMS, 'discovery CHAP is per target', [{ path: '/params/group', message: 'discovery CHAP is per target, not per group' }]);
        }
        const holder = p.group !== undefined ? groupIn(t, p.group) : t;
        const key = p.discovery === true ? 'discoveryAuth' : 'auth';
        if (p.auth === null) delete holder[key];
        else holder[key] = p.auth;
      }, p, caller)),

    defineMethod<{ settings: Obj; dryRun?: boolean; progress?: boolean }>('iscsi.set', 'change iSCSI parameters ("iscsi" section keys) for new sessions', {
      type: 'object', additionalProperties: false, required: ['settings'], properties: { settings: { type: 'object' }, dryRun, progress },
    }, (p, caller) => change(d => {
      const iscsi = (typeof d.iscsi === 'object' && d.iscsi !== null ? d.iscsi : {}) as Obj;
      d.iscsi = { ...iscsi, ...p.settings };
    }, p, caller)),

    defineMethod<Record<string, never>>('config.save', 'write the running topology to the topology file (atomically, the previous one kept as <file>.bak)', {
      type: 'object', additionalProperties: false, properties: {},
    }, async () => {
      if (o.file === undefined) {
        throw controlError(ControlErrorCode.SAVE_FAILED, 'the daemon serves the built-in default topology: there is no topology file to save to', [{ path: '', message: 'no topology file' }]);
      }
      try {
        const bytes = await saveTopologyFile(o.file, topologyDocument(tx.running, { secrets: true }));
        return { file: o.file, backup: `${o.file}.bak`, bytes };
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw controlError(ControlErrorCode.SAVE_FAILED, `cannot save ${o.file}: ${err.code ?? err.message}`, [{ path: '', message: err.message }]);
      }
    }),
  ];
}
