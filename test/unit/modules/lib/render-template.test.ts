// Template rendering: raw output (no HTML escaping) and strict, located errors for missing variables.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError } from '../../../../src/errors.js';
import { renderTemplate, renderTemplateFile } from '../../../../src/modules/lib/render-template.js';

const fails = (fn: () => unknown, message: string) =>
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof TemplateError, `not a TemplateError: ${e.name}`);
    assert.equal(e.message, message);
    return true;
  });

describe('renderTemplate', () => {
  it('prints values raw: no HTML escaping', () => {
    assert.equal(renderTemplate('<%= a %> & <%- a %>\n', { a: `<b>"x" & 'y'</b>` }, 't.ejs'), `<b>"x" & 'y'</b> & <b>"x" & 'y'</b>\n`);
  });
  it('gives facts and nested values, and null prints empty', () => {
    assert.equal(renderTemplate('<%= facts.os.id %>:<%= n %>:<%= z %>', { facts: { os: { id: 'debian' } }, n: null, z: 0 }, 't.ejs'), 'debian::0');
  });
  it('names the template, line and variable of a missing variable', () => {
    fails(() => renderTemplate('a\nb\n<%= port %>\n', { host: 'x' }, 'templates/site.conf.ejs'), "templates/site.conf.ejs:3: undefined variable 'port'");
    fails(() => renderTemplate('<% if (debug) { %>x<% } %>', {}, 't.ejs'), "t.ejs:1: undefined variable 'debug'");
  });
  it('fails on a printed undefined property, with its line', () => {
    assert.throws(() => renderTemplate('x\n<%= user.name %>', { user: {} }, 't.ejs'), /^TemplateError: t\.ejs:2: a printed expression is undefined/);
    assert.throws(() => renderTemplate('<%= a.b.c %>', { a: {} }, 't.ejs'), /^TemplateError: t\.ejs:1: Cannot read properties of undefined/);
  });
  it('reports syntax errors as TemplateError naming the file', () => {
    assert.throws(() => renderTemplate('<% if ( %>', {}, 'bad.ejs'), /^TemplateError: bad\.ejs: cannot compile template/);
  });
  it('reaches names that are not identifiers through locals', () => {
    assert.equal(renderTemplate('<%= locals["my-var"] %>', { 'my-var': 1, class: 2 }, 't.ejs'), '1');
  });
});

describe('renderTemplateFile', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'tpl-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('re-reads a template that changed on disk', () => {
    const f = join(dir, 'a.ejs');
    writeFileSync(f, 'one <%= x %>');
    assert.equal(renderTemplateFile(f, { x: 1 }, 'a.ejs'), 'one 1');
    writeFileSync(f, 'two <%= x %>!');
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    assert.equal(renderTemplateFile(f, { x: 1 }, 'a.ejs'), 'two 1!');
  });
  it('says which template is missing', () => {
    assert.throws(() => renderTemplateFile(join(dir, 'nope.ejs'), {}, 'nope.ejs'), /^TemplateError: nope\.ejs: template not found/);
  });
});
