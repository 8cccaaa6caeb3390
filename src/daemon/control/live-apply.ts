// The steps of config.apply (topology-diff.ts) carried out on the running daemon: the mesh of
// engine threads and the directory through Supervisor.reconfigure (src/workers/reconfigure.ts),
// the iSCSI listeners and settings, and the sessions a change no longer admits.
//
// Removal the SCST way: a LUN unmapped is gone for new commands at once, commands in flight on it
// finish, and every session that saw it gets REPORTED LUNS DATA HAS CHANGED (Engine.removeLun);
// a resized unit raises CAPACITY DATA HAS CHANGED (Engine.resizeDevice), a write cache change
// MODE PARAMETERS CHANGED (Engine.setWriteCache), a read-only change MODE PARAMETERS CHANGED too
// (the WP bit, Engine.setReadOnly: commands past the check finish, later writes get DATA
// PROTECT), new INQUIRY fields INQUIRY DATA HAS CHANGED (Engine.setInquiry). Sessions of a removed
// target, of a removed portal, or whose initiator a group change moves to another LUN map are asked
// to log out (RFC 7143 11.9.1 AsyncEvent 1) and dropped after LOGOUT_WAIT_MS; they log in again and
// get what the new topology gives them. Auth, aliases and iSCSI parameters are for new logins.

import { localPortalsOf, type TargetConfig, type Topology } from '../../engine/topology';
import { initiatorPattern } from '../../engine/lun-map';
import { isFabricDriver } from '../../../kernel-shim/fabrics';
import { NexusError } from '../../engine/result';
import type { IscsiServer } from '../../transports/iscsi/server';
import type { IscsiSettings } from '../../transports/iscsi/settings';
import { deviceData, type MeshChange } from '../../workers/reconfigure';
import type { Supervisor } from '../../workers/supervisor';
import type { Logger } from '../log';
import type { LiveApplier } from './config-apply';
import { LOGOUT_WAIT_MS, type DaemonControl, type SessionInfo } from './daemon-methods';
import type { Step } from './topology-diff';
import { applyStepToTopology } from './topology-steps';

export interface LiveParts {
  readonly running: Topology;
  readonly runtime: Supervisor;
  readonly iscsi: IscsiServer;
  /** The settings object the iSCSI server reads for every new connection. */
  readonly settings: IscsiSettings;
  readonly control: Pick<DaemonControl, 'sessions' | 'logout'>;
  readonly log: Logger;
}

function bare(t: TargetConfig): Omit<TargetConfig, 'luns' | 'groups'> {
  const { luns: _l, groups: _g, ...rest } = t;
  return rest;
}

export class DaemonLiveApplier implements LiveApplier {
  /** The topology as the steps carried out so far made it (forward and undo alike). */
  private model: Topology;
  /** The transaction's target topology (where new devices are placed). */
  private final: Topology;

  constructor(private readonly p: LiveParts) {
    this.model = p.running;
    this.final = p.running;
    for (const d of p.running.devices) if (d.readOnly) this.openedReadOnly.add(d.name);
  }

  /** Devices whose backing store was opened read-only (at start or when added): it stays so. */
  private readonly openedReadOnly = new Set<string>();

  begin(next: Topology): void { this.final = next; }

  refuses(s: Step): string | undefined {
    // DESIGN.md §8: a fabric target's LUNs, ACLs and port are LIO's configfs wiring, made at start
    // (kernel-shim/): changing them live would leave the kernel's view and the engine's apart.
    if ('target' in s) {
      const name = typeof s.target === 'string' ? s.target : s.target.name;
      const driver = typeof s.target === 'string' ? this.model.targets.find(t => t.name === name)?.driver : s.target.driver;
      if (isFabricDriver(driver)) return `target "${name}" is a fabric target, wired in LIO's configfs at start: restart the daemon to change it`;
    }
    switch (s.op) {
      case 'device.readOnly':
        return !s.to && this.openedReadOnly.has(s.device)
          ? `device "${s.device}" was opened read-only: its backing store cannot be written without opening it again; remove it and add it under a new name, or restart`
          : undefined;
      default: return undefined;
    }
  }

  readonly run = async (s: Step): Promise<void> => {
    const after = applyStepToTopology(this.model, s);
    await this.carryOut(s, after);
    this.model = after;
  };

  private mesh(change: MeshChange, undo: MeshChange, after: Topology): Promise<void> {
    return this.p.runtime.reconfigure(change, undo, after);
  }

  private targetOf(t: Topology, name: string): TargetConfig {
    const tg = t.targets.find(x => x.name === name);
    if (!tg) throw new NexusError('ERR_TOPOLOGY', `no target "${name}"`);
    return tg;
  }

  private async carryOut(s: Step, after: Topology): Promise<void> {
    const { runtime, iscsi } = this.p;
    switch (s.op) {
      case 'device.add': {
        const home = runtime.homeForNewDevice(s.device.name, this.final);
        const { index } = runtime.slotForNewDevice(home);
        const dev = deviceData(s.device);
        await this.mesh({ kind: 'addUnit', device: dev, index, home }, { kind: 'removeUnit', device: s.device.name, index }, after);
        if (s.device.readOnly) this.openedReadOnly.add(s.device.name);
        else this.openedReadOnly.delete(s.device.name);
        return;
      }
      case 'device.remove': {
        const index = runtime.meshIndexOf(s.device.name);
        const home = runtime.threadOf(s.device.name) ?? 0;
        await this.mesh({ kind: 'removeUnit', device: s.device.name, index }, { kind: 'addUnit', device: deviceData(s.device), index, home }, after);
        return;
      }
      case 'device.resize':
        await this.mesh(
          { kind: 'resize', device: s.device, sizeBytes: s.to.toString() }, { kind: 'resize', device: s.device, sizeBytes: s.from.toString() }, after,
        );
        return;
      case 'device.medium':
        await this.mesh({ kind: 'medium', device: s.device, path: s.to ?? '' }, { kind: 'medium', device: s.device, path: s.from ?? '' }, after);
        return;
      case 'device.writeCache':
        await this.mesh({ kind: 'writeCache', device: s.device, mode: s.to }, { kind: 'writeCache', device: s.device, mode: s.from }, after);
        return;
      case 'device.readOnly': {
        const refused = this.refuses(s);
        if (refused !== undefined) throw new NexusError('ERR_NOT_LIVE', refused);
        await this.mesh({ kind: 'readOnly', device: s.device, readOnly: s.to }, { kind: 'readOnly', device: s.device, readOnly: s.from }, after);
        return;
      }
      case 'device.inquiry':
        await this.mesh({ kind: 'inquiry', device: s.device, fields: s.to }, { kind: 'inquiry', device: s.device, fields: s.from }, after);
        return;
      case 'lun.map':
        await this.mesh(
          { kind: 'mapLun', target: s.target, group: s.group ?? '', lun: s.mapping.lun, device: s.mapping.device, readOnly: s.mapping.readOnly },
          { kind: 'unmapLun', target: s.target, group: s.group ?? '', lun: s.mapping.lun }, after,
        );
        return;
      case 'lun.unmap':
        await this.mesh(
          { kind: 'unmapLun', target: s.target, group: s.group ?? '', lun: s.mapping.lun },
          { kind: 'mapLun', target: s.target, group: s.group ?? '', lun: s.mapping.lun, device: s.mapping.device, readOnly: s.mapping.readOnly }, after,
        );
        return;
      case 'target.add': {
        await this.mesh({ kind: 'addTarget', target: s.target }, { kind: 'removeTarget', target: s.target.name }, after);
        const added: string[] = [];
        try {
          if (s.target.driver === 'iscsi') {
            for (const portal of localPortalsOf(s.target)) { await iscsi.addPortal(s.target.name, portal); added.push(portal); }
          }
        } catch (e) {
          for (const portal of added) iscsi.removePortal(s.target.name, portal);
          await this.mesh({ kind: 'removeTarget', target: s.target.name }, { kind: 'addTarget', target: s.target }, this.model);
          throw e;
        }
        iscsi.setTargets(after.targets);
        return;
      }
      case 'target.remove': {
        // Its sessions first: asked to log out, then dropped (their nexuses close with the target).
        await this.logoutWhere(x => x.target === s.target.name);
        for (const portal of localPortalsOf(s.target)) iscsi.removePortal(s.target.name, portal);
        iscsi.setTargets(after.targets);
        await this.mesh({ kind: 'removeTarget', target: s.target.name }, { kind: 'addTarget', target: s.target }, after);
        return;
      }
      case 'portal.add': {
        await iscsi.addPortal(s.target, s.portal);
        try {
          await this.updateTarget(s.target, after);
        } catch (e) {
          iscsi.removePortal(s.target, s.portal);
          throw e;
        }
        iscsi.setTargets(after.targets);
        return;
      }
      case 'portal.remove': {
        const address = iscsi.removePortal(s.target, s.portal);
        await this.updateTarget(s.target, after);
        iscsi.setTargets(after.targets);
        // Sessions logged in there are asked to log out: their connections close with them.
        if (address) await this.logoutWhere(x => x.target === s.target && portalIs(x.portal, address.host, address.port));
        return;
      }
      case 'target.disable':
        await this.updateTarget(s.target, after);
        iscsi.setTargets(after.targets);
        // SCST: a disabled target keeps no session.
        await this.logoutWhere(x => x.target === s.target);
        return;
      case 'target.enable':
      case 'target.alias':
        await this.updateTarget(s.target, after);
        iscsi.setTargets(after.targets);
        return;
      case 'auth.set':
        if (s.group === undefined) await this.updateTarget(s.target, after);
        else {
          await this.mesh(
            { kind: 'updateGroup', target: s.target, group: s.group, auth: s.to ?? null },
            { kind: 'updateGroup', target: s.target, group: s.group, auth: s.from ?? null }, after,
          );
        }
        iscsi.setTargets(after.targets);
        return;
      case 'group.add':
        await this.mesh({ kind: 'addGroup', target: s.target, group: s.group }, { kind: 'removeGroup', target: s.target, group: s.group.name }, after);
        iscsi.setTargets(after.targets);
        // Initiators the group now takes in leave the map they logged in with.
        await this.logoutWhere(x => x.target === s.target && matches(s.group.initiators, x.initiatorName));
        return;
      case 'group.remove':
        await this.mesh({ kind: 'removeGroup', target: s.target, group: s.group.name }, { kind: 'addGroup', target: s.target, group: s.group }, after);
        iscsi.setTargets(after.targets);
        await this.logoutWhere(x => x.target === s.target && matches(s.group.initiators, x.initiatorName));
        return;
      case 'group.initiators':
        await this.mesh(
          { kind: 'updateGroup', target: s.target, group: s.group, initiators: s.to },
          { kind: 'updateGroup', target: s.target, group: s.group, initiators: s.from }, after,
        );
        iscsi.setTargets(after.targets);
        await this.logoutWhere(x => x.target === s.target && matches(s.from, x.initiatorName) !== matches(s.to, x.initiatorName));
        return;
      case 'iscsi.set': {
        // The object every new connection reads (existing sessions keep what they negotiated).
        const settings = this.p.settings as unknown as Record<string, unknown>;
        if (s.to === undefined) delete settings[s.key];
        else settings[s.key] = Array.isArray(s.to) ? [...s.to] : s.to;
        return;
      }
    }
  }

  /** The target's settings (alias, portals, CHAP) in every engine as `after` has them. */
  private async updateTarget(name: string, after: Topology): Promise<void> {
    const next = bare(this.targetOf(after, name));
    const before = bare(this.targetOf(this.model, name));
    await this.mesh({ kind: 'updateTarget', target: next }, { kind: 'updateTarget', target: before }, after);
  }

  private async logoutWhere(pred: (s: SessionInfo) => boolean): Promise<void> {
    const sessions = this.p.control.sessions().filter(pred);
    if (sessions.length === 0) return;
    this.p.log.info({ sessions: sessions.map(x => ({ initiator: x.initiatorName, tsih: x.tsih, target: x.target })) }, 'configuration change: asking sessions to log out');
    await Promise.all(sessions.map(x => this.p.control.logout(x.tsih, LOGOUT_WAIT_MS)));
  }
}

function matches(patterns: readonly string[], initiator: string): boolean {
  return patterns.some(p => initiatorPattern(p).test(initiator));
}

/** Whether a session's portal ("address:port", "[v6]:port") is the listener at host:port. */
function portalIs(portal: string, host: string, port: number): boolean {
  const i = portal.lastIndexOf(':');
  if (i < 0) return false;
  const h = portal.slice(0, i).replace(/^\[|\]$/g, '');
  return Number(portal.slice(i + 1)) === port && (h === host || host === '0.0.0.0' || host === '::');
}
