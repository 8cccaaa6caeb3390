// Who must authenticate how at login to one iSCSI target: per target, overridden per group, and
// for discovery sessions. (What the target offers in negotiation comes from settings.ts.)
import type { AuthConfig } from '../../engine/topology';
import type { EngineApi } from '../../engine/engine-api';
import { AuthRequirement, SessionType } from './login';

export function toRequirement(a: AuthConfig | undefined): AuthRequirement {
  if (!a?.chap) return {};
  return { chap: { user: a.chap.user, secret: a.chap.secret }, mutual: a.mutualChap ? { ...a.mutualChap } : undefined };
}

/**
 * Authentication an initiator owes. Normal session: its group's `auth` when the group has one,
 * otherwise the target's. Whether it sees any LUN is not an authorization question: an initiator
 * that passes authentication logs in and finds an empty REPORT LUNS (SPC-4 6.33) and peripheral
 * qualifier 011b on LUN 0; discovery hides such targets (SendTargets filters with canSee).
 * Discovery: `discoveryAuth` of the targets on this portal (the first that sets one).
 */
export function authFor(
  engine: EngineApi, portalTargets: readonly string[], initiatorName: string, targetName: string | undefined, type: SessionType,
): AuthRequirement | 'deny' {
  if (type === 'Discovery') {
    for (const t of portalTargets) {
      const d = engine.targetConfig(t)?.discoveryAuth;
      if (d?.chap) return toRequirement(d);
    }
    return {};
  }
  if (targetName === undefined) return 'deny';
  const cfg = engine.targetConfig(targetName);
  if (!cfg) return 'deny';
  const group = engine.groupFor(targetName, initiatorName);
  const g = group !== undefined ? cfg.groups.find((x) => x.name === group) : undefined;
  return toRequirement(g?.auth ?? cfg.auth);
}
