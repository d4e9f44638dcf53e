// Where state 'link' looks for its src, as Ansible's file.py does (os.path.join of the link's folder and src).
import assert from 'node:assert/strict';
import { linkSource } from '../../../src/modules/file.js';

describe("file state 'link': where src is looked for", () => {
  it('takes an absolute src as it is', () => {
    assert.equal(linkSource('/srv/app/current', '/srv/app/releases/v2', false), '/srv/app/releases/v2');
    assert.equal(linkSource('/srv/app/current', '/srv/app/releases/v2', true), '/srv/app/releases/v2');
  });
  it("takes a relative src from the link's folder, or from path itself when that is a folder", () => {
    assert.equal(linkSource('/srv/app/current', 'releases/v2', false), '/srv/app/releases/v2');
    // not normalized, as os.path.join: `..` after a linked folder is the kernel's to resolve
    assert.equal(linkSource('/srv/app/sub/l', '../sub', false), '/srv/app/sub/../sub');
    assert.equal(linkSource('/l', 'x', false), '/x');
    assert.equal(linkSource('/srv/app/current', 'releases/v2', true), '/srv/app/current/releases/v2');
  });
});
