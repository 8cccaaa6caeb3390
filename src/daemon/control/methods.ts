// The control methods' table: each method has a name, a one-line description (docs/control.md
// lists them), a params schema and the call. The server knows nothing else of them.

import { JSONRPCErrorException } from 'json-rpc-2.0';
import { ControlErrorCode, ControlProblem, errorData } from './protocol';
import { ParamsSchema, paramsValidator } from './params';

export interface ControlMethod {
  readonly name: string;
  readonly description: string;
  readonly schema: ParamsSchema;
  /** Checks `raw` against the schema, then calls; throws JSONRPCErrorException for the client. */
  invoke(raw: unknown): Promise<unknown>;
}

/** Params with no members. */
export const NO_PARAMS: ParamsSchema = { type: 'object', additionalProperties: false, properties: {} };

/** A method whose call sees params of type P, checked against `schema` first. */
export function defineMethod<P>(
  name: string, description: string, schema: ParamsSchema, call: (params: P) => unknown,
): ControlMethod {
  const check = paramsValidator<P>(schema);
  return {
    name, description, schema,
    async invoke(raw: unknown): Promise<unknown> {
      const r = check(raw);
      if (!r.ok) throw controlError(ControlErrorCode.INVALID_PARAMS, 'invalid params', r.problems);
      return await call(r.params);
    },
  };
}

/** The error a method throws for the client to see (code, message, data with the JSON path). */
export function controlError(code: ControlErrorCode, message: string, problems: readonly ControlProblem[]): JSONRPCErrorException {
  return new JSONRPCErrorException(message, code, errorData(problems));
}
