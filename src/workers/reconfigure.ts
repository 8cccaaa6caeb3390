// Live reconfiguration of the mesh (issue 10): one change to the topology, carried to every member
// on the control plane (`reconfigure`, answered by `reconfigured`) and applied there to the
// member's Engine, LUN actors and ThreadEngine, so that every thread keeps the same LUN maps
// (lun-actor.ts: placeholders for units homed elsewhere) and routes to the same homes.
//
// A change travels as plain data (ConfigValue: sizes as decimal strings) and is shape-checked on
// arrival, like every other control message.

import type { DeviceConfig, GroupConfig, TargetConfig } from '../engine/topology';
import type { Engine } from '../engine/engine';
import type { InquiryFields } from '../engine/logical-unit';
import type { ConfigValue } from './messages';
import type { LunActorHost } from './lun-actor';
import type { ThreadEngine } from './thread-engine';

/** A device as a change carries it: DeviceConfig with the size as a decimal string. */
export type DeviceData = Omit<DeviceConfig, 'sizeBytes'> & { readonly sizeBytes: string };
type Bare<T> = { readonly [K in keyof T]: T[K] };

export type MeshChange =
  /** A new unit at mesh index `index`, homed on member `home`. */
  | { readonly kind: 'addUnit'; readonly device: DeviceData; readonly index: number; readonly home: number }
  | { readonly kind: 'removeUnit'; readonly device: string; readonly index: number }
  | { readonly kind: 'resize'; readonly device: string; readonly sizeBytes: string }
  | { readonly kind: 'writeCache'; readonly device: string; readonly mode: DeviceConfig['writeCache'] }
  | { readonly kind: 'readOnly'; readonly device: string; readonly readOnly: boolean }
  /** The INQUIRY fields a unit answers with; an absent one takes its default. */
  | { readonly kind: 'inquiry'; readonly device: string; readonly fields: InquiryFields }
  /** '' ejects the medium. */
  | { readonly kind: 'medium'; readonly device: string; readonly path: string }
  /** `group` '' is the target's default map. */
  | { readonly kind: 'mapLun'; readonly target: string; readonly group: string; readonly lun: number; readonly device: string; readonly readOnly: boolean }
  | { readonly kind: 'unmapLun'; readonly target: string; readonly group: string; readonly lun: number }
  | { readonly kind: 'addTarget'; readonly target: Bare<Omit<TargetConfig, 'luns' | 'groups'>> }
  | { readonly kind: 'updateTarget'; readonly target: Bare<Omit<TargetConfig, 'luns' | 'groups'>> }
  | { readonly kind: 'removeTarget'; readonly target: string }
  | { readonly kind: 'addGroup'; readonly target: string; readonly group: Bare<Omit<GroupConfig, 'luns'>> }
  | { readonly kind: 'removeGroup'; readonly target: string; readonly group: string }
  /** `auth` null removes the group's own CHAP; absent leaves it. */
  | { readonly kind: 'updateGroup'; readonly target: string; readonly group: string; readonly initiators?: readonly string[]; readonly auth?: GroupConfig['auth'] | null };

export type MeshChangeKind = MeshChange['kind'];

const KINDS: ReadonlySet<string> = new Set<MeshChangeKind>([
  'addUnit', 'removeUnit', 'resize', 'writeCache', 'readOnly', 'inquiry', 'medium', 'mapLun', 'unmapLun', 'addTarget', 'updateTarget', 'removeTarget',
  'addGroup', 'removeGroup', 'updateGroup',
]);

/** The change as a control-message value. */
export function encodeMeshChange(c: MeshChange): ConfigValue {
  return JSON.parse(JSON.stringify(c)) as ConfigValue;
}

/** The change a `reconfigure` message carries, or why it is not one. */
export function decodeMeshChange(v: ConfigValue): MeshChange | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a mesh change is an object';
  const kind = (v as { readonly [k: string]: ConfigValue }).kind;
  if (typeof kind !== 'string' || !KINDS.has(kind)) return `unknown mesh change ${String(kind)}`;
  // The sender is the supervisor of this process, which built it from a validated topology: the
  // kind is checked here, the engine checks names and numbers as it applies the change.
  return v as unknown as MeshChange;
}

export function deviceData(d: DeviceConfig): DeviceData {
  return { ...d, sizeBytes: d.sizeBytes.toString() };
}

function deviceConfig(d: DeviceData): DeviceConfig {
  return { ...d, sizeBytes: BigInt(d.sizeBytes) };
}

/**
 * The Engine's part of `c` (the supervisor's directory applies only this): LUN maps, targets,
 * groups, units. `addUnit` opens the unit through the Engine's own backstore opener.
 */
export async function applyEngineChange(engine: Engine, c: MeshChange): Promise<void> {
  switch (c.kind) {
    case 'addUnit': await engine.addDevice(deviceConfig(c.device)); break;
    case 'removeUnit': await engine.removeDevice(c.device); break;
    case 'resize': await engine.resizeDevice(c.device, BigInt(c.sizeBytes)); break;
    case 'writeCache': await engine.setWriteCache(c.device, c.mode); break;
    case 'readOnly': await engine.setReadOnly(c.device, c.readOnly); break;
    case 'inquiry': engine.setInquiry(c.device, c.fields); break;
    case 'medium': await engine.changeMedium(c.device, c.path === '' ? undefined : c.path); break;
    case 'mapLun': engine.addLun(c.target, { lun: c.lun, device: c.device, readOnly: c.readOnly }, c.group === '' ? undefined : c.group); break;
    case 'unmapLun': engine.removeLun(c.target, c.lun, c.group === '' ? undefined : c.group); break;
    case 'addTarget': engine.addTarget({ ...c.target, portals: [...c.target.portals], luns: [], groups: [] }); break;
    case 'updateTarget': engine.updateTarget({ ...c.target, portals: [...c.target.portals] }); break;
    case 'removeTarget': await engine.removeTarget(c.target); break;
    case 'addGroup': engine.addGroup(c.target, { ...c.group, initiators: [...c.group.initiators] }); break;
    case 'removeGroup': engine.removeGroup(c.target, c.group); break;
    case 'updateGroup': engine.updateGroup(c.target, c.group, { initiators: c.initiators, auth: c.auth }); break;
  }
}

/** Applies `c` to a member of the mesh: its Engine, and its LUN actors and routes. */
export async function applyMeshChange(parts: { readonly lun: LunActorHost; readonly engine: ThreadEngine }, self: number, c: MeshChange): Promise<void> {
  switch (c.kind) {
    case 'addUnit':
      await parts.lun.addUnit(deviceConfig(c.device), c.index, c.home === self);
      parts.engine.addUnit(c.device.name, c.index, c.home);
      return;
    case 'removeUnit':
      await parts.lun.engine.removeDevice(c.device);
      parts.lun.removeUnit(c.device, c.index);
      parts.engine.removeUnit(c.device);
      return;
    default:
      await applyEngineChange(parts.lun.engine, c);
      // Sessions opened here whose map now reaches a unit on a thread they had no nexus on.
      if (c.kind === 'mapLun') parts.engine.unitsChanged();
  }
}
