import { SENSE, SenseCondition } from './spec/asc';
import { AsymmetricAccessState, Tpgs, TpgStatusCode } from './spec/alua';
import { AluaClass } from './cdb/dsl';
import type { AccessStateName, AluaConfig, TpgsMode } from './topology';
import { NexusError } from './result';

/**
 * Asymmetric logical unit access (SPC-4 5.16): one logical unit's primary target port asymmetric
 * access state in each target port group, how the states change (implicitly through the engine
 * API and the control plane, explicitly through SET TARGET PORT GROUPS), the optional transition
 * time during which a changing group is transitioning, and the unit attentions a change owes.
 * Pure state: the unit raises the unit attentions and persists the states through the callbacks
 * it is given.
 */

/** The topology's spelling of each state (AluaConfig, the control plane) and back. */
const BY_NAME: Readonly<Record<AccessStateName, AsymmetricAccessState>> = {
  'active/optimized': AsymmetricAccessState.ACTIVE_OPTIMIZED,
  'active/non-optimized': AsymmetricAccessState.ACTIVE_NON_OPTIMIZED,
  standby: AsymmetricAccessState.STANDBY,
  unavailable: AsymmetricAccessState.UNAVAILABLE,
  offline: AsymmetricAccessState.OFFLINE,
  transitioning: AsymmetricAccessState.TRANSITIONING,
};

export function accessStateOf(name: AccessStateName): AsymmetricAccessState { return BY_NAME[name]; }

export function accessStateName(s: AsymmetricAccessState): AccessStateName {
  for (const [name, v] of Object.entries(BY_NAME)) if (v === s) return name as AccessStateName;
  throw new NexusError('ERR_ALUA_STATE', `no asymmetric access state ${s}`);
}

export const ACCESS_STATE_NAMES = Object.keys(BY_NAME) as AccessStateName[];

const TPGS_OF: Readonly<Record<TpgsMode, Tpgs>> = { implicit: Tpgs.IMPLICIT, explicit: Tpgs.EXPLICIT, both: Tpgs.BOTH };

/**
 * SPC-4 5.16.2.4.2 .. 5.16.2.4.7: what a state refuses a command of class `cls` with, or undefined
 * when the command runs. The classes nest (AluaClass): a command served in standby is served in
 * the active states, one served in unavailable is served in standby, and so on.
 */
export function accessRefusal(state: AsymmetricAccessState, cls: AluaClass): SenseCondition | undefined {
  switch (state) {
    case AsymmetricAccessState.ACTIVE_OPTIMIZED:
    case AsymmetricAccessState.ACTIVE_NON_OPTIMIZED:
      return undefined;
    // SPC-4 5.16.2.4.4: standby serves the inventory, mode, log, diagnostic, reservation and
    // target port group commands; the rest get NOT READY, TARGET PORT IN STANDBY STATE.
    case AsymmetricAccessState.STANDBY:
      return cls >= AluaClass.STANDBY ? undefined : SENSE.LUN_NOT_ACCESSIBLE_TARGET_PORT_IN_STANDBY_STATE;
    // SPC-4 5.16.2.4.5: unavailable serves INQUIRY, REPORT LUNS, the target port group commands and
    // REQUEST SENSE only.
    case AsymmetricAccessState.UNAVAILABLE:
      return cls >= AluaClass.UNAVAILABLE ? undefined : SENSE.LUN_NOT_ACCESSIBLE_TARGET_PORT_IN_UNAVAILABLE_STATE;
    // SPC-4 5.16.2.4.6: offline serves what unavailable does; the rest are NOT READY, OFFLINE.
    case AsymmetricAccessState.OFFLINE:
      return cls >= AluaClass.UNAVAILABLE ? undefined : SENSE.LUN_NOT_READY_OFFLINE;
    // SPC-4 5.16.2.4.7: transitioning serves INQUIRY, REPORT LUNS, REPORT TARGET PORT GROUPS and
    // REQUEST SENSE; the rest (SET TARGET PORT GROUPS too) get ASYMMETRIC ACCESS STATE TRANSITION.
    case AsymmetricAccessState.TRANSITIONING:
    default:
      return cls >= AluaClass.TRANSITIONING ? undefined : SENSE.LUN_NOT_ACCESSIBLE_ASYMMETRIC_ACCESS_STATE_TRANSITION;
  }
}

/** What the unit gives its access state: the unit attention fan-out and the persistence. */
export interface AccessHost {
  /** Queue `cond` for every I_T nexus of the unit except nexus `exceptNexus`. */
  raise(cond: SenseCondition, exceptNexus?: number): void;
  /** Make `states` durable (atomic); throws when it cannot. Absent: the states are not kept. */
  persist?(states: Record<number, AccessStateName>): void;
}

/** How a change came: the control plane or the engine API (implicit), or SET TARGET PORT GROUPS. */
export const enum TransitionCause { IMPLICIT, EXPLICIT }

/** A unit's asymmetric access as the engine API and the control plane report it. */
export interface AccessStatesView {
  tpgs: TpgsMode;
  transitionMs: number;
  /** Groups not listed are active/optimized. */
  states: Record<number, AccessStateName>;
}

export interface StateChange { readonly group: number; readonly state: AsymmetricAccessState }

export class AsymmetricAccess {
  readonly tpgs: Tpgs;
  /** SPC-4 6.37: the time a transition takes, in milliseconds (0: at once). */
  readonly transitionMs: number;
  /** Each group's state; a group absent here is active/optimized. */
  private readonly states = new Map<number, AsymmetricAccessState>();
  /** Where each group is going while it is transitioning. */
  private readonly pending = new Map<number, { to: AsymmetricAccessState; timer: NodeJS.Timeout; done: Array<() => void> }>();
  private readonly status = new Map<number, TpgStatusCode>();
  /** Some group is in a state that refuses commands: the pipeline looks only then. */
  gated = false;

  constructor(cfg: AluaConfig | undefined, private readonly host: AccessHost, saved?: Record<number, AccessStateName>) {
    this.tpgs = TPGS_OF[cfg?.tpgs ?? 'both'];
    this.transitionMs = cfg?.transitionMs ?? 0;
    const initial = saved ?? cfg?.states ?? {};
    for (const [group, name] of Object.entries(initial)) {
      // A state saved while transitioning comes back as the state it was going to (saved() keeps
      // destinations); a configured transitioning stays until changed.
      this.states.set(Number(group), BY_NAME[name]);
    }
    this.regate();
  }

  get explicit(): boolean { return (this.tpgs & Tpgs.EXPLICIT) !== 0; }
  get implicit(): boolean { return (this.tpgs & Tpgs.IMPLICIT) !== 0; }

  stateOf(group: number): AsymmetricAccessState {
    return this.states.get(group) ?? AsymmetricAccessState.ACTIVE_OPTIMIZED;
  }

  statusOf(group: number): TpgStatusCode { return this.status.get(group) ?? TpgStatusCode.NO_STATUS; }

  /** SPC-4 5.16.2.4: the refusal of a command of class `cls` through target port group `group`. */
  refusal(group: number, cls: AluaClass): SenseCondition | undefined {
    return accessRefusal(this.stateOf(group), cls);
  }

  /** What the control plane shows: the mode, the transition time and each group's state now. */
  view(): AccessStatesView {
    const states: Record<number, AccessStateName> = {};
    for (const [g, s] of this.states) states[g] = accessStateName(s);
    const tpgs = this.tpgs === Tpgs.BOTH ? 'both' : this.tpgs === Tpgs.EXPLICIT ? 'explicit' : 'implicit';
    return { tpgs, transitionMs: this.transitionMs, states };
  }

  /** The states as they will be once every transition under way is done (what persists). */
  saved(): Record<number, AccessStateName> {
    const out: Record<number, AccessStateName> = {};
    for (const [g, s] of this.states) out[g] = accessStateName(this.pending.get(g)?.to ?? s);
    return out;
  }

  /**
   * Change the states of `changes` (all or none): persisted first, then, with a transition time,
   * each changing group is transitioning until the time has passed (SPC-4 5.16.2.6). Every change
   * of state queues ASYMMETRIC ACCESS STATE CHANGED for every I_T nexus of the unit, except the
   * one whose SET TARGET PORT GROUPS asked for it (SPC-4 5.16.2.7 / 6.46). Resolves once every
   * group is in its new state.
   */
  change(changes: readonly StateChange[], cause: TransitionCause, exceptNexus?: number): Promise<void> {
    const before = new Map(this.states);
    for (const c of changes) this.states.set(c.group, c.state);
    const target = this.saved();
    // Put back what changed in memory while the durable copy is made: a failed save changes nothing.
    this.states.clear();
    for (const [g, s] of before) this.states.set(g, s);
    try {
      this.host.persist?.(target);
    } catch (err) {
      if (cause === TransitionCause.IMPLICIT) this.host.raise(SENSE.IMPLICIT_ASYMMETRIC_ACCESS_STATE_TRANSITION_FAILED);
      return Promise.reject(err);
    }
    const code = cause === TransitionCause.EXPLICIT ? TpgStatusCode.ALTERED_BY_SET_TARGET_PORT_GROUPS : TpgStatusCode.ALTERED_BY_IMPLICIT_BEHAVIOR;
    const waits: Promise<void>[] = [];
    for (const c of changes) {
      const was = this.pending.get(c.group);
      if (was) { clearTimeout(was.timer); this.pending.delete(c.group); for (const d of was.done) d(); }
      this.status.set(c.group, code);
      if (this.transitionMs === 0 || c.state === AsymmetricAccessState.TRANSITIONING || this.stateOf(c.group) === c.state) {
        this.states.set(c.group, c.state);
        continue;
      }
      this.states.set(c.group, AsymmetricAccessState.TRANSITIONING);
      waits.push(new Promise<void>(resolve => {
        const timer = setTimeout(() => {
          const p = this.pending.get(c.group);
          if (!p || p.timer !== timer) return;
          this.pending.delete(c.group);
          this.states.set(c.group, p.to);
          this.regate();
          this.host.raise(SENSE.ASYMMETRIC_ACCESS_STATE_CHANGED, exceptNexus);
          for (const d of p.done) d();
        }, this.transitionMs);
        timer.unref?.();
        this.pending.set(c.group, { to: c.state, timer, done: [resolve] });
      }));
    }
    this.regate();
    this.host.raise(SENSE.ASYMMETRIC_ACCESS_STATE_CHANGED, exceptNexus);
    return Promise.all(waits).then(() => undefined);
  }

  /** Stop every transition under way (the unit closes): each ends in its destination state. */
  close(): void {
    for (const [g, p] of this.pending) { clearTimeout(p.timer); this.states.set(g, p.to); for (const d of p.done) d(); }
    this.pending.clear();
    this.regate();
  }

  private regate(): void {
    this.gated = false;
    for (const s of this.states.values()) {
      if (s !== AsymmetricAccessState.ACTIVE_OPTIMIZED && s !== AsymmetricAccessState.ACTIVE_NON_OPTIMIZED) this.gated = true;
    }
  }
}
