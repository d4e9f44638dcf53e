// sha512_crypt against the test vectors of its specification (Drepper's "Unix crypt using SHA-256 and SHA-512").
import { match, strictEqual } from 'node:assert';
import { sha512Crypt } from '../../../src/inventory/jinja-crypt.js';

describe('sha512_crypt (password_hash)', function () {
  it('gives the specification\'s hashes, with the default and with given rounds', function () {
    strictEqual(sha512Crypt('Hello world!', 'saltstring'), '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1');
    strictEqual(
      sha512Crypt('Hello world!', 'saltstringsaltstring', 10000),
      '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
    );
  });

  it('makes a random 16-character salt when none is given', function () {
    match(sha512Crypt('pw'), /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });
});
