// The learn view's training speed: for each build of BENCH_DISTS, interleaved run by run
// (BENCH_RUNS, default 3), a fresh page at ?learn=1 with the issue's settings (64x64, depth 3,
// width 8, batch 4; task BENCH_TASK, default lines; upsampler BENCH_UP, default transposed) trains
// the three models for BENCH_SECONDS (default 20) from play. Steps/s per model is the steps
// counted between 2 s after play and the end, over that time (the first chunks pay the
// workers' warm-up); also the longest frame gap on the page while training. Prints min and
// median per build; BENCH_OUT also writes the table there.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { DISTS } from './page.config';
import { probeFrames, longestGap } from '../e2e/frame_probe';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const SKIPS = ['none', 'add', 'concat'];
const WARM_MS = 2_000;

const steps = (page: Page) =>
  Promise.all(SKIPS.map(async (s) => Number(await page.locator(`.learn-model[data-skip="${s}"]`).getAttribute('data-steps'))));

async function run(page: Page, port: number) {
  const query = `?learn=1&task=${process.env.BENCH_TASK ?? 'lines'}&up=${process.env.BENCH_UP ?? 'transposed'}&lr=0.01&size=64&seed=1`;
  await page.goto(`http://127.0.0.1:${port}/index.html${query}`);
  await expect(page.locator('button.play')).toBeEnabled({ timeout: 120_000 });
  for (const s of SKIPS) await expect(page.locator(`.learn-model[data-skip="${s}"]`)).toHaveAttribute('data-status', 'ready');
  await page.locator('button.play').click();
  await page.waitForTimeout(WARM_MS);
  await probeFrames(page);
  const [s0, t0] = [await steps(page), Date.now()];
  await page.waitForTimeout(SECONDS * 1000);
  const [s1, t1] = [await steps(page), Date.now()];
  const gap = await longestGap(page);
  return { rates: s1.map((s, i) => (s - s0[i]) / ((t1 - t0) / 1000)), gap };
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

test('learn view: steps/s per model and frame gap, builds interleaved', async ({ browser }) => {
  test.setTimeout(RUNS * DISTS.length * (SECONDS + 90) * 1000);
  const results = new Map(DISTS.map((d) => [d.label, [] as { rates: number[]; gap: number }[]]));
  for (let r = 0; r < RUNS; r++) {
    for (const d of DISTS) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const result = await run(page, d.port);
      console.log(`run ${r + 1} ${d.label}: ${result.rates.map((x, i) => `${SKIPS[i]} ${x.toFixed(1)}`).join(', ')} steps/s; longest frame gap ${result.gap.toFixed(1)} ms`);
      results.get(d.label)!.push(result);
      await context.close();
    }
  }
  const lines = [`learn view, ${SECONDS} s of training after ${WARM_MS / 1000} s, ${RUNS} runs per build, min / median`,
    `| build | ${SKIPS.map((s) => `${s} steps/s`).join(' | ')} | longest frame gap ms |`, `|---|${SKIPS.map(() => '---|').join('')}---|`];
  for (const [label, rs] of results) {
    const cells = SKIPS.map((_, i) => { const xs = rs.map((x) => x.rates[i]); return `${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)}`; });
    const gaps = rs.map((x) => x.gap);
    lines.push(`| ${label} | ${cells.join(' | ')} | ${Math.min(...gaps).toFixed(1)} / ${median(gaps).toFixed(1)} |`);
  }
  const table = lines.join('\n');
  console.log(table);
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, `${table}\n`);
});
