// sync's exclude patterns.
import assert from 'node:assert/strict';
import { compileExcludes, globToRegExp } from '../../../../src/modules/lib/glob.js';

describe('exclude patterns', () => {
  it('matches names at any depth without a slash, and excludes what is below a matched directory', () => {
    const ex = compileExcludes(['*.pyc', '__pycache__', '.git']);
    assert.ok(ex.test('a.pyc', false));
    assert.ok(ex.test('pkg/sub/b.pyc', false));
    assert.ok(ex.test('pkg/__pycache__', true));
    assert.ok(ex.test('pkg/__pycache__/x.py', false));
    assert.ok(ex.test('.git/config', false));
    assert.ok(!ex.test('a.py', false));
    assert.ok(!ex.test('pyc', false));
  });
  it('anchors patterns with a slash at the root', () => {
    const ex = compileExcludes(['/media', 'static/cache/**', 'logs/']);
    assert.ok(ex.test('media', true));
    assert.ok(ex.test('media/a.png', false));
    assert.ok(!ex.test('app/media', true));
    assert.ok(ex.test('static/cache/a/b.css', false));
    assert.ok(!ex.test('static/app.css', false));
    assert.ok(ex.test('logs', true));
    assert.ok(!ex.test('logs', false), "'logs/' only matches a directory");
  });
  it('translates ?, [..] and ** ', () => {
    assert.ok(globToRegExp('file?.[ch]').test('file1.c'));
    assert.ok(!globToRegExp('file?.[!ch]').test('file1.c'));
    assert.ok(globToRegExp('a/**/z').test('a/z'));
    assert.ok(globToRegExp('a/**/z').test('a/b/c/z'));
    assert.ok(!globToRegExp('a/*').test('a/b/c'));
  });
  it('excludes nothing without patterns', () => {
    assert.ok(!compileExcludes([]).test('anything', false));
  });
});
