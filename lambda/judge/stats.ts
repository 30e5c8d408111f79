/**
 * Small numerical helpers the judge needs: log-gamma, the regularized incomplete beta function, binomial tails and
 * exact (Clopper-Pearson) bounds. No statistics package on npm offers anytime-valid e-processes, and these few
 * functions are all the judge needs (Numerical Recipes, 3rd ed., 6.1 and 6.4).
 */

// The published coefficients, rounded to the nearest double.
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 0.00003399464998481189, 0.00004652362892704858, -0.00009837447530487956,
  0.0001580887032249125, -0.00021026444172410488, 0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275, -0.000026190838401581408,
  0.0000036899182659531625,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 607/128; relative error below 1e-15). */
export function lgamma(x: number): number {
  if (!(x > 0)) throw new Error(`lgamma needs x > 0, got ${x}`);
  let y = x;
  const tmp = x + 5.2421875;
  const t = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.9999999999999971;
  for (const c of LANCZOS) ser += c / ++y;
  return t + Math.log((2.5066282746310007 * ser) / x);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const bt = Math.exp(lbt);
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return betaInc(n - k, k + 1, 1 - p);
}

/**
 * The exact one-sided upper confidence bound for a binomial rate: the p at which P(X ≤ x | n, p) = delta
 * (Clopper-Pearson). With probability ≥ 1 - delta the true rate is at most this.
 */
export function binomialUpper(x: number, n: number, delta: number): number {
  if (x >= n) return 1;
  let lo = x / n;
  let hi = 1;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (binomialCdf(x, n, mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The exact one-sided lower bound: with probability ≥ 1 - delta the true rate is at least this. */
export function binomialLower(x: number, n: number, delta: number): number {
  return x <= 0 ? 0 : 1 - binomialUpper(n - x, n, delta);
}

/** ln(Σ exp(v)) without overflow. */
export function logSumExp(v: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of v) if (x > m) m = x;
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** ln of the mixture with equal weights of the e-processes whose logs are `v`. */
export function logMeanExp(v: readonly number[]): number {
  return logSumExp(v) - Math.log(v.length);
}

/** The number of sorted `ref` values below `x`. */
export function lowerBound(ref: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = ref.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ref[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The number of sorted `ref` values at most `x`. */
export function upperBound(ref: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = ref.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ref[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * upperBound(ref, x) given lo = lowerBound(ref, x): the values from lo on that are not above x are the ties of x, so a
 * short scan finds their end (continuous values rarely tie); a long run of ties falls back to the binary search.
 */
export function upperBoundFrom(ref: ArrayLike<number>, lo: number, x: number): number {
  const n = ref.length;
  let i = lo;
  for (let c = 0; c < 8; c++, i++) if (i >= n || ref[i] > x) return i;
  let hi = n;
  while (i < hi) {
    const mid = (i + hi) >>> 1;
    if (ref[mid] <= x) i = mid + 1;
    else hi = mid;
  }
  return i;
}

/** The share of `ref` (sorted) below `x`, counting ties as half. */
export function midRank(ref: Float64Array, x: number): number {
  const less = lowerBound(ref, x);
  return (less + (upperBoundFrom(ref, less, x) - less) / 2) / ref.length;
}

/** FNV-1a, 32 bits: a cluster key as a number (the state stays small; a collision only drops a cluster's events). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
