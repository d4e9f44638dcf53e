import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { quote, quoteArgv, sh, wrapScript } from '../../../src/connection/quote.js';

const nasty = [
  '',
  'plain',
  'two words',
  "it's",
  'say "hi"',
  '$(touch /tmp/pwned)',
  '`id`',
  'a\nb',
  'tab\there',
  'ünïcødé ✓',
  '*.conf',
  '~root',
  "'; rm -rf / #",
  '\\backslash\\',
  '-n',
];

describe('quote', () => {
  for (const value of nasty) {
    it(`passes ${JSON.stringify(value)} literally through a real sh`, () => {
      const printed = execFileSync('/bin/sh', ['-c', `printf %s ${quote(value)}`]).toString();
      assert.equal(printed, value);
    });
  }

  it('leaves safe words unquoted and quotes the rest', () => {
    assert.equal(quote('/etc/apache2/sites-available/mysite.conf'), '/etc/apache2/sites-available/mysite.conf');
    assert.equal(quote('a b'), "'a b'");
    assert.equal(quote("it's"), `'it'"'"'s'`);
  });

  it('quotes every argv element and every template value', () => {
    assert.equal(quoteArgv(['ls', '-l', 'my file']), "ls -l 'my file'");
    assert.equal(sh`chmod ${'0770'} -- ${'/srv/my site'}`, "chmod 0770 -- '/srv/my site'");
    const printed = execFileSync('/bin/sh', ['-c', sh`printf '%s|' ${['a b', '$(x)', '']}`]).toString();
    assert.equal(printed, 'a b|$(x)||');
  });

  it('wraps a script with a quoted cwd and env, refusing bad variable names', () => {
    const script = wrapScript('printf "%s %s" "$PWD" "$GREETING"', { cwd: '/tmp', env: { GREETING: "it's $(here)" } });
    assert.equal(execFileSync('/bin/sh', ['-c', script]).toString(), "/tmp it's $(here)");
    assert.throws(() => wrapScript('true', { env: { 'A;B': 'x' } }), /invalid environment variable name/);
  });
});
