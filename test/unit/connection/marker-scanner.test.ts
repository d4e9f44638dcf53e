// The persistent shell's framing: output before a marker passes through exactly, however the chunks are cut.
import assert from 'node:assert/strict';
import { MarkerScanner } from '../../../src/connection/shell-session.js';

function scan(chunks: Buffer[], marker = '__END_1__') {
  const out: Buffer[] = [];
  const s = new MarkerScanner(Buffer.from(marker), (d) => out.push(Buffer.from(d)));
  for (const c of chunks) s.push(c);
  return { data: Buffer.concat(out), tail: s.tail, found: s.found };
}

describe('MarkerScanner', () => {
  const body = Buffer.concat([Buffer.from('line one\n__END_'), Buffer.from([0, 255, 10]), Buffer.from('no final newline')]);
  const whole = Buffer.concat([body, Buffer.from('__END_1__ 0\n')]);

  it('passes everything before the marker and keeps what follows it', () => {
    const r = scan([whole]);
    assert.ok(r.found);
    assert.ok(r.data.equals(body));
    assert.equal(r.tail?.toString(), ' 0\n');
  });

  it('finds a marker split across chunks at every possible cut', () => {
    for (let cut = 0; cut <= whole.length; cut++) {
      const r = scan([whole.subarray(0, cut), whole.subarray(cut)]);
      assert.ok(r.data.equals(body), `cut at ${cut}`);
      assert.equal(r.tail?.toString(), ' 0\n');
    }
    const bytes = [...whole].map((b) => Buffer.from([b]));
    assert.ok(scan(bytes).data.equals(body), 'one byte at a time');
  });

  it('streams output while waiting, holding back less than a marker', () => {
    const out: Buffer[] = [];
    const s = new MarkerScanner(Buffer.from('__END_1__'), (d) => out.push(d));
    s.push(Buffer.alloc(10_000, 'a'));
    assert.ok(!s.found);
    assert.ok(Buffer.concat(out).length >= 10_000 - 8);
  });

  it('collects later chunks into the tail once found', () => {
    const r = scan([Buffer.from('x__END_1__ 4'), Buffer.from('2\n')]);
    assert.equal(r.data.toString(), 'x');
    assert.equal(r.tail?.toString(), ' 42\n');
  });
});
