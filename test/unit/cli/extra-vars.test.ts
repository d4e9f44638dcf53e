import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExtraVars } from '../../../src/cli/extra-vars.js';

describe('parseExtraVars', () => {
  it('reads key=value pairs as strings, with quotes', () => {
    assert.deepEqual(parseExtraVars(['a=1 b="two words" c=\'x y\'']), { a: '1', b: 'two words', c: 'x y' });
  });
  it('reads a JSON object with its types', () => {
    assert.deepEqual(parseExtraVars(['{"port": 8080, "hosts": ["a"]}']), { port: 8080, hosts: ['a'] });
  });
  it('reads @file as YAML, later arguments winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ev-'));
    writeFileSync(join(dir, 'v.yml'), 'port: 80\nname: site\n');
    assert.deepEqual(parseExtraVars([`@${join(dir, 'v.yml')}`, 'port=81']), { port: '81', name: 'site' });
  });
  it('rejects text that is neither', () => {
    assert.throws(() => parseExtraVars(['=oops']), /expected key=value pairs/);
    assert.throws(() => parseExtraVars(['@/nonexistent/file.yml']), /nonexistent/);
  });
});
