// The control methods of medium changers' libraries (docs/control.md): the operator at the mail
// slots while the daemon runs. Each is carried out on the engine thread that homes the changer
// (Supervisor.unit, workers/library-ops.ts); initiators learn of an import or export through IMPORT OR EXPORT
// ELEMENT ACCESSED (SMC-3) and read the element status again.

import { statSync } from 'node:fs';
import * as nodePath from 'node:path';
import type { UnitAnswer } from '../../workers/unit-ops';
import type { DaemonControl } from './daemon-methods';
import { ControlMethod, controlError, defineMethod } from './methods';
import { ControlErrorCode, ControlProblem } from './protocol';

/** The NexusError codes that say the object does not exist, rather than that it refuses now. */
const NOT_FOUND_CODES = new Set(['ERR_TOPOLOGY', 'ERR_NO_LIBRARY']);

/** The method's result, or the library's refusal as the client's error (with its code). */
function resultOf(a: UnitAnswer, path: string): unknown {
  if (a.error === '') return a.result;
  const problem: ControlProblem & { code: string } = { path, message: a.message, code: a.error };
  if (NOT_FOUND_CODES.has(a.error)) throw controlError(ControlErrorCode.NOT_FOUND, a.message, [problem]);
  if (a.error.startsWith('ERR_MEDIUM') || a.error === 'ERR_LIBRARY') throw controlError(ControlErrorCode.REFUSED, a.message, [problem]);
  throw controlError(ControlErrorCode.INTERNAL_ERROR, a.message, [problem]);
}

const device = { type: 'string', minLength: 1 } as const;
// SMC-3 primary volume tag: 1 to 32 printable characters, no spaces (they pad the field).
const barcode = { type: 'string', pattern: '^[\\x21-\\x7e]{1,32}$' } as const;

export function libraryMethods(d: DaemonControl): ControlMethod[] {
  return [
    defineMethod<{ device: string }>('library.list', 'the elements of a changer\'s library with their addresses, drives and cartridges', {
      type: 'object', additionalProperties: false, required: ['device'], properties: { device },
    }, async p => resultOf(await d.unit(p.device, 'library.list', {}), '/params/device')),
    defineMethod<{ device: string; barcode: string; path: string; mailSlot?: number }>('library.import',
      'put a cartridge (an absolute file path and its bar code) into a mail slot of a changer', {
        type: 'object', additionalProperties: false, required: ['device', 'barcode', 'path'],
        properties: { device, barcode, path: { type: 'string', minLength: 1 }, mailSlot: { type: 'integer', minimum: 1, maximum: 4096 } },
      }, async p => {
        if (!nodePath.isAbsolute(p.path)) {
          throw controlError(ControlErrorCode.INVALID_PARAMS, 'invalid params', [{ path: '/params/path', message: 'the cartridge path must be absolute' }]);
        }
        try {
          if (!statSync(p.path).isFile()) throw new Error('not a file');
        } catch (e) {
          throw controlError(ControlErrorCode.INVALID_PARAMS, 'invalid params', [{ path: '/params/path', message: `cannot use ${p.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
        }
        return resultOf(await d.unit(p.device, 'library.import', { barcode: p.barcode, path: p.path, mailSlot: p.mailSlot ?? 0 }), '/params');
      }),
    defineMethod<{ device: string; barcode: string }>('library.export', 'take the cartridge with a bar code out of its mail slot', {
      type: 'object', additionalProperties: false, required: ['device', 'barcode'], properties: { device, barcode },
    }, async p => resultOf(await d.unit(p.device, 'library.export', { barcode: p.barcode }), '/params/barcode')),
  ];
}
