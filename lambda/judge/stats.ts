/**
 * Small numerical helpers the judge needs: log-gamma, the regularized incomplete beta function, binomial tails and
 * exact (Clopper-Pearson) bounds. No statistics package on npm offers anytime-valid e-processes, and these few
 * functions are all the judge needs (Numerical Recipes, 3rd ed., 6.1 and 6.4).
 */

// biome-ignore lint/correctness/noPrecisionLoss: the published coefficients, as printed
const LANCZOS = [
  57.1562356658629235, -59.5979603554754912, 14.1360979747417471, -0.491913816097620199, 0.339946499848118887e-4, 0.465236289270485756e-4,
  -0.983744753048795646e-4, 0.158088703224912494e-3, -0.210264441724104883e-3, 0.217439618115212643e-3, -0.16431810653676389e-3, 0.844182239838527433e-4,
  -0.261908384015814087e-4, 0.368991826595316234e-5,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 607/128; relative error below 1e-15). */
export function lgamma(x: number): number {
  if (!(x > 0)) throw new Error(`lgamma needs x > 0, got ${x}`);
  let y = x;
  const tmp = x + 5.2421875;
  const t = (x + 0.5) * Math.log(tmp) - tmp;
  // biome-ignore lint/correctness/noPrecisionLoss: the published constant, as printed
  let ser = 0.999999999999997092;
  for (const c of LANCZOS) ser += c / ++y;
  return t + Math.log((2.5066282746310005 * ser) / x);
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
