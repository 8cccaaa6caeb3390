/**
 * Ajv's errors in words: each becomes {path, message} where the path points at the value at fault
 * (for an unknown or missing key, at the key itself) and the message says what to write instead.
 */

import type { ErrorObject } from 'ajv';
import { topologyValidator } from './schema';

export interface SchemaProblem { path: string; message: string }

/** Human wording for the schema's patterns, keyed by the pattern text. */
const PATTERN_MEANING: ReadonlyMap<string, string> = new Map([
  ['^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$', 'must start with a letter or digit and use only letters, digits, ".", "_", ":" and "-" (at most 64 characters)'],
  ['^[\\x20-\\x7e]{1,64}$', 'must be 1 to 64 printable ASCII characters'],
  ['^[\\x20-\\x7e]{1,8}$', 'must be 1 to 8 printable ASCII characters (SPC-4 T10 VENDOR IDENTIFICATION)'],
  ['^[\\x20-\\x7e]{1,16}$', 'must be 1 to 16 printable ASCII characters (SPC-4 PRODUCT IDENTIFICATION)'],
  ['^[\\x20-\\x7e]{1,4}$', 'must be 1 to 4 printable ASCII characters (SPC-4 PRODUCT REVISION LEVEL)'],
]);

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false',
  object: 'an object', array: 'an array', null: 'null',
};

function pointerAppend(path: string, key: string): string {
  return `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Small edit distance, to suggest the key a typo was meant to be. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

function suggestion(key: string, parentSchema: unknown): string {
  const props = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (props === undefined) return '';
  let best: string | undefined;
  let bestD = 3;
  for (const k of Object.keys(props)) {
    const d = distance(key, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best !== undefined ? ` (did you mean "${best}"?)` : '';
}

function translate(e: ErrorObject): SchemaProblem {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: pointerAppend(e.instancePath, String(p.missingProperty)), message: `"${String(p.missingProperty)}" is required` };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      return { path: pointerAppend(e.instancePath, key), message: `unknown property "${key}"${suggestion(key, e.parentSchema)}` };
    }
    case 'enum':
      return { path: e.instancePath, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type': {
      const t = Array.isArray(p.type) ? (p.type as string[]) : [String(p.type)];
      return { path: e.instancePath, message: `must be ${t.map((x) => TYPE_WORDS[x] ?? x).join(' or ')}` };
    }
    case 'anyOf':
      // Only sizes use anyOf in this schema.
      return { path: e.instancePath, message: 'must be a size: a number of bytes or a string such as "512MiB" or "1TiB"' };
    case 'minimum':
      return { path: e.instancePath, message: `must be at least ${String(p.limit)}` };
    case 'maximum':
      return { path: e.instancePath, message: `must be at most ${String(p.limit)}` };
    case 'minLength':
      return { path: e.instancePath, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
    case 'maxLength':
      return { path: e.instancePath, message: `must be at most ${String(p.limit)} characters` };
    case 'minItems':
      return { path: e.instancePath, message: `must list at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}` };
    case 'uniqueItems':
      return { path: e.instancePath, message: `must not list the same value twice (items ${String(p.j)} and ${String(p.i)})` };
    case 'pattern':
      return { path: e.instancePath, message: PATTERN_MEANING.get(String(p.pattern)) ?? `must match ${String(p.pattern)}` };
    default:
      return { path: e.instancePath, message: e.message ?? e.keyword };
  }
}

/** Schema problems of a parsed document, in document order of discovery. */
export function schemaErrors(doc: unknown): SchemaProblem[] {
  const validate = topologyValidator();
  if (validate(doc)) return [];
  const errs = validate.errors ?? [];
  // The branches of an anyOf that failed are noise next to the anyOf's own message.
  const anyOfPaths = errs.filter((e) => e.keyword === 'anyOf').map((e) => ({ at: e.instancePath, schema: e.schemaPath + '/' }));
  const kept = errs.filter((e) => e.keyword === 'anyOf'
    || !anyOfPaths.some((a) => a.at === e.instancePath && e.schemaPath.startsWith(a.schema)));
  return kept.map(translate);
}
