import { expect } from 'chai';
import { senseFromErrno } from '../../../src/engine/backstores/errno-sense';
import { SenseKey, Status } from '../../../src/engine/spec/status';

const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

describe('senseFromErrno', () => {
  const table: Array<[unknown, 'read' | 'write', SenseKey, number, number]> = [
    [err('EIO'), 'read', SenseKey.MEDIUM_ERROR, 0x11, 0x00],
    [err('EIO'), 'write', SenseKey.MEDIUM_ERROR, 0x0c, 0x00],
    [err('ENOSPC'), 'write', SenseKey.DATA_PROTECT, 0x27, 0x07],
    [err('EDQUOT'), 'write', SenseKey.DATA_PROTECT, 0x27, 0x07],
    [err('EROFS'), 'write', SenseKey.DATA_PROTECT, 0x27, 0x00],
    [err('EACCES'), 'write', SenseKey.DATA_PROTECT, 0x27, 0x00],
    [err('EACCES'), 'read', SenseKey.HARDWARE_ERROR, 0x44, 0x00],
    [err('EBADF'), 'read', SenseKey.HARDWARE_ERROR, 0x44, 0x00],
    [{ errno: 'EIO', message: 'native' }, 'read', SenseKey.MEDIUM_ERROR, 0x11, 0x00],
    // A cluster store (rbd): a timeout is retried, a lost session fails the command, a store that
    // is reconnecting is becoming ready, an image deleted under the unit needs an operator.
    [err('ETIMEDOUT'), 'write', SenseKey.ABORTED_COMMAND, 0x08, 0x01],
    [{ errno: 'ESHUTDOWN', message: 'blocklisted' }, 'write', SenseKey.ABORTED_COMMAND, 0x08, 0x00],
    [err('ECONNREFUSED'), 'read', SenseKey.ABORTED_COMMAND, 0x08, 0x00],
    [err('ENOTCONN'), 'read', SenseKey.NOT_READY, 0x04, 0x01],
    [err('ENOENT'), 'read', SenseKey.NOT_READY, 0x04, 0x03],
    [new TypeError('bug'), 'write', SenseKey.HARDWARE_ERROR, 0x44, 0x00],
    [undefined, 'read', SenseKey.HARDWARE_ERROR, 0x44, 0x00],
    ['EIO', 'read', SenseKey.HARDWARE_ERROR, 0x44, 0x00],
  ];
  for (const [e, dir, key, asc, ascq] of table) {
    it(`${JSON.stringify((e as { code?: string })?.code ?? e ?? 'undefined')} on ${dir} → key ${key} ${asc.toString(16)}h/${ascq.toString(16)}h`, () => {
      const o = senseFromErrno(e, dir);
      expect(o.status).to.equal(Status.CHECK_CONDITION);
      expect([o.sense!.cond.key, o.sense!.cond.asc, o.sense!.cond.ascq]).to.deep.equal([key, asc, ascq]);
    });
  }
});
