import { SENSE, SenseCondition } from './spec/asc';
import { buildSense } from './sense';
import { senseFormatOf } from './pipeline';
import type { AsyncEventReport } from './command';
import { CommandRequest, CompletionCallback, TmfRequest } from './command';
import { TmfResponse } from './spec/status';
import { LunMap } from './lun-map';
import { NexusView } from './types';
import { runPipeline, Logger } from './pipeline';
import { executeTmf, TmfTarget } from './tmf';
import { deviceTypes } from './device-registry';
import type { LogicalUnit } from './logical-unit';
import { portGroupsOf, targetPortOf, type TargetConfig } from './topology';
import type { TargetPortGroupView, TargetPortView } from './types';
import { releaseSpc2 } from './shared-reservations';

export interface NexusIdentity {
  targetName: string;
  initiatorName: string;
  /** Transport-specific initiator port suffix, e.g. the iSCSI ISID as 12 hex digits. */
  isid?: string;
  /** iSCSI Target Portal Group Tag (the iSCSI target port name's suffix, RFC 7143 4.4.1). */
  tpgt?: number;
  /**
   * The portal the nexus came in on, as the topology spells it: it names the target port, whose
   * relative target port identifier and target port group the engine looks up (SPC-4 5.16.2.1).
   */
  portal?: string;
}

/** SPC-4 7.6.4.6 / RFC 7143 4.4.1: the iSCSI target port name, "<target name>,t,0x<TPGT>". */
function targetPortName(targetName: string, tpgt: number): string {
  return `${targetName},t,0x${tpgt.toString(16).padStart(4, '0')}`;
}

/** The identity of an I_T nexus in unit attention and reservation state (SAM-5 4.7). */
function itKeyOf(initiatorPort: string, targetPort: string): string {
  return `${initiatorPort}|${targetPort}`;
}

/** What a nexus needs of the engine that opened it. */
export interface NexusHost extends TmfTarget {
  /** The nexus closed: the engine stops fanning events out to it. */
  forgetNexus(n: ItNexus): void;
}

/**
 * An I_T nexus (SAM-5 4.7): one initiator port talking to one target port. Holds the LUN map this
 * initiator sees; commands and task management enter the engine here.
 */
export class ItNexus implements NexusView {
  readonly initiatorPort: string;
  readonly targetPort: string;
  /** Key of this I_T nexus in unit attention and reservation state. */
  readonly itKey: string;
  readonly relativeTargetPortId: number;
  readonly targetPortGroupId: number;
  readonly portGroups: readonly TargetPortGroupView[];
  readonly targetPorts: readonly TargetPortView[];
  private closed = false;
  /** See NexusApi.onAsyncEvent. */
  onAsyncEvent: ((e: AsyncEventReport) => void) | undefined;
  /**
   * Set by whoever holds a nexus on behalf of a session elsewhere (the engine thread homing a unit
   * for a session on another thread): told which unit established the condition, before the
   * report is built, and may decline it (a placeholder's condition is the home thread's to report).
   */
  reportsFor: ((lu: LogicalUnit) => boolean) | undefined;
  /** Reports made in this turn, not yet delivered (deduplicated per condition, see unitAttention). */
  private pendingReports: Array<{ key: string; lun: number; lu: LogicalUnit; cond: SenseCondition }> | undefined;

  constructor(
    readonly id: number,
    readonly ident: NexusIdentity,
    readonly map: LunMap,
    private readonly engine: NexusHost,
    private readonly log?: Logger,
    target?: Pick<TargetConfig, 'portals' | 'portGroups'>,
  ) {
    const t = target ?? { portals: [] };
    // SPC-4 5.16.2.1, RFC 7143 4.4.1: the portal the nexus came in on belongs to one target portal
    // group, which is its target port: the group's id is the TPGT in the target port name, the
    // relative target port identifier and the target port group.
    const port = targetPortOf(t, ident.portal);
    const tpgt = ident.tpgt ?? port.targetPortGroupId;
    this.initiatorPort = ident.isid !== undefined ? `${ident.initiatorName},i,0x${ident.isid}` : ident.initiatorName;
    this.targetPort = targetPortName(ident.targetName, tpgt);
    this.itKey = itKeyOf(this.initiatorPort, this.targetPort);
    this.relativeTargetPortId = port.relativeTargetPortId;
    this.targetPortGroupId = port.targetPortGroupId;
    const groups = portGroupsOf(t);
    this.portGroups = groups.map(g => ({ id: g.id, relativeTargetPortIds: [g.id] }));
    this.targetPorts = groups.map(g => ({ relativeTargetPortId: g.id, name: targetPortName(ident.targetName, g.id) }));
  }

  /**
   * SPC-4 3.1.121: the I_T nexus of `initiatorPort` with the target port `relativeTargetPortId`.
   * Each target portal group of the target is one target port, named by its tag (RFC 7143 4.4.1).
   */
  nexusKeyAt(initiatorPort: string, relativeTargetPortId: number): string | undefined {
    const port = this.targetPorts.find(p => p.relativeTargetPortId === relativeTargetPortId);
    return port === undefined ? undefined : itKeyOf(initiatorPort, port.name);
  }

  get initiatorName(): string { return this.ident.initiatorName; }
  get targetName(): string { return this.ident.targetName; }
  get isClosed(): boolean { return this.closed; }

  luns(): number[] { return this.map.sortedLuns(); }

  units(): LogicalUnit[] { return [...new Set([...this.map.entries.values()].map(m => m.lu))]; }

  /** Attach to each unit of the map: a new I_T_L nexus starts with POWER ON, RESET (SPC-4 5.14). */
  attach(lu: LogicalUnit): void {
    lu.nexusKeys.set(this.id, this.itKey);
    if (!lu.ua.has(this.itKey)) lu.ua.queue(this.itKey).add(SENSE.POWER_ON_RESET);
    lu.ua.attached(this.itKey);
  }

  /**
   * `cond` (one of ANNOUNCED_CONDITIONS) was newly established for this nexus on `lu`: reported to
   * the transport once the current turn is done, so that a change touching several units (a LUN
   * mapped: REPORTED LUNS DATA HAS CHANGED on each unit the nexus sees) makes one report. The
   * inventory change concerns the whole nexus, so it is reported once, at the lowest LUN; the
   * others once per LUN the unit is mapped at.
   */
  unitAttention(lu: LogicalUnit, cond: SenseCondition): void {
    if (this.closed || this.onAsyncEvent === undefined) return;
    if (this.reportsFor !== undefined && !this.reportsFor(lu)) return;
    const nexusWide = cond === SENSE.REPORTED_LUNS_DATA_HAS_CHANGED;
    const batch = this.pendingReports ?? (this.pendingReports = []);
    if (batch.length === 0) queueMicrotask(() => this.deliverReports());
    for (const [lun, e] of this.map.entries) {
      if (e.lu !== lu) continue;
      const key = nexusWide ? cond.name : `${cond.name}@${lun}`;
      const same = batch.find(r => r.key === key);
      if (same === undefined) batch.push({ key, lun, lu, cond });
      else if (lun < same.lun) { same.lun = lun; same.lu = lu; }
    }
  }

  private deliverReports(): void {
    const batch = this.pendingReports;
    this.pendingReports = undefined;
    const tell = this.onAsyncEvent;
    if (batch === undefined || tell === undefined || this.closed) return;
    for (const r of batch) tell({ lun: r.lun, sense: buildSense({ cond: r.cond }, senseFormatOf(r.lu)) });
  }

  /** The CDB's own transfer length in bytes, when the LUN and opcode are known (embedded mode). */
  transferLengthFor(lun: number, cdb: Uint8Array): number | undefined {
    // An unmapped LUN still answers INQUIRY, REPORT LUNS and REQUEST SENSE: size those by the
    // default device type's table.
    const lu = this.map.entries.get(lun)?.lu;
    const dec = (lu?.table ?? deviceTypes.get().table).decode(cdb);
    return dec.ok ? dec.def.xferBytes(dec.f, lu?.blockSize ?? 512) : undefined;
  }

  execute(req: CommandRequest, done: CompletionCallback): void {
    runPipeline(this, req, done, this.log);
  }

  taskManagement(req: TmfRequest): Promise<TmfResponse> {
    return executeTmf(this, this.engine, req);
  }

  /**
   * The I_T nexus ends. `loss` (connection dropped, session reinstated, I_T NEXUS RESET) aborts its
   * tasks, drops its SPC-2 reservations and leaves I_T NEXUS LOSS OCCURRED for when it returns;
   * `logout` ends it cleanly and forgets its unit attention state.
   */
  async close(reason: 'loss' | 'logout'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.engine.forgetNexus(this);
    const quiesce: Promise<void>[] = [];
    for (const lu of this.units()) {
      lu.nexusKeys.delete(this.id);
      quiesce.push(lu.tasks.abort(t => t.nexusId === this.id).quiesced);
      releaseSpc2(lu, this.itKey);
      lu.preventRemoval.delete(this.id);
      if (reason === 'loss') {
        lu.ua.queue(this.itKey).add(SENSE.I_T_NEXUS_LOSS_OCCURRED);
        // Another nexus of the same identity may still be attached (reinstatement races).
        if (![...lu.nexusKeys.values()].includes(this.itKey)) lu.ua.detach(this.itKey);
      } else lu.ua.forget(this.itKey);
    }
    await Promise.all(quiesce);
  }
}
