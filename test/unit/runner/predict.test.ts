// Which missing state --check may predict: only one that an earlier planned change writes.
import assert from 'node:assert/strict';
import { MissingOnHostError } from '../../../src/errors.js';
import { plannedCreator } from '../../../src/runner/predict.js';

const missing = (needs: MissingOnHostError['needs']) => new MissingOnHostError('missing', needs);

describe('plannedCreator', () => {
  it('finds no creator when nothing was planned', () => {
    assert.equal(plannedCreator(missing('any-change'), []), undefined);
    assert.equal(plannedCreator(missing([{ path: '/etc/a' }]), []), undefined);
  });

  it('finds the planned change that writes the missing path, itself or a tree above it', () => {
    const planned = [
      { task: 'copy b', writes: [{ path: '/etc/b' }] },
      { task: 'sync app', writes: [{ path: '/srv/app', tree: true }] },
    ];
    assert.equal(plannedCreator(missing([{ path: '/etc/b' }]), planned)?.task, 'copy b');
    assert.equal(plannedCreator(missing([{ path: '/srv/app/manage.py' }]), planned)?.task, 'sync app');
    assert.equal(plannedCreator(missing([{ path: '/etc/c' }]), planned), undefined);
    assert.equal(plannedCreator(missing([{ path: 'service:apache2' }]), planned), undefined);
  });

  it('takes a change that writes anything, or has no footprint, as a possible creator of anything', () => {
    assert.equal(plannedCreator(missing([{ path: 'service:apache2' }]), [{ task: 'packages +apache2', writes: 'anything' }])?.task, 'packages +apache2');
    assert.equal(plannedCreator(missing([{ path: '/x' }]), [{ task: 'django', writes: undefined }])?.task, 'django');
  });

  it('names the change that writes what is missing before one that writes anything (a fresh host: the sync, not the packages)', () => {
    const planned = [
      { task: 'install Apache', writes: 'anything' as const },
      { task: 'sync the project', writes: [{ path: '/srv/app', tree: true }] },
      { task: 'media directory', writes: [{ path: '/srv/app/media' }] },
    ];
    assert.equal(plannedCreator(missing([{ path: '/srv/app', tree: true }]), planned)?.task, 'sync the project');
    assert.equal(plannedCreator(missing([{ path: 'packages:' }]), planned)?.task, 'install Apache');
    // the key under the project is excluded from the sync: the command guarded by `creates` makes it
    const key = [...planned, { task: 'generate the key', writes: 'anything' as const, reads: [{ path: '/srv/app/secret_key' }] }];
    assert.equal(plannedCreator(missing([{ path: '/srv/app/secret_key' }]), key)?.task, 'generate the key');
  });

  it('lets a state any change may bring (a health check) be predicted after any planned change', () => {
    assert.equal(plannedCreator(missing('any-change'), [{ task: 'copy b', writes: [{ path: '/etc/b' }] }])?.task, 'copy b');
  });
});
