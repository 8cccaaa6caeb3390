import { SERVICE_ACTION_OPCODES } from '../spec/opcodes';
import { SENSE } from '../spec/asc';
import { NexusError, Outcome, check, invalidCdbField } from '../result';
import { CdbDef, Decoded, FieldMap, invalidField, SERVICE_ACTION } from './dsl';

/** Group code (SPC-4 4.2.5.1): the CDB length an opcode implies when the table does not know it. */
export function cdbLengthForOpcode(op: number): number {
  switch (op >> 5) {
    case 0: return 6;
    case 1: case 2: return 10;
    case 4: return 16;
    case 5: return 12;
    default: return 0; // reserved or vendor-specific group
  }
}

/** A row or an outcome: rows have no `status`. */
export function isOutcome(v: CdbDef | Outcome): v is Outcome { return (v as Outcome).status !== undefined; }

export type DecodeResult =
  | { ok: true; def: CdbDef; f: Decoded<FieldMap> }
  | { ok: false; outcome: Outcome };

/**
 * A CDB table: the registered rows keyed by opcode and service action. A device type owns one
 * table of the rows it supports; decoding, RSOC and "invalid field" checks all read it.
 */
export class CdbTable {
  private readonly byOp = new Map<number, CdbDef>();
  private readonly bySa = new Map<number, Map<number, CdbDef>>();
  private readonly rows: CdbDef[] = [];

  constructor(defs: Iterable<CdbDef> = []) {
    for (const d of defs) this.add(d);
  }

  add(def: CdbDef): void {
    if (SERVICE_ACTION_OPCODES.has(def.op)) {
      if (def.sa === undefined) throw new NexusError('ERR_CDB_TABLE', `${def.name}: opcode needs a service action`);
      let m = this.bySa.get(def.op);
      if (!m) this.bySa.set(def.op, (m = new Map()));
      if (m.has(def.sa)) throw new NexusError('ERR_CDB_TABLE', `${def.name}: duplicate row`);
      m.set(def.sa, def);
    } else {
      if (this.byOp.has(def.op)) throw new NexusError('ERR_CDB_TABLE', `${def.name}: duplicate row`);
      this.byOp.set(def.op, def);
    }
    this.rows.push(def);
  }

  /** All rows, in registration order (REPORT SUPPORTED OPERATION CODES, README table). */
  all(): readonly CdbDef[] { return this.rows; }

  lookup(op: number, sa?: number): CdbDef | undefined {
    if (SERVICE_ACTION_OPCODES.has(op)) return sa === undefined ? undefined : this.bySa.get(op)?.get(sa);
    return this.byOp.get(op);
  }

  hasOpcode(op: number): boolean { return this.byOp.has(op) || this.bySa.has(op); }

  /**
   * Validate a CDB against the table and return its row (no allocation: the command path calls
   * this once per command and decodes the row's fields itself), or the check condition: unknown
   * opcode → INVALID COMMAND OPERATION CODE; unknown service action → INVALID FIELD IN CDB at
   * byte 1; a bit set outside the usage mask → INVALID FIELD IN CDB with the field pointer at
   * that byte and its highest offending bit (SPC-4 4.5.2.4.2).
   */
  rowOf(c: Uint8Array): CdbDef | Outcome {
    if (c.length === 0) return check(SENSE.INVALID_COMMAND_OPERATION_CODE);
    const op = c[0];
    let def: CdbDef | undefined;
    if (SERVICE_ACTION_OPCODES.has(op)) {
      const m = this.bySa.get(op);
      if (!m) return check(SENSE.INVALID_COMMAND_OPERATION_CODE);
      def = c.length > 1 ? m.get(SERVICE_ACTION.read(c)) : undefined;
      if (!def) return invalidField(SERVICE_ACTION);
    } else {
      def = this.byOp.get(op);
      if (!def) return check(SENSE.INVALID_COMMAND_OPERATION_CODE);
    }
    if (c.length < def.size) return invalidCdbField(c.length > 0 ? c.length - 1 : 0);
    const usage = def.usage;
    for (let i = 1; i < def.size; i++) {
      const bad = c[i] & ~usage[i];
      if (bad !== 0) return invalidCdbField(i, 31 - Math.clz32(bad));
    }
    return def;
  }

  /** rowOf, then the row's fields. */
  decode(c: Uint8Array): DecodeResult {
    const row = this.rowOf(c);
    return isOutcome(row) ? { ok: false, outcome: row } : { ok: true, def: row, f: row.decode(c) };
  }
}
