// Memory a hostile host can claim: a `find` first on the host's PATH that answers the batched read with 32 MiB. The
// reads still give the right answers (redone one by one), and the controller holds no more of an answer than the
// batch asked for (bytes counted on what each command's result kept), over an exec channel and the persistent shell.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { connectHost } from '../../../src/connection/connect.js';
import type { Connection, ExecOptions, ExecResult } from '../../../src/connection/types.js';
import { pathReads } from '../../../src/modules/lib/path-reads.js';
import { sshTargetOf, startFleet, type Fleet } from '../../fleet/fleet.js';

const hostileBytes = 32 * 1024 * 1024;

describe('a hostile find answering the batched read with 32 MiB (real sshd)', function () {
  this.timeout(120_000);
  let fleet: Fleet;
  let root: string;
  before(async () => {
    fleet = await startFleet(1);
    root = fleet.hosts[0]!.root;
    mkdirSync(join(root, 'd'), { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'hello\n');
    symlinkSync('a.txt', join(root, 'l'));
    // Placed first on the PATH of the host's sessions (the fleet's own home, read by bash for an ssh command).
    const bin = join(fleet.dir, 'hostile-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'find'), `#!/bin/sh\ncase "$*" in *-printf*) head -c ${hostileBytes} /dev/zero | tr '\\0' x; exit 0;; esac\nexec /usr/bin/find "$@"\n`);
    chmodSync(join(bin, 'find'), 0o755);
    const bashrc = join(fleet.dir, 'home', '.bashrc');
    writeFileSync(bashrc, `PATH=${bin}:$PATH; export PATH\n${readFileSync(bashrc, 'utf8')}`);
  });
  after(async () => {
    await fleet?.stop();
  });

  for (const persistentShell of [false, true]) {
    it(`gives the right answers and holds at most what was asked (${persistentShell ? 'persistent shell' : 'exec channels'})`, async () => {
      const conn: Connection = await connectHost(sshTargetOf(fleet, fleet.hosts[0]!, { persistentShell }));
      const held: Array<{ max: number; kept: number; truncated: boolean }> = [];
      const exec = conn.exec.bind(conn);
      conn.exec = async (command: string | string[], opts?: ExecOptions): Promise<ExecResult> => {
        const r = await exec(command, opts);
        held.push({ max: opts?.maxOutput ?? 0, kept: r.stdout.length + r.stderr.length, truncated: r.truncated === true });
        return r;
      };
      try {
        const probe = await exec('command -v find');
        assert.equal(probe.stdout.trim(), join(fleet.dir, 'hostile-bin', 'find'), 'the hostile find is first on the PATH');
        const reads = pathReads(conn);
        const paths = ['a.txt', 'd', 'l', 'missing'].map((p) => join(root, p));
        const [file, dir, link, missing] = await Promise.all(paths.map((p) => reads.stat(p, false, { checksum: true, content: true })));
        assert.equal(file?.type, 'file');
        assert.equal(file?.content?.toString(), 'hello\n');
        assert.equal(file?.sha256, createHash('sha256').update('hello\n').digest('hex'));
        assert.equal(dir?.type, 'directory');
        assert.equal(link?.type, 'link');
        assert.equal(link?.linkTarget, 'a.txt');
        assert.equal(missing, null);

        // What was asked: 4 records, checksums and contents of up to 256 KiB (base64, ~1.4 MiB), a MiB over at most.
        const bound = 3 * 1024 * 1024;
        for (const h of held) {
          assert.ok(h.max <= bound, `a read may hold ${h.max} bytes, over the batch's bound ${bound}`);
          assert.ok(h.kept <= 2 * bound, `a read kept ${h.kept} bytes of its answer (stdout and stderr), over the bound ${bound}`);
        }
        assert.ok(held.some((h) => h.truncated), 'the hostile answer came, and was cut');
      } finally {
        await conn.close();
      }
    });
  }
});
