// Model::infer (wasm32 + simd128, folded batch norm, real weights) against onnxruntime-web
// (wasm backend, SIMD, one thread) on the same models, interleaved in one Chromium launch.
// Run by scripts/bench_wasm_ort.sh; BENCH_VARIANTS, BENCH_ROUNDS, BENCH_RUNS override.
import { test, expect } from '@playwright/test';

const VARIANTS = (process.env.BENCH_VARIANTS ?? 'unpool-none unpool-add unpool-concat transposed-none transposed-add transposed-concat bilinear-none bilinear-add bilinear-concat').split(/\s+/).filter(Boolean);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ENGINE_WASM = process.env.BENCH_ENGINE_WASM ?? '/tests/bench/out/engine.wasm';

test('engine against onnxruntime-web, one thread', async ({ page, browserName }) => {
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.log(`[page error] ${e}`));
  await page.goto('/tests/bench/bench.html');
  await expect.poll(() => page.evaluate(() => (window as any).benchReady === true)).toBe(true);
  const version = await page.evaluate(() => navigator.userAgent);
  const lines = [
    `${browserName}: ${version}`,
    `192x256, ${ROUNDS} rounds x ${RUNS} runs each, interleaved; engine ${ENGINE_WASM}; onnxruntime-web 1.30.0 wasm, 1 thread`,
    `${'variant'.padEnd(20)} ${'engine min'.padStart(10)} ${'median'.padStart(8)} ${'ORT min'.padStart(9)} ${'median'.padStart(8)} ${'ratio min'.padStart(9)} ${'median'.padStart(8)}`,
  ];
  console.log(lines.join('\n'));
  for (const v of VARIANTS) {
    const r = await page.evaluate(([variant, opts]) => (window as any).benchVariant(variant, opts),
      [v, { height: 192, width: 256, rounds: ROUNDS, runs: RUNS, engineWasm: ENGINE_WASM }] as const);
    const f = (x: number, n: number) => x.toFixed(2).padStart(n);
    const line = `${v.padEnd(20)} ${f(r.engine.min, 10)} ${f(r.engine.median, 8)} ${f(r.ort.min, 9)} ${f(r.ort.median, 8)} ${f(r.engine.min / r.ort.min, 9)} ${f(r.engine.median / r.ort.median, 8)}`;
    console.log(line);
    lines.push(line);
  }
  if (process.env.BENCH_OUT) require('fs').writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
});

// The engine's own per-layer table in the same browser (BENCH_LAYERS=1 to run it).
test('engine per layer, width 10', async ({ page }) => {
  test.skip(!process.env.BENCH_LAYERS, 'set BENCH_LAYERS=1');
  await page.goto('/tests/bench/bench.html');
  await expect.poll(() => page.evaluate(() => (window as any).benchReady === true)).toBe(true);
  const report = await page.evaluate((opts) => (window as any).benchLayers(opts), { width: 10, repeats: 5, engineWasm: ENGINE_WASM });
  console.log(report);
  if (process.env.BENCH_OUT) require('fs').appendFileSync(process.env.BENCH_OUT, report);
});
