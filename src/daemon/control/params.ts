// Parameter checking for control methods: each method declares a JSON Schema for its `params`
// object, compiled once with ajv (the validator the topology uses, src/daemon/config/schema.ts);
// a request that fails it gets INVALID_PARAMS with every problem and its JSON Pointer.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ControlProblem, pointer } from './protocol';

/** A params schema: always an object with named members (JSON-RPC 2.0 4.2 by-name). */
export interface ParamsSchema {
  readonly type: 'object';
  readonly additionalProperties: false;
  readonly properties: { readonly [name: string]: object };
  readonly required?: readonly string[];
}

const ajv = new Ajv({ allErrors: true, strict: true });

/** Where in the request an ajv error points: under /params, at the key for missing or unknown keys. */
function problemOf(e: ErrorObject): ControlProblem {
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  const base = `/params${e.instancePath}`;
  if (e.keyword === 'required' && p.missingProperty !== undefined) {
    return { path: base + pointer(p.missingProperty), message: `"${p.missingProperty}" is required` };
  }
  if (e.keyword === 'additionalProperties' && p.additionalProperty !== undefined) {
    return { path: base + pointer(p.additionalProperty), message: `unknown parameter "${p.additionalProperty}"` };
  }
  return { path: base, message: e.message ?? e.keyword };
}

export type ParamsCheck<T> = { readonly ok: true; readonly params: T } | { readonly ok: false; readonly problems: ControlProblem[] };

export interface ParamsValidator<T> {
  (raw: unknown): ParamsCheck<T>;
}

/**
 * Compiles `schema`; the result accepts absent params as `{}` (JSON-RPC 2.0 4: params MAY be
 * omitted) and refuses positional (array) params with a message saying to name them.
 */
export function paramsValidator<T>(schema: ParamsSchema): ParamsValidator<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (raw: unknown) => {
    const value = raw === undefined ? {} : raw;
    if (Array.isArray(value)) return { ok: false, problems: [{ path: '/params', message: 'params must be an object of named parameters' }] };
    if (validate(value)) return { ok: true, params: value as T };
    return { ok: false, problems: (validate.errors ?? []).map(problemOf) };
  };
}
