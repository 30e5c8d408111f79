import * as vm from 'node:vm';

// The transformer under test (test/jest-fast-globals.cjs), applied here by hand to small modules that are run the way
// jest runs a module: inside a function (module, exports, require) in a fresh vm context.
const fastGlobals = require('./jest-fast-globals.cjs') as {
  createTransformer(o: unknown): { process(src: string, file: string, o: unknown): { code: string } | string };
  BUILTINS: string[];
};

const transformer = fastGlobals.createTransformer({ jsc: { target: 'es2022' }, sourceMaps: 'inline' });

function load(src: string, context: vm.Context = vm.createContext({})): { exports: Record<string, unknown>; context: vm.Context } {
  const out = transformer.process(src, '/virtual/mod.ts', { supportsStaticESM: false, config: {}, cacheFS: new Map(), transformerConfig: {} });
  const code = typeof out === 'string' ? out : out.code;
  const fn = vm.runInContext(`(function (module, exports, require) {${code}\n})`, context) as (m: unknown, e: unknown, r: unknown) => void;
  const module = { exports: {} as Record<string, unknown> };
  fn.call(module.exports, module, module.exports, (id: string) => {
    throw new Error(`no require in this test (${id})`);
  });
  return { exports: module.exports, context };
}

describe('jest-fast-globals transformer: same module semantics, builtins bound once per module', () => {
  test('exports and results are those of the untransformed module (a seeded generator and Math.log sums)', () => {
    const src = `
      export function gen(seed: number): () => number { let a = seed | 0; return () => { a = (a + 0x6d2b79f5) | 0; let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
      export const sum = (n: number) => { const r = gen(7); let s = 0; for (let i = 0; i < n; i++) s += Math.log(1 - r()); return s; };
      export const names = [...new Set(Object.keys({ b: 1, a: 2 }))].sort().join(',');`;
    const { exports } = load(src);
    // Same figure computed here, outside the transformer.
    let a = 7;
    let s = 0;
    for (let i = 0; i < 1000; i++) {
      a = (a + 0x6d2b79f5) | 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      s += Math.log(1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296);
    }
    expect((exports.sum as (n: number) => number)(1000)).toBe(s);
    expect(exports.names).toBe('a,b');
  });

  test("the builtins are the test context's own objects (a spy on Math.random is seen; instanceof works across the module)", () => {
    const context = vm.createContext({});
    const { exports } = load('export const draw = () => Math.random(); export const isArr = (x: unknown) => x instanceof Array;', context);
    const ctxMath = vm.runInContext('Math', context) as Math;
    const original = ctxMath.random;
    ctxMath.random = () => 0.25;
    try {
      expect((exports.draw as () => number)()).toBe(0.25);
    } finally {
      ctxMath.random = original;
    }
    expect((exports.isArr as (x: unknown) => boolean)(vm.runInContext('[1]', context))).toBe(true);
  });

  test('a module that declares its own Map or Math shadows the binding', () => {
    const { exports } = load(`
      const Map = { made: 'mine' }; class Math { static log() { return 'own'; } }
      export const which = Map.made + ':' + Math.log();`);
    expect(exports.which).toBe('mine:own');
  });

  test('Date stays a live global (jest.useFakeTimers replaces it after modules load)', () => {
    const context = vm.createContext({});
    const { exports } = load('export const now = () => Date.now();', context);
    vm.runInContext('globalThis.Date = { now: () => 42 }', context);
    expect((exports.now as () => number)()).toBe(42);
    expect(fastGlobals.BUILTINS).not.toContain('Date');
    expect(fastGlobals.BUILTINS).not.toContain('Promise');
  });

  test('line numbers are unchanged: the wrapped code has every line of the plain @swc/jest output at the same index', () => {
    const src = 'const a = 1;\nconst b = a + 1;\nexport function boom() { throw new Error(String(b)); }\n';
    const o = { supportsStaticESM: false, config: {}, cacheFS: new Map(), transformerConfig: {} };
    const text = (out: { code: string } | string) => (typeof out === 'string' ? out : out.code);
    const plain = text(
      require('@swc/jest')
        .createTransformer({ jsc: { target: 'es2022' }, sourceMaps: 'inline' })
        .process(src, '/virtual/m.ts', o),
    ).split('\n');
    const wrapped = text(transformer.process(src, '/virtual/m.ts', o)).split('\n');
    const at = (lines: string[]) => lines.findIndex((l) => l.includes('throw new Error'));
    expect(at(plain)).toBeGreaterThan(0);
    expect(at(wrapped)).toBe(at(plain));
    expect(wrapped.slice(1, plain.length)).toEqual(plain.slice(1));
  });

  test('ESM output is left alone', () => {
    const out = transformer.process('export const x = Math.PI;', '/virtual/e.ts', {
      supportsStaticESM: true,
      config: {},
      cacheFS: new Map(),
      transformerConfig: {},
    });
    const code = typeof out === 'string' ? out : out.code;
    expect(code).not.toContain('globalThis.Math');
  });
});
