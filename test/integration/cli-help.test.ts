// The first minutes of a user: help that ends with examples, defaults as the README states them, and an unknown
// option answered in one line and a hint rather than the whole help.
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

describe('provision --help and option errors', () => {
  it('ends the help of provision and of provision run with examples', async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Examples:\n(  provision .*\n)+$/);
    const run = await runCli(['run', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /-i, --inventory <path>[\s\S]*\(default: \.\/inventory\)/);
    assert.match(run.stdout, /Examples:\n(  provision run .*\n)+$/);
  });

  it('answers an unknown option with one line, a suggestion when it is a typo, and a hint', async () => {
    const r = await runCli(['run', 'site.ts', '--chekc']);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split('\n');
    assert.deepEqual(lines, ["error: unknown option '--chekc'", '(Did you mean --check?)', '(add --help for the options)']);
    assert.doesNotMatch(r.stdout + r.stderr, /Usage:/);
  });
});
