// The control socket's wire protocol (docs/control.md): JSON-RPC 2.0 requests and responses, one
// JSON text per line (newline-delimited framing, as SPDK's and many other daemons' Unix sockets
// use). A line longer than MAX_REQUEST_BYTES is refused and the connection closed, so a client
// cannot make the daemon buffer without bound.
//
// Error codes: the JSON-RPC 2.0 ones (-32700..-32603) for what the specification names; the
// server-defined range (-32000..-32099) for the rest. Every error's `data` carries the JSON
// Pointer (RFC 6901) of what was wrong, `"/params/tsih"`, or `""` for the request as a whole.

/** Longest request line accepted (bytes, without the newline). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** Unsent answers a connection may pile up (a client that writes and never reads) before it is dropped. */
export const MAX_PENDING_OUTPUT_BYTES = 16 * 1024 * 1024;

export const enum ControlErrorCode {
  /** JSON-RPC 2.0 5.1: invalid JSON. */
  PARSE_ERROR = -32700,
  /** JSON-RPC 2.0 5.1: not a valid Request object. */
  INVALID_REQUEST = -32600,
  METHOD_NOT_FOUND = -32601,
  /** Parameters that fail the method's schema: data.errors lists each with its path. */
  INVALID_PARAMS = -32602,
  INTERNAL_ERROR = -32603,
  /** The object named by a parameter does not exist (a TSIH with no session). */
  NOT_FOUND = -32001,
  /** The request line is longer than MAX_REQUEST_BYTES; the connection is closed. */
  REQUEST_TOO_LARGE = -32002,
  /** The daemon is stopping. */
  SHUTTING_DOWN = -32003,
  /** A topology change the running daemon cannot make (data.errors names each value by its path). */
  NOT_LIVE = -32004,
  /** A step of a configuration change failed; the steps before it were undone (data.transaction). */
  TRANSACTION_FAILED = -32005,
  /** config.save could not write the topology file. */
  SAVE_FAILED = -32006,
  /**
   * The object cannot do that now (a library's mail slots locked by an initiator, a full mail
   * slot, a cartridge not in a mail slot): data.errors[0].code names why (ERR_MEDIUM_REMOVAL_PREVENTED, ...).
   */
  REFUSED = -32007,
}

/** One problem in a request: where (JSON Pointer into the request) and what. */
export interface ControlProblem {
  readonly path: string;
  readonly message: string;
}

/** The `data` member of every error the daemon returns. */
export interface ControlErrorData {
  /** Where the first problem is. */
  readonly path: string;
  /** Every problem found (at least one). */
  readonly errors: readonly ControlProblem[];
}

/** RFC 6901: "~" is written "~0" and "/" is written "~1" inside a reference token. */
export function pointer(...tokens: ReadonlyArray<string | number>): string {
  return tokens.map(t => '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function errorData(problems: readonly ControlProblem[]): ControlErrorData {
  return { path: problems[0]?.path ?? '', errors: problems };
}
