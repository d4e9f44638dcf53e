import assert from 'node:assert/strict';
import { splitBatches } from '../../../src/runner/batches.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (b: string[][]) => b.map((x) => x.length);

describe('splitBatches', () => {
  it('puts every host in one batch without serial', () => {
    assert.deepEqual(sizes(splitBatches(hosts(7), undefined)), [7]);
    assert.deepEqual(sizes(splitBatches(hosts(7), 0)), [7]);
  });
  it('splits by a fixed number, the last batch holding the rest', () => {
    assert.deepEqual(sizes(splitBatches(hosts(7), 3)), [3, 3, 1]);
    assert.deepEqual(sizes(splitBatches(hosts(7), '3')), [3, 3, 1]);
  });
  it('rounds percentages down but never below one host, as Ansible does', () => {
    assert.deepEqual(sizes(splitBatches(hosts(10), '25%')), [2, 2, 2, 2, 2]);
    assert.deepEqual(sizes(splitBatches(hosts(3), '10%')), [1, 1, 1]);
  });
  it('follows a ramp and repeats its last step', () => {
    assert.deepEqual(sizes(splitBatches(hosts(20), '1,25%,100%')), [1, 5, 14]);
    assert.deepEqual(sizes(splitBatches(hosts(20), [1, 5])), [1, 5, 5, 5, 4]);
  });
  it('keeps the hosts in order', () => {
    assert.deepEqual(splitBatches(hosts(4), 2), [['h1', 'h2'], ['h3', 'h4']]);
  });
  it('rejects a step that is not a number or a percentage', () => {
    assert.throws(() => splitBatches(hosts(4), 'ten'), /serial: "ten" is not a number or a percentage/);
  });
});
