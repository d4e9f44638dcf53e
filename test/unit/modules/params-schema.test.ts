// A typo never passes: every module refuses unknown keys (with "did you mean") and wrong types, naming the parameter.
import assert from 'node:assert/strict';
import { InputError } from '../../../src/errors.js';
import * as modules from '../../../src/modules/index.js';
import { command, copy, file, lineinfile, packages, service, template } from '../../../src/modules/index.js';
import { didYouMean } from '../../../src/modules/lib/schema.js';

const refuses = (build: () => unknown, message: RegExp) =>
  assert.throws(build, (err: unknown) => err instanceof InputError && message.test(err.message));

describe('module parameters are checked at run time', () => {
  it('refuses an unknown key and suggests the parameter meant', () => {
    // @ts-expect-error: the typo a playbook compiled by esbuild (types stripped) would let through
    refuses(() => copy({ dest: '/etc/motd', content: 'hi\n', mdoe: '0600' }), /^copy: unknown parameter "mdoe" \(did you mean "mode"\?\)$/);
    // @ts-expect-error: same
    refuses(() => command({ cmd: ['true'], creats: '/x' }), /^command: unknown parameter "creats" \(did you mean "creates"\?\)$/);
    // @ts-expect-error: a key close to nothing gets no suggestion
    refuses(() => service({ name: 'apache2', state: 'started', colour: 'blue' }), /^service: unknown parameter "colour"$/);
  });

  it('refuses a wrong type, naming the parameter and what was given', () => {
    // @ts-expect-error: a string from an INI inventory where a list is meant
    refuses(() => packages({ present: 'htop' }), /^packages: present must be an array \(got "htop"\)$/);
    // @ts-expect-error: a number where a mode string is meant
    refuses(() => file({ path: '/srv', state: 'directory', mode: 0o755 }), /^file: mode must be a string such as '0644' \(got 493\)$/);
    // @ts-expect-error: a state that is not one of the choices
    refuses(() => file({ path: '/srv', state: 'dir' }), /^file: state must be one of 'directory', 'file', 'absent', 'touch', 'link' \(got "dir"\)$/);
    // @ts-expect-error: a required parameter left out
    refuses(() => template({ dest: '/etc/x' }), /^template: src is required$/);
    // @ts-expect-error: a common option of the wrong type
    refuses(() => command({ cmd: ['true'], when: 'yes' }), /^command: when has the wrong type \(got "yes"\)$/);
  });

  it('checks every exported module: an unknown key is refused by each', () => {
    const minimal: Record<string, Record<string, unknown>> = {
      command: { cmd: ['true'] },
      shell: { cmd: 'true' },
      copy: { dest: '/x', content: '' },
      template: { src: 't.ejs', dest: '/x' },
      file: { path: '/x', state: 'directory' },
      lineinfile: { path: '/x', line: 'a' },
      sync: { src: 'd', dest: '/x' },
      packages: { present: ['a'] },
      service: { name: 'a', state: 'started' },
      selinux: { state: 'permissive' },
      django: { project: '/x', command: 'migrate' },
      http: { url: 'http://127.0.0.1/' },
      debug: { msg: 'a' },
      user: { name: 'app' },
      group: { name: 'app' },
      getUrl: { url: 'http://127.0.0.1/a', dest: '/x' },
      unarchive: { src: 'a.tar.gz', dest: '/x' },
      git: { repo: '/srv/repo.git', dest: '/x' },
      pip: { name: ['a'] },
      waitFor: { port: 80 },
      aptRepository: { repo: 'deb http://127.0.0.1/debian bookworm main' },
      blockinfile: { path: '/x', block: 'a' },
      replace: { path: '/x', regexp: 'a' },
      cron: { name: 'a', job: 'true' },
    };
    // every function the modules export: a new module without a minimal call here fails the test
    const fns = Object.entries(modules).filter(([, f]) => typeof f === 'function');
    assert.deepEqual(fns.map(([n]) => n).sort(), Object.keys(minimal).sort());
    for (const [name, fn] of fns) {
      const build = fn as (p: unknown) => unknown;
      build(minimal[name]); // the minimal call is accepted
      refuses(() => build({ ...minimal[name], notAParameter: 1 }), new RegExp(`^${name}: unknown parameter "notAParameter"$`));
    }
  });

  it('refuses in the editor (types derived from the schema) what the module refuses at run time', () => {
    // @ts-expect-error: both src and content
    refuses(() => copy({ dest: '/x', src: 'a', content: 'b' }), /^copy \/x: give exactly one of src or content$/);
    // @ts-expect-error: neither
    refuses(() => copy({ dest: '/x' }), /^copy \/x: give exactly one of src or content$/);
    // @ts-expect-error: a link needs src
    refuses(() => file({ path: '/x', state: 'link' }), /^file \/x: state 'link' needs src/);
    // @ts-expect-error: src is only for links
    refuses(() => file({ path: '/x', state: 'directory', src: '/y' }), /^file \/x: src is only for state 'link'$/);
    // @ts-expect-error: not both places
    refuses(() => lineinfile({ path: '/x', line: 'a', insertAfter: 'b', insertBefore: 'c' }), /insertAfter and insertBefore are mutually exclusive/);
    // @ts-expect-error: state 'present' (the default) needs line
    refuses(() => lineinfile({ path: '/x', regexp: 'a' }), /line is required with state 'present'/);
    // a link has no mode of its own: with follow: false a mode is refused by name (Ansible's file.py ignores it)
    refuses(() => file({ path: '/x', state: 'link', src: '/y', follow: false, mode: '0600' }), /^file \/x: a mode cannot be set on a link itself \(follow: false\)/);
    // what they allow is accepted
    file({ path: '/x' });
    file({ path: '/x', state: 'link', src: '/y' });
    lineinfile({ path: '/x', state: 'absent', regexp: 'a' });
    lineinfile({ path: '/x', line: 'a', insertBefore: 'BOF' });
    copy({ dest: '/x', content: Buffer.from('b') });
  });

  it('suggests only a close name', () => {
    assert.equal(didYouMean('mdoe', ['mode', 'owner']), 'mode');
    assert.equal(didYouMean('updatecache', ['updateCache']), 'updateCache');
    assert.equal(didYouMean('xyz', ['mode', 'owner']), undefined);
  });
});
