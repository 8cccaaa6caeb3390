import * as defs from './cdb/defs/alua';
import { Decoded, invalidField, invalidFieldOf, SERVICE_ACTION } from './cdb/dsl';
import { SENSE } from './spec/asc';
import { AsymmetricAccessState, RtpgFormat } from './spec/alua';
import { check, good, invalidParamField, Outcome } from './result';
import { bind, Binding, ExecContext } from './types';
import { StateChange, TransitionCause } from './alua';

/**
 * REPORT TARGET PORT GROUPS and SET TARGET PORT GROUPS (SPC-4 6.37, 6.46) over a unit's
 * asymmetric access states (alua.ts) and the target port groups of the nexus's target.
 */

type RtpgFields = Decoded<typeof defs.REPORT_TARGET_PORT_GROUPS.fields>;
type StpgFields = Decoded<typeof defs.SET_TARGET_PORT_GROUPS.fields>;

/**
 * SPC-4 6.37 table 270 byte 1: the states a group can be in (T_SUP, O_SUP, U_SUP, S_SUP, AN_SUP,
 * AO_SUP); LBD_SUP stays 0, logical block dependent is not offered.
 */
const SUPPORTED_STATES = 0x80 | 0x40 | 0x08 | 0x04 | 0x02 | 0x01;

/** SPC-4 6.37: one target port group descriptor, table 270, byte by byte. */
function groupDescriptor(ctx: ExecContext<RtpgFields>, id: number, ports: readonly number[]): Buffer {
  const access = ctx.lu.access;
  const d = Buffer.alloc(8 + 4 * ports.length);
  // byte 0: PREF 0 (no preferred group), ASYMMETRIC ACCESS STATE (3..0)
  d[0] = access.stateOf(id) & 0x0f;
  d[1] = SUPPORTED_STATES;
  d.writeUInt16BE(id, 2); // bytes 2..3 TARGET PORT GROUP
  // byte 4 reserved
  d[5] = access.statusOf(id); // STATUS CODE
  // byte 6 vendor specific
  d[7] = ports.length & 0xff; // TARGET PORT COUNT
  // SPC-4 6.37 table 272: each target port descriptor, bytes 2..3 RELATIVE TARGET PORT IDENTIFIER
  ports.forEach((p, k) => d.writeUInt16BE(p, 8 + 4 * k + 2));
  return d;
}

export function spcReportTargetPortGroups(ctx: ExecContext<RtpgFields>): Outcome {
  const fmt = ctx.f.parameterDataFormat;
  if (fmt !== RtpgFormat.LENGTH_ONLY && fmt !== RtpgFormat.EXTENDED) return invalidFieldOf(ctx.def, 'parameterDataFormat');
  const body = Buffer.concat(ctx.nexus.portGroups.map(g => groupDescriptor(ctx, g.id, g.relativeTargetPortIds)));
  if (fmt === RtpgFormat.LENGTH_ONLY) {
    // SPC-4 6.37 table 267: RETURN DATA LENGTH (bytes 0..3) counts the descriptors that follow.
    const h = Buffer.alloc(4);
    h.writeUInt32BE(body.length, 0);
    return good(Buffer.concat([h, body]));
  }
  // SPC-4 6.37 table 268: RETURN DATA LENGTH counts bytes 4..n; byte 4 FORMAT TYPE (6..4) 001b;
  // byte 5 IMPLICIT TRANSITION TIME in seconds (rounded up, at most 255).
  const h = Buffer.alloc(8);
  h.writeUInt32BE(body.length + 4, 0);
  h[4] = RtpgFormat.EXTENDED << 4;
  h[5] = Math.min(255, Math.ceil(ctx.lu.access.transitionMs / 1000));
  return good(Buffer.concat([h, body]));
}

/** SPC-4 6.46 table 323: the states SET TARGET PORT GROUPS may ask for. */
function settable(state: number): state is AsymmetricAccessState {
  return state === AsymmetricAccessState.ACTIVE_OPTIMIZED || state === AsymmetricAccessState.ACTIVE_NON_OPTIMIZED
    || state === AsymmetricAccessState.STANDBY || state === AsymmetricAccessState.UNAVAILABLE
    || state === AsymmetricAccessState.OFFLINE;
}

export async function spcSetTargetPortGroups(ctx: ExecContext<StpgFields>): Promise<Outcome> {
  const access = ctx.lu.access;
  // SPC-4 5.16.2.2: a unit whose TPGS does not include explicit management does not support the
  // command: answered as the table answers a service action it lacks (registry.ts).
  if (!access.explicit) return invalidField(SERVICE_ACTION);
  const len = ctx.f.parameterListLength;
  // SPC-4 6.46: a PARAMETER LIST LENGTH of zero is not an error; nothing changes.
  if (len === 0) return good();
  const list = ctx.dataOut ?? new Uint8Array(0);
  // SPC-4 6.46 table 322: 4 reserved bytes, then 4-byte descriptors.
  if (len < 4 || (len - 4) % 4 !== 0) return check(SENSE.PARAMETER_LIST_LENGTH_ERROR);
  const known = new Set(ctx.nexus.portGroups.map(g => g.id));
  const changes: StateChange[] = [];
  for (let off = 4; off + 4 <= len; off += 4) {
    // byte 0: ASYMMETRIC ACCESS STATE (3..0); byte 1 reserved; bytes 2..3 TARGET PORT GROUP.
    const state = list[off] & 0x0f;
    const group = (list[off + 2] << 8) | list[off + 3];
    // SPC-4 6.46: transitioning, logical block dependent and reserved values are not settable.
    if (!settable(state)) return invalidParamField(off, 3);
    // A group the nexus's target does not have, or the same group twice.
    if (!known.has(group) || changes.some(c => c.group === group)) return invalidParamField(off + 2);
    changes.push({ group, state });
  }
  try {
    // Durable before GOOD (alua-store.ts); completes once every group is in its new state.
    await access.change(changes, TransitionCause.EXPLICIT, ctx.nexus.id);
  } catch {
    return check(SENSE.SET_TARGET_PORT_GROUPS_COMMAND_FAILED);
  }
  return good();
}

export const aluaBindings: Binding[] = [
  bind(defs.REPORT_TARGET_PORT_GROUPS, spcReportTargetPortGroups),
  bind(defs.SET_TARGET_PORT_GROUPS, spcSetTargetPortGroups),
];
