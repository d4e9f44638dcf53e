// --tags and --skip-tags as ansible-playbook applies them, with its special tags always, never, all, tagged, untagged.
import assert from 'node:assert/strict';
import { selectedByTags } from '../../../src/runner/tags.js';

describe('selectedByTags', () => {
  it('runs everything without --tags, only matching tasks with it', () => {
    assert.equal(selectedByTags(undefined), true);
    assert.equal(selectedByTags(['web']), true);
    assert.equal(selectedByTags(['web'], ['db']), false);
    assert.equal(selectedByTags(['web', 'db'], ['db']), true);
    assert.equal(selectedByTags(undefined, ['db']), false);
    assert.equal(selectedByTags(['web'], ['all']), true);
  });

  it('always runs unless skipped by name; never runs only when asked by one of its tags', () => {
    assert.equal(selectedByTags(['always'], ['db']), true);
    assert.equal(selectedByTags(['always'], undefined, ['always']), false);
    assert.equal(selectedByTags(['always', 'x'], undefined, ['x']), false);
    assert.equal(selectedByTags(['never', 'debug']), false);
    assert.equal(selectedByTags(['never', 'debug'], ['all']), false);
    assert.equal(selectedByTags(['never', 'debug'], ['debug']), true);
    assert.equal(selectedByTags(['never', 'debug'], ['never']), true);
  });

  it('--skip-tags wins over --tags; tagged and untagged select by having tags', () => {
    assert.equal(selectedByTags(['web', 'slow'], ['web'], ['slow']), false);
    assert.equal(selectedByTags(['web'], undefined, ['slow']), true);
    assert.equal(selectedByTags(undefined, ['untagged']), true);
    assert.equal(selectedByTags(['web'], ['untagged']), false);
    assert.equal(selectedByTags(['web'], ['tagged']), true);
    assert.equal(selectedByTags(['web'], undefined, ['tagged']), false);
  });
});
