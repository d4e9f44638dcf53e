// known_hosts parsing and host key decisions, with entries written by OpenSSH's own tools (ssh-keygen -H).
import assert from 'node:assert/strict';
import {
  changedHostKeyMessage,
  checkHostKey,
  fingerprintOf,
  formatKnownHostsLine,
  hostFieldMatches,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  knownHostName,
  parseKnownHosts,
  unknownHostKeyMessage,
} from '../../../src/connection/known-hosts.js';

const keyA = 'AAAAC3NzaC1lZDI1NTE5AAAAIFCs9GZ+6K78T6pf0W55d6vnyHu3tp7A49r15LOLVXcR';
const keyB = 'AAAAC3NzaC1lZDI1NTE5AAAAINqxjKZ9+qlzrggLVSIQEsQ0ng/CpLW/Z3wb365bu1Rb';
const keyEcdsa =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGvvXqO3RutYTJ2hhzK2tmkztWmw8TjDv7fGOUVIAspNQCiNiLsdPErqqFMurpe5hbx+4sLi/Xkwo9VKYq7nRtE=';
const blobA = Buffer.from(keyA, 'base64');
const blobEcdsa = Buffer.from(keyEcdsa, 'base64');

// `ssh-keygen -H` of "[127.0.0.1]:2222 …" and "example.com …" with keyA.
const hashedPort = '|1|MyyyHxzFZoGDP5P6q5IPHUGvfq8=|S9ImDsj2mI/Uk36lRGo9qyTqYEw=';
const hashedName = '|1|PzqUq8w1JGtibdeXrdFNto8qkdY=|CNAdZ/UcJfePS/2Zh6ksrhWhEJg=';

describe('known_hosts', () => {
  it('names hosts as OpenSSH records them', () => {
    assert.equal(knownHostName('example.com', 22), 'example.com');
    assert.equal(knownHostName('example.com'), 'example.com');
    assert.equal(knownHostName('127.0.0.1', 2222), '[127.0.0.1]:2222');
  });

  it('parses entries with markers, skipping comments, blanks and junk, keeping line numbers', () => {
    const text = `# comment\n\nexample.com ssh-ed25519 ${keyA}\n@revoked * ssh-ed25519 ${keyB}\n@cert-authority *.corp ssh-ed25519 ${keyB}\n@bogus x ssh-ed25519 ${keyB}\nbroken-line\n  web1,web2 ssh-ed25519 ${keyB} comment here\n`;
    const entries = parseKnownHosts(text, '/k');
    assert.deepEqual(
      entries.map((e) => [e.line, e.marker, e.hosts]),
      [
        [3, undefined, 'example.com'],
        [4, 'revoked', '*'],
        [5, 'cert-authority', '*.corp'],
        [8, undefined, 'web1,web2'],
      ],
    );
    assert.equal(entries[3]?.key, keyB);
    assert.equal(entries[0]?.file, '/k');
  });

  it('matches hashed entries made by ssh-keygen -H, with and without a port', () => {
    assert.ok(hostFieldMatches(hashedPort, '[127.0.0.1]:2222'));
    assert.ok(!hostFieldMatches(hashedPort, '127.0.0.1'));
    assert.ok(!hostFieldMatches(hashedPort, '[127.0.0.1]:2223'));
    assert.ok(hostFieldMatches(hashedName, 'example.com'));
    assert.ok(!hostFieldMatches(hashedName, 'example.org'));
    assert.ok(!hostFieldMatches('|1|garbage', 'example.com'));
  });

  it('matches comma lists, wildcards and negations, case-insensitively', () => {
    assert.ok(hostFieldMatches('web1,web2', 'web2'));
    assert.ok(!hostFieldMatches('web1,web2', 'web3'));
    assert.ok(hostFieldMatches('*.example.com', 'a.example.com'));
    assert.ok(!hostFieldMatches('*.example.com', 'example.com'));
    assert.ok(hostFieldMatches('web?', 'web7'));
    assert.ok(!hostFieldMatches('web?', 'web17'));
    assert.ok(hostFieldMatches('Example.COM', 'example.com'));
    assert.ok(!hostFieldMatches('*.example.com,!bad.example.com', 'bad.example.com'));
    assert.ok(hostFieldMatches('[127.0.0.1]:*', '[127.0.0.1]:2222'));
    assert.ok(!hostFieldMatches('a.b', 'aXb'), 'dots are literal');
  });

  it('reads the key type from a key blob and fingerprints it as ssh-keygen -l does', () => {
    assert.equal(keyTypeOf(blobA), 'ssh-ed25519');
    assert.equal(keyTypeOf(blobEcdsa), 'ecdsa-sha2-nistp256');
    assert.equal(fingerprintOf(blobA), 'SHA256:PkYm9sOkWIRk++KUB4ulz1mXxdXxYSY1D1nm2ySCqOc');
  });

  describe('checkHostKey', () => {
    const name = '[127.0.0.1]:2222';

    it('knows a recorded key, hashed or plain', () => {
      const hashed = parseKnownHosts(`${hashedPort} ssh-ed25519 ${keyA}\n`, '/k');
      assert.equal(checkHostKey(hashed, name, blobA).status, 'known');
      const plain = parseKnownHosts(`[127.0.0.1]:2222 ssh-ed25519 ${keyA}\n`, '/k');
      assert.equal(checkHostKey(plain, name, blobA).status, 'known');
    });

    it('calls a key unknown when nothing is recorded for the host, noting other key types', () => {
      const entries = parseKnownHosts(`[127.0.0.1]:2223 ssh-ed25519 ${keyA}\n${name} ecdsa-sha2-nistp256 ${keyEcdsa}\n`, '/k');
      const v = checkHostKey(entries, name, blobA);
      assert.deepEqual(v, { status: 'unknown', otherTypes: ['ecdsa-sha2-nistp256'] });
      assert.equal(checkHostKey([], name, blobA).status, 'unknown');
    });

    it('calls a different key of the same type changed, naming the file and line', () => {
      const entries = parseKnownHosts(`other ssh-ed25519 ${keyB}\n${hashedPort} ssh-ed25519 ${keyB}\n`, '/home/u/.ssh/known_hosts');
      const v = checkHostKey(entries, name, blobA);
      assert.equal(v.status, 'changed');
      assert.ok(v.status === 'changed');
      assert.equal(v.entry.line, 2);
      const msg = changedHostKeyMessage(name, blobA, v.entry);
      assert.match(msg, /WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!/);
      assert.match(msg, /Offending key in \/home\/u\/\.ssh\/known_hosts:2/);
      assert.match(msg, /SHA256:PkYm9sOkWIRk/);
    });

    it('accepts the key when one of several lines for the host holds it', () => {
      const entries = parseKnownHosts(`${name} ssh-ed25519 ${keyB}\n${name} ssh-ed25519 ${keyA}\n`, '/k');
      assert.equal(checkHostKey(entries, name, blobA).status, 'known');
    });

    it('refuses a @revoked key even when another line accepts it', () => {
      const entries = parseKnownHosts(`${name} ssh-ed25519 ${keyA}\n@revoked * ssh-ed25519 ${keyA}\n`, '/k');
      const v = checkHostKey(entries, name, blobA);
      assert.equal(v.status, 'revoked');
      assert.ok(v.status === 'revoked' && v.entry.line === 2);
    });

    it('ignores @cert-authority lines for plain keys', () => {
      const entries = parseKnownHosts(`@cert-authority ${name} ssh-ed25519 ${keyB}\n`, '/k');
      assert.equal(checkHostKey(entries, name, blobA).status, 'unknown');
    });
  });

  it('offers the recorded key types first', () => {
    const entries = parseKnownHosts(`h ecdsa-sha2-nistp256 ${keyEcdsa}\nh ssh-rsa AAAA\nother ssh-ed25519 ${keyA}\n`, '/k');
    const algs = hostKeyAlgorithmsFor(entries, 'h');
    assert.deepEqual(algs.slice(0, 4), ['ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.ok(algs.includes('ssh-ed25519'));
    assert.equal(new Set(algs).size, algs.length);
    assert.equal(hostKeyAlgorithmsFor([], 'h')[0], 'ssh-ed25519');
  });

  it('formats the appended line and tells how to accept an unknown key', () => {
    assert.equal(formatKnownHostsLine('[127.0.0.1]:2222', blobA), `[127.0.0.1]:2222 ssh-ed25519 ${keyA}\n`);
    const msg = unknownHostKeyMessage('[127.0.0.1]:2222', blobA, ['/tmp/kh', '/root/.ssh/known_hosts']);
    assert.match(msg, /--accept-new-host-keys/);
    assert.match(msg, /add it to \/tmp\/kh/);
    assert.match(msg, /SHA256:/);
  });
});
