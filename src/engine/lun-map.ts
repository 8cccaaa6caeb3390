import { LogicalUnit } from './logical-unit';
import { GroupConfig, TargetConfig } from './topology';

/**
 * LUN masking (SCST security groups): an initiator that matches a group's name patterns sees that
 * group's LUNs and nothing else; everyone else sees the target's default LUNs.
 */

export interface Mapping { readonly lun: number; readonly lu: LogicalUnit; readonly readOnly: boolean }

/** One LUN map (the target default or a group): shared by every nexus that uses it. */
export class LunMap {
  readonly entries = new Map<number, Mapping>();
  constructor(readonly name: string, readonly group?: GroupConfig) {}

  sortedLuns(): number[] { return [...this.entries.keys()].sort((a, b) => a - b); }
}

/** `*` any run of characters, `?` one character; everything else literal, case-sensitive. */
export function initiatorPattern(p: string): RegExp {
  const body = p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export class TargetLunMaps {
  readonly defaultMap: LunMap;
  readonly groups: Array<{ map: LunMap; patterns: RegExp[] }>;

  constructor(target: TargetConfig, unit: (device: string) => LogicalUnit) {
    this.defaultMap = new LunMap('default');
    for (const m of target.luns) this.defaultMap.entries.set(m.lun, { lun: m.lun, lu: unit(m.device), readOnly: m.readOnly });
    this.groups = target.groups.map(g => {
      const map = new LunMap(g.name, g);
      for (const m of g.luns) map.entries.set(m.lun, { lun: m.lun, lu: unit(m.device), readOnly: m.readOnly });
      return { map, patterns: g.initiators.map(initiatorPattern) };
    });
  }

  /** The map an initiator sees: the first group whose pattern matches, else the default. */
  select(initiatorName: string): LunMap {
    for (const g of this.groups) if (g.patterns.some(r => r.test(initiatorName))) return g.map;
    return this.defaultMap;
  }

  byName(group?: string): LunMap | undefined {
    if (group === undefined) return this.defaultMap;
    return this.groups.find(g => g.map.name === group)?.map;
  }

  all(): LunMap[] { return [this.defaultMap, ...this.groups.map(g => g.map)]; }
}
