// A diff step (topology-diff.ts) applied to the topology model, without touching the daemon.
// config.apply uses it when an undo failed: the running topology then takes in the steps whose
// undo failed, so that config.get keeps saying what the daemon really runs.

import { INQUIRY_FIELDS } from '../../engine/logical-unit';
import type { DeviceConfig, GroupConfig, TargetConfig, Topology } from '../../engine/topology';
import { NexusError } from '../../engine/result';
import type { Step } from './topology-diff';

function targetOf(t: Topology, name: string): TargetConfig {
  const tg = t.targets.find(x => x.name === name);
  if (!tg) throw new NexusError('ERR_TOPOLOGY', `no target "${name}"`);
  return tg;
}

function groupOf(tg: TargetConfig, name: string): GroupConfig {
  const g = tg.groups.find(x => x.name === name);
  if (!g) throw new NexusError('ERR_TOPOLOGY', `target "${tg.name}" has no group "${name}"`);
  return g;
}

function deviceOf(t: Topology, name: string): DeviceConfig {
  const d = t.devices.find(x => x.name === name);
  if (!d) throw new NexusError('ERR_TOPOLOGY', `no device "${name}"`);
  return d;
}

/** A deep copy (sizes are bigint, so not through JSON). */
export function copyTopology(t: Topology): Topology {
  return structuredClone(t);
}

/** `t` with `s` applied (a new object; `t` is left alone). */
export function applyStepToTopology(t: Topology, s: Step): Topology {
  const out = copyTopology(t);
  switch (s.op) {
    case 'device.add': out.devices.push(structuredClone(s.device)); break;
    case 'device.remove': out.devices = out.devices.filter(d => d.name !== s.device.name); break;
    case 'device.resize': deviceOf(out, s.device).sizeBytes = s.to; break;
    case 'device.writeCache': deviceOf(out, s.device).writeCache = s.to; break;
    case 'device.readOnly': deviceOf(out, s.device).readOnly = s.to; break;
    case 'device.inquiry': {
      const d = deviceOf(out, s.device);
      for (const k of INQUIRY_FIELDS) {
        const v = s.to[k];
        if (v === undefined) delete d[k];
        else d[k] = v;
      }
      break;
    }
    case 'device.medium': {
      const d = deviceOf(out, s.device);
      if (s.to === undefined) delete d.path;
      else d.path = s.to;
      break;
    }
    case 'target.add': out.targets.push({ ...structuredClone(s.target), luns: [], groups: [] }); break;
    case 'target.remove': out.targets = out.targets.filter(x => x.name !== s.target.name); break;
    case 'target.alias': {
      const tg = targetOf(out, s.target);
      if (s.to === undefined) delete tg.alias;
      else tg.alias = s.to;
      break;
    }
    case 'target.enable': delete targetOf(out, s.target).enabled; break;
    case 'target.disable': targetOf(out, s.target).enabled = false; break;
    case 'portal.add': targetOf(out, s.target).portals.push(s.portal); break;
    case 'portal.remove': {
      const tg = targetOf(out, s.target);
      tg.portals = tg.portals.filter(p => p !== s.portal);
      break;
    }
    case 'lun.map': {
      const tg = targetOf(out, s.target);
      const map = s.group === undefined ? tg.luns : groupOf(tg, s.group).luns;
      map.push({ ...s.mapping });
      map.sort((a, b) => a.lun - b.lun);
      break;
    }
    case 'lun.unmap': {
      const tg = targetOf(out, s.target);
      if (s.group === undefined) tg.luns = tg.luns.filter(m => m.lun !== s.mapping.lun);
      else {
        const g = groupOf(tg, s.group);
        g.luns = g.luns.filter(m => m.lun !== s.mapping.lun);
      }
      break;
    }
    case 'group.add': targetOf(out, s.target).groups.push({ ...structuredClone(s.group), luns: [] }); break;
    case 'group.remove': {
      const tg = targetOf(out, s.target);
      tg.groups = tg.groups.filter(g => g.name !== s.group.name);
      break;
    }
    case 'group.initiators': groupOf(targetOf(out, s.target), s.group).initiators = [...s.to]; break;
    case 'auth.set': {
      const tg = targetOf(out, s.target);
      const holder: { auth?: TargetConfig['auth']; discoveryAuth?: TargetConfig['discoveryAuth'] } = s.group === undefined ? tg : groupOf(tg, s.group);
      if (s.to === undefined) delete holder[s.scope];
      else holder[s.scope] = structuredClone(s.to);
      break;
    }
    case 'iscsi.set': {
      const iscsi = out.iscsi as unknown as Record<string, unknown>;
      if (s.to === undefined) delete iscsi[s.key];
      else iscsi[s.key] = Array.isArray(s.to) ? [...s.to] : s.to;
      break;
    }
  }
  return out;
}
