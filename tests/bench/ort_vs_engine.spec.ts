// Model::infer (wasm32, folded batch norm, real weights; each engine build of
// BENCH_ENGINE_WASMS, by default the simd128 and the relaxed-SIMD builds) against
// onnxruntime-web (wasm backend, SIMD, one thread) on the same models, interleaved round by
// round in one Chromium launch. Run by scripts/bench_wasm_ort.sh; BENCH_VARIANTS,
// BENCH_ROUNDS, BENCH_RUNS override.
import { test, expect } from '@playwright/test';

const VARIANTS = (process.env.BENCH_VARIANTS ?? 'unpool-none unpool-add unpool-concat transposed-none transposed-add transposed-concat bilinear-none bilinear-add bilinear-concat').split(/\s+/).filter(Boolean);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ENGINE_WASMS = (process.env.BENCH_ENGINE_WASMS ?? 'simd128=/tests/bench/out/engine.wasm,relaxed=/tests/bench/out/engine-relaxed.wasm')
  .split(',').filter(Boolean).map((s) => { const [label, file] = s.split('='); return { label, file }; });
const ENGINE_WASM = ENGINE_WASMS[0].file;

test('engine against onnxruntime-web, one thread', async ({ page, browserName }) => {
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`[page error] ${e}`));
  await page.goto('/tests/bench/bench.html');
  await expect.poll(() => page.evaluate(() => (window as any).benchReady === true)).toBe(true);
  const version = await page.evaluate(() => navigator.userAgent);
  const f = (x: number, n: number) => x.toFixed(2).padStart(n);
  const lines = [
    `${browserName}: ${version}`,
    `192x256, ${ROUNDS} rounds x ${RUNS} runs each, interleaved; engines ${ENGINE_WASMS.map((e) => `${e.label} ${e.file}`).join(', ')}; onnxruntime-web 1.30.0 wasm, 1 thread`,
    `ms min / median; ratio: engine / ORT`,
    `${'variant'.padEnd(18)}` + ENGINE_WASMS.map((e) => `${(e.label + ' min').padStart(14)} ${'median'.padStart(7)}`).join('')
      + `${'ORT min'.padStart(9)} ${'median'.padStart(7)}` + ENGINE_WASMS.map((e) => `${(e.label + ' ratio min').padStart(20)} ${'median'.padStart(7)}`).join(''),
  ];
  console.log(lines.join('\n'));
  for (const v of VARIANTS) {
    const r = await page.evaluate(([variant, opts]) => (window as any).benchVariant(variant, opts),
      [v, { height: 192, width: 256, rounds: ROUNDS, runs: RUNS, engineWasms: ENGINE_WASMS.map((e) => e.file) }] as const);
    const line = v.padEnd(18) + r.engines.map((e: any) => `${f(e.min, 14)} ${f(e.median, 7)}`).join('') + `${f(r.ort.min, 9)} ${f(r.ort.median, 7)}`
      + r.engines.map((e: any) => `${f(e.min / r.ort.min, 20)} ${f(e.median / r.ort.median, 7)}`).join('');
    console.log(line);
    lines.push(line);
  }
  if (process.env.BENCH_OUT) require('fs').writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
});

// The engine's own per-layer table in the same browser (BENCH_LAYERS=1 to run it), of the
// first variant of BENCH_VARIANTS (default transposed-add).
const ALL_VARIANTS = ['unpool', 'transposed', 'bilinear'].flatMap((u) => ['none', 'add', 'concat'].map((s) => `${u}-${s}`));
test('engine per layer, width 10', async ({ page }) => {
  test.skip(!process.env.BENCH_LAYERS, 'set BENCH_LAYERS=1');
  await page.goto('/tests/bench/bench.html');
  await expect.poll(() => page.evaluate(() => (window as any).benchReady === true)).toBe(true);
  const variant = ALL_VARIANTS.indexOf(process.env.BENCH_VARIANTS ? VARIANTS[0] : 'transposed-add');
  const report = await page.evaluate((opts) => (window as any).benchLayers(opts), { width: 10, repeats: 5, variant, engineWasm: ENGINE_WASM });
  console.log(report);
  if (process.env.BENCH_OUT) require('fs').appendFileSync(process.env.BENCH_OUT, report);
});

// A visitor's first mask: each engine build compiled afresh in a new browser context, its
// load (weights parsed, batch norm folded, an input drawn, one pass) and the passes after it, the builds interleaved run by run
// (BENCH_FIRST=1 to run it; BENCH_RUNS runs, default 3; transposed-concat, the page's first model).
test('engine first pass, fresh module', async ({ browser }) => {
  test.skip(!process.env.BENCH_FIRST, 'set BENCH_FIRST=1');
  const runs = Math.max(RUNS, 3);
  const variant = VARIANTS.includes('transposed-concat') ? 'transposed-concat' : VARIANTS[0];
  const times: { load: number[]; second: number[]; fifth: number[] }[] = ENGINE_WASMS.map(() => ({ load: [], second: [], fifth: [] }));
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < ENGINE_WASMS.length; j++) {
      const k = (j + r) % ENGINE_WASMS.length;
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto('/tests/bench/bench.html');
      await expect.poll(() => page.evaluate(() => (window as any).benchReady === true)).toBe(true);
      const x = await page.evaluate((opts) => (window as any).benchFirstPass(opts),
        { variant, height: 192, width: 256, infers: 5, engineWasm: ENGINE_WASMS[k].file });
      times[k].load.push(x.load);
      times[k].second.push(x.passes[0]);
      times[k].fifth.push(x.passes[4]);
      await context.close();
    }
  }
  const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const f = (xs: number[]) => `${Math.min(...xs).toFixed(1).padStart(8)} ${med(xs).toFixed(1).padStart(7)}`;
  const lines = [
    `${variant}, 192x256, a fresh module per run, ${runs} runs per build, interleaved; ms min / median`,
    `${'build'.padEnd(12)}${'load and first pass'.padStart(26)}${'second pass'.padStart(18)}${'fifth pass'.padStart(18)}`,
    ...ENGINE_WASMS.map((e, k) => `${e.label.padEnd(12)}${' '.repeat(10)}${f(times[k].load)}  ${f(times[k].second)}  ${f(times[k].fifth)}`),
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_OUT) require('fs').appendFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
});
