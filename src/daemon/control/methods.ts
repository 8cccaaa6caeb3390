// The control methods' table: each method has a name, a one-line description (docs/control.md
// lists them), a params schema and the call. The server knows nothing else of them.

import { JSONRPCErrorException } from 'json-rpc-2.0';
import { ControlErrorCode, ControlProblem, errorData } from './protocol';
import { ParamsSchema, paramsValidator } from './params';

/**
 * Who sent a request: the control socket's peer as the kernel recorded it at connect(2)
 * (unix(7) SO_PEERCRED). Without the native addon the ids are unknown (undefined).
 */
export interface ControlCaller {
  readonly pid?: number;
  readonly uid?: number;
  readonly gid?: number;
  /**
   * Sends a notification about this request to the client that made it (JSON-RPC 2.0 4.1: no
   * id of its own; `params.id` is the request's). Absent for a notification or a direct call.
   */
  readonly notify?: (method: string, params: { readonly [k: string]: unknown }) => void;
}

/** A caller whose credentials are not known (tests calling a method directly). */
export const UNKNOWN_CALLER: ControlCaller = Object.freeze({});

/** The caller's fields for a structured log line: `who` and, when known, `uid`, `gid`, `pid`. */
export function callerFields(c: ControlCaller): { who: string; uid?: number; gid?: number; pid?: number } {
  return { who: 'control socket', ...(c.uid !== undefined ? { uid: c.uid, gid: c.gid, pid: c.pid } : {}) };
}

/** Methods that only read are named *.get, *.list or daemon.info; every other one changes something. */
export function changesSomething(method: string): boolean {
  return !(/\.(get|list)$/.test(method) || method === 'daemon.info');
}

export interface ControlMethod {
  readonly name: string;
  readonly description: string;
  readonly schema: ParamsSchema;
  /** Checks `raw` against the schema, then calls; throws JSONRPCErrorException for the client. */
  invoke(raw: unknown, caller: ControlCaller): Promise<unknown>;
}

/** Params with no members. */
export const NO_PARAMS: ParamsSchema = { type: 'object', additionalProperties: false, properties: {} };

/** A method whose call sees params of type P, checked against `schema` first. */
export function defineMethod<P>(
  name: string, description: string, schema: ParamsSchema, call: (params: P, caller: ControlCaller) => unknown,
): ControlMethod {
  const check = paramsValidator<P>(schema);
  return {
    name, description, schema,
    async invoke(raw: unknown, caller: ControlCaller): Promise<unknown> {
      const r = check(raw);
      if (!r.ok) throw controlError(ControlErrorCode.INVALID_PARAMS, 'invalid params', r.problems);
      return await call(r.params, caller);
    },
  };
}

/** The error a method throws for the client to see (code, message, data with the JSON path). */
export function controlError(code: ControlErrorCode, message: string, problems: readonly ControlProblem[]): JSONRPCErrorException {
  return new JSONRPCErrorException(message, code, errorData(problems));
}
