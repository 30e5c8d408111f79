/**
 * The evaluation sampler's draw (h10-hot17): one uniform number in [0, 1) per request id, from a fast non-crypto
 * keyed hash. Every request pays the draw, sampled or not, so it must be cheap: before h10-hot17 it was one SHA-256 of
 * the id plus its hex encoding and a parseInt of 13 hex digits (~10,000 instructions per request under callgrind);
 * this is one pass of two 32-bit multiply-xor lanes over the id's UTF-16 units and a final avalanche (cyrb53's mixing,
 * bryc, public domain): 53 bits, a few hundred instructions for a Lambda request id.
 *
 * What the sampler needs from it, and what test/sample-draw.test.ts pins: deterministic per request id (a redelivered
 * request decides the same), uniform on Lambda's UUID request ids, on sequential ids and on ids one character apart,
 * and independent of the check sampler's draw and the config canary's assignment of the same ids. It is not a
 * secret: the request id is Lambda's, not the caller's, so nobody picks which requests are sampled.
 */

/** The key of the evaluation sampler's draw (a fixed 32-bit seed: the draw is the same on every runtime and version). */
export const EVALUATION_DRAW_SEED = 0x5e_17_d3_a1;

const TWO_53 = 2 ** 53;

/** A uniform number in [0, 1) from `text`, keyed by the 32-bit `seed`: 53 bits of cyrb53. */
export function drawUnit(seed: number, text: string): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)) / TWO_53;
}
