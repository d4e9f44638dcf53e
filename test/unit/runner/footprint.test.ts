import assert from 'node:assert/strict';
import { overlaps, planStillHolds } from '../../../src/runner/footprint.js';

describe('planStillHolds', () => {
  const reads = (...paths: string[]) => ({ reads: paths.map((path) => ({ path })), writes: [] });

  it('holds when nothing was applied since the plan was made', () => {
    assert.equal(planStillHolds(undefined, []), true);
  });
  it('does not hold after a write of the same path, whatever its spelling', () => {
    assert.equal(planStillHolds(reads('/srv/app/x.conf'), [[{ path: '/srv/app/./x.conf' }]]), false);
    assert.equal(planStillHolds(reads('/srv/app/'), [[{ path: '/srv/app' }]]), false);
  });
  it('holds after writes elsewhere, or of a parent directory that is not a tree write', () => {
    assert.equal(planStillHolds(reads('/srv/app/db/db.sqlite3'), [[{ path: '/srv/app/db' }], [{ path: '/srv/other' }]]), true);
    assert.equal(planStillHolds(reads('/srv/app2'), [[{ path: '/srv/app' , tree: true }]]), true);
  });
  it('does not hold after a tree write above it, or a write inside a tree it read', () => {
    assert.equal(planStillHolds(reads('/srv/app/db'), [[{ path: '/srv/app', tree: true }]]), false);
    assert.equal(planStillHolds({ reads: [{ path: '/srv/app', tree: true }], writes: [] }, [[{ path: '/srv/app/x' }]]), false);
    assert.equal(overlaps({ path: '/a/b' }, { path: '/', tree: true }), true);
  });
  it('does not hold after a write of anything, or for a task that does not say what it reads', () => {
    assert.equal(planStillHolds(reads('/x'), ['anything']), false);
    assert.equal(planStillHolds(reads('/x'), [undefined]), false);
    assert.equal(planStillHolds(undefined, [[{ path: '/y' }]]), false);
  });
  it("a plan that reads 'anything' holds only after applies that wrote nothing", () => {
    const anything = { reads: 'anything' as const, writes: [] };
    assert.equal(planStillHolds(anything, [[], []]), true);
    assert.equal(planStillHolds(anything, [[{ path: '/tmp/unrelated' }]]), false);
    assert.equal(planStillHolds(anything, [[{ path: 'service:apache2' }]]), false);
  });
});
