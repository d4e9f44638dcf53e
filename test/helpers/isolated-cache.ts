// Loaded by mocha before any test (.mocharc.json "require"): the playbooks the tests compile, in this process and in
// the CLIs it starts, are cached in a folder of this test run, removed when it ends, not in the user's ~/.cache.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.env.PROVISION_CACHE_DIR === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'provision-test-cache-'));
  process.env.PROVISION_CACHE_DIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
