// Python's random.Random (Mersenne Twister, seeded as Python 3 seeds it), so `random(seed=inventory_hostname)` picks
// what Ansible's random filter picks for the same seed; without a seed, the system's random numbers.

import { createHash, randomInt } from 'node:crypto';

/** The subset of Python's Random that Ansible's random filter uses. */
export interface PyRandom {
  randrange(start: number, stop: number, step: number): number;
  choice<T>(list: T[]): T;
}

class MersenneTwister {
  private readonly mt = new Uint32Array(624);
  private index = 625;

  constructor(key: number[]) {
    this.initGenrand(19650218);
    const mt = this.mt;
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= 624) {
        mt[0] = mt[623]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) {
        mt[0] = mt[623]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  private initGenrand(s: number): void {
    this.mt[0] = s >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1]! ^ (this.mt[i - 1]! >>> 30);
      this.mt[i] = (Math.imul(prev, 1812433253) + i) >>> 0;
    }
    this.index = 624;
  }

  uint32(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/** Python 3's seed(): text as its bytes followed by their sha512 (version 2), numbers as their absolute value. */
function seedKey(seed: unknown): number[] {
  let big: bigint;
  if (typeof seed === 'number' && Number.isInteger(seed)) big = BigInt(Math.abs(seed));
  else if (typeof seed === 'boolean') big = seed ? 1n : 0n;
  else {
    const bytes = Buffer.from(String(seed), 'utf8');
    const all = Buffer.concat([bytes, createHash('sha512').update(bytes).digest()]);
    big = BigInt(`0x${all.toString('hex')}`);
  }
  const key: number[] = [];
  while (big > 0n) {
    key.push(Number(big & 0xffffffffn));
    big >>= 32n;
  }
  return key.length ? key : [0];
}

/** Python's Random(seed), or SystemRandom() when seed is undefined. */
export function pythonRandom(seed?: unknown): PyRandom {
  const mt = seed === undefined ? undefined : new MersenneTwister(seedKey(seed));
  const below = (n: number): number => {
    if (n <= 0) throw new Error('empty range for randrange()');
    if (!mt) return randomInt(n);
    const k = Math.floor(Math.log2(n)) + 1;
    if (k > 32) throw new Error('random: ranges beyond 2**32 are not supported');
    for (;;) {
      const r = mt.uint32() >>> (32 - k);
      if (r < n) return r;
    }
  };
  return {
    randrange(start, stop, step) {
      const width = stop - start;
      if (step === 1) return start + below(width);
      const n = step > 0 ? Math.floor((width + step - 1) / step) : Math.floor((width + step + 1) / step);
      return start + step * below(n);
    },
    choice(list) {
      if (!list.length) throw new Error('Cannot choose from an empty sequence');
      return list[below(list.length)]!;
    },
  };
}
