// Host ranges and host:port forms, as Ansible expands them.

import { deepStrictEqual, strictEqual, throws } from 'node:assert';
import { expandHostPattern, expandHostRange, isIpAddress, parseAddress } from '../../../src/inventory/host-range.js';

describe('host entries: ports and ranges', function () {
  it('expands numeric ranges, keeping leading zeros', function () {
    deepStrictEqual(expandHostRange('web[01:03].example.com'), ['web01.example.com', 'web02.example.com', 'web03.example.com']);
    deepStrictEqual(expandHostRange('web[8:10]'), ['web8', 'web9', 'web10']);
  });

  it('expands letter ranges and steps', function () {
    deepStrictEqual(expandHostRange('node-[a:c]'), ['node-a', 'node-b', 'node-c']);
    deepStrictEqual(expandHostRange('s[01:10:4]'), ['s01', 's05', 's09']);
    deepStrictEqual(expandHostRange('h[A:C]'), ['hA', 'hB', 'hC']);
  });

  it('expands several ranges in one name', function () {
    deepStrictEqual(expandHostRange('r[1:2]-[a:b]'), ['r1-a', 'r1-b', 'r2-a', 'r2-b']);
  });

  it('gives no host for an empty range, as Ansible does', function () {
    deepStrictEqual(expandHostRange('web[3:1]'), []);
  });

  it('refuses bad ranges', function () {
    throws(() => expandHostRange('web[01:]'), /must specify end value/);
    throws(() => expandHostRange('web[01:100]'), /equal-length/);
    throws(() => expandHostRange('web[1]'), /begin:end/);
    throws(() => expandHostRange('web[a:3]'), /not a number/);
    throws(() => expandHostRange('web[1:3'), /closed brackets/);
    throws(() => expandHostRange('web[c:a]'), /begin <= end/);
  });

  it('splits host:port and [ipv6]:port', function () {
    deepStrictEqual(parseAddress('web1:2222'), { host: 'web1', port: 2222 });
    deepStrictEqual(parseAddress('[::1]:22'), { host: '::1', port: 22 });
    deepStrictEqual(parseAddress('fe80::1'), { host: 'fe80::1', port: undefined });
    deepStrictEqual(parseAddress('10.0.0.1:22'), { host: '10.0.0.1', port: 22 });
    strictEqual(parseAddress('bad name'), undefined);
  });

  it('expands a pattern with a port', function () {
    deepStrictEqual(expandHostPattern('web[1:2]:2200'), { hostnames: ['web1', 'web2'], port: 2200 });
    deepStrictEqual(expandHostPattern('10.0.0.[1:2]'), { hostnames: ['10.0.0.1', '10.0.0.2'], port: undefined });
  });

  it('recognises IP addresses', function () {
    strictEqual(isIpAddress('10.1.2.3'), true);
    strictEqual(isIpAddress('::1'), true);
    strictEqual(isIpAddress('web.example.com'), false);
  });
});
