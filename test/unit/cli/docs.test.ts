import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '../../..');
const read = (p: string): string => readFileSync(path.join(ROOT, p), 'utf8');

describe('docs stand on their own', () => {
  it('README, docs/ and bench/README.md link only to files in the repository', () => {
    for (const doc of ['README.md', 'docs/architecture.md', 'docs/runtime.md', 'bench/README.md']) {
      const text = read(doc);
      expect(text, doc).to.not.contain('DESIGN.md');
      for (const m of text.matchAll(/\]\(([^)#:]+)(#[^)]*)?\)/g)) {
        expect(existsSync(path.join(ROOT, path.dirname(doc), m[1])), `${doc} links ${m[1]}`).to.equal(true);
      }
    }
    expect(read('README.md')).to.contain('](docs/architecture.md)');
    expect(read('docs/architecture.md')).to.contain('](runtime.md)');
  });

  it('the LICENSE file is the Apache License 2.0 that package.json names', () => {
    expect((JSON.parse(read('package.json')) as { license: string }).license).to.equal('Apache-2.0');
    const license = read('LICENSE');
    expect(license).to.contain('Apache License\n                           Version 2.0, January 2004');
    expect(license).to.contain('END OF TERMS AND CONDITIONS');
  });
});
