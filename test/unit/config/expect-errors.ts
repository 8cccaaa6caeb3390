import { expect } from 'chai';
import { normalizeTopology, type ConfigError } from '../../../src/daemon/config/load';

/** The loader's errors for `doc` (as read from /etc/nexus, run from /srv); fails when it is accepted. */
export function errorsOf(doc: unknown): ConfigError[] {
  const r = normalizeTopology(doc, { baseDir: '/etc/nexus', cwd: '/srv' });
  if (r.ok) throw new Error('expected errors, the document was accepted');
  return r.errors;
}

/** Exactly one error at `at`, whose message contains `says`. */
export function expectOnly(doc: unknown, at: string, says: string): void {
  const errs = errorsOf(doc);
  expect(errs, JSON.stringify(errs)).to.have.length(1);
  expect(errs[0].path).to.equal(at);
  expect(errs[0].message).to.contain(says);
}
