// The README's module reference is checked against the modules' parameter types, so the two cannot drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/cli.js';
import { moduleParams } from './module-params.js';

describe('README module reference', function () {
  this.timeout(60_000);
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const params = moduleParams(repoRoot);

  it('finds every module of src/modules/index.ts', () => {
    assert.ok(params.size >= 12, `only ${[...params.keys()].join(', ')}`);
  });

  for (const [name, names] of moduleParams(repoRoot)) {
    it(`documents ${name}() and each of its parameters`, () => {
      const start = readme.indexOf(`#### \`${name}(`);
      assert.notEqual(start, -1, `README has no "#### \`${name}(" section`);
      const next = readme.indexOf('\n#### ', start + 1);
      const section = readme.slice(start, next === -1 ? undefined : next);
      const missing = names.filter((p) => !section.includes(`\`${p}\``));
      assert.deepEqual(missing, [], `README's ${name} section does not mention: ${missing.join(', ')}`);
    });
  }
});
