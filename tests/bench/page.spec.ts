// The page benchmark: what a user waits for, timed inside the page (performance.now() from the
// click, or from the navigation for the cold load, to the first DOM state that shows the answer,
// seen by a MutationObserver, i.e. after the page's canvases are drawn in that same task).
// Each run is a fresh browser context (empty cache), the builds of BENCH_DISTS interleaved run by
// run; BENCH_RUNS (default 5) runs each. Run by scripts/bench_page.sh, which prints the table.
// What each row measures (CamVid, trained weights, the published models):
// - cold load: navigation start to the first mask of trained weights drawn;
// - upsampling toggle, weights not cached: transposed-concat -> bilinear-concat, first visit
//   (the three bilinear weights files are downloaded and loaded on the way);
// - upsampling toggle, weights cached: bilinear-concat -> transposed-concat after a new sample
//   (the model is loaded, the mask of this picture not computed);
// - skip toggle, not computed: transposed-concat -> transposed-add clicked as soon as a new
//   sample's mask shows (before the comparison has that variant's mask);
// - sample to mask: a sample click to its mask drawn;
// - every stage after the mask: from that mask until the strip has every stage;
// - stage switch: a stage button click to its heatmaps drawn (six stages a run).
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import { DISTS } from './page.config';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const STAGES = ['enc.0', 'pool.1', 'bottleneck', 'dec.1', 'head', 'input'];

type Timing = { ms: number; allMs: number; latencyMs: number | null; latencyWhat: string | null };

/** Installs window.__benchTime(click, done, text, all): clicks `click`, resolves when `done`
 * (whose text starts with `text`, if given) matches after not matching, and with `all`, once
 * every stage is in too. */
function install() {
  (window as any).__benchTime = (click: string | null, done: string, text: string | null, all: boolean) =>
    new Promise((resolve, reject) => {
      const matches = () => {
        const el = document.querySelector(done);
        return !!el && (!text || (el.textContent ?? '').startsWith(text));
      };
      const allIn = () => document.querySelectorAll('.strip .stage-btn').length > 0
        && document.querySelectorAll('.strip .stage-btn.pending').length === 0
        && !!document.querySelector('p.status[data-running="false"]');
      let gone = click === null || !matches();
      let mask: Timing | null = null;
      const t0 = click === null ? 0 : performance.now();
      const check = () => {
        const now = performance.now();
        if (mask === null) {
          if (!matches()) gone = true;
          else if (gone) {
            const s = document.querySelector('p.status');
            const l = s?.getAttribute('data-latency-ms');
            mask = { ms: now - t0, allMs: NaN, latencyMs: l == null ? null : Number(l), latencyWhat: s?.getAttribute('data-latency-what') ?? null };
          }
        }
        if (mask !== null && (!all || allIn())) {
          obs.disconnect();
          clearTimeout(timer);
          resolve({ ...mask, allMs: now - t0 });
        }
      };
      const obs = new MutationObserver(check);
      obs.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
      const timer = setTimeout(() => { obs.disconnect(); reject(new Error(`timed out waiting for ${done}`)); }, 60_000);
      // `sel|text`: the element of `sel` whose text is `text`.
      if (click !== null) {
        const [sel, label] = click.split('|');
        const target = label === undefined ? document.querySelector(sel) : [...document.querySelectorAll(sel)].find((e) => e.textContent === label);
        if (!target) { obs.disconnect(); clearTimeout(timer); reject(new Error(`no ${click}`)); return; }
        (target as HTMLElement).click();
      }
      check();
    });
  // The cold load: from the navigation's start (performance.now() counts from it).
  (window as any).__cold = new Promise((resolve) => {
    const start = () => (window as any).__benchTime(null, 'body:has(.banner .trained) canvas.mask', null, true).then(resolve, (e: Error) => resolve({ error: String(e) }));
    if (document.documentElement) start(); else document.addEventListener('readystatechange', start, { once: true });
  });
}

async function time(page: Page, click: string, done: string, text: string | null = null, all = false): Promise<Timing> {
  return page.evaluate(([c, d, t, a]) => (window as any).__benchTime(c, d, t, a), [click, done, text, all] as const) as Promise<Timing>;
}

/** Waits until nothing is running: every stage in, the comparison's masks drawn. */
async function settle(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('.strip .stage-btn.pending')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator('.compare .cmp.empty')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.locator('.compare canvas.cmp')).toHaveCount(4, { timeout: 60_000 });
  await page.waitForTimeout(300);
}

type Row = { [measure: string]: number[] };

async function run(page: Page, base: string, rows: Row, notes: string[]) {
  const add = (k: string, v: number) => (rows[k] ??= []).push(v);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // Chromium warns of a preload the page did not use.
  page.on('console', (m) => { if (m.type() === 'warning') notes.push(`console warning: ${m.text().slice(0, 160)}`); });
  await page.addInitScript(install);
  await page.goto(`${base}/index.html?model=transposed-concat&sample=street&stage=dec.0`);
  const cold = (await page.evaluate(() => (window as any).__cold)) as Timing;
  add('cold load to first trained mask', cold.ms);
  add('cold load to every stage', cold.allMs);
  await settle(page);

  const toggled = '[data-latency-what="toggle to mask"]';
  let t = await time(page, '.toggles [data-variant="bilinear-concat"]', `p.status${toggled}`, null, true);
  add('upsampling toggle to mask, weights not cached', t.ms);
  await settle(page);

  t = await time(page, '.sample[data-sample="road"]', 'p.status[data-latency-what="sample to mask"]', null, true);
  add('sample click to mask', t.ms);
  add('every stage viewable after the mask', t.allMs - t.ms);
  await settle(page);

  t = await time(page, '.toggles [data-variant="transposed-concat"]', `p.status${toggled}`, null, true);
  add('upsampling toggle to mask, weights cached', t.ms);
  await settle(page);

  t = await time(page, '.sample[data-sample="highway"]', 'p.status[data-latency-what="sample to mask"]');
  add('sample click to mask', t.ms);
  t = await time(page, '.toggles [data-variant="transposed-add"]', 'p.status[data-latency-what^="toggle to mask"]');
  add('skip toggle to mask, clicked at the sample\'s mask', t.ms);
  notes.push(`skip toggle answered as: ${t.latencyWhat} (${t.latencyMs} ms by the page's clock)`);
  await settle(page);

  for (const s of STAGES) {
    t = await time(page, `.strip .stage-btn|${s}`, '.stage-view h3', `${s} —`);
    add('stage switch to heatmaps drawn', t.ms);
  }
  expect(errors).toEqual([]);
}

test('page timings', async ({ browser }) => {
  const rows: { [label: string]: Row } = {};
  const notes: { [label: string]: string[] } = {};
  for (let r = 0; r < RUNS; r++) {
    for (const d of DISTS) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await run(page, `http://127.0.0.1:${d.port}`, (rows[d.label] ??= {}), (notes[d.label] ??= []));
      await context.close();
    }
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return `${s[0].toFixed(0).padStart(6)} ${med.toFixed(0).padStart(7)} ${String(s.length).padStart(3)}`;
  };
  const measures = Object.keys(rows[DISTS[0].label]);
  const lines = [
    `${RUNS} runs per build, interleaved, each in a fresh context (empty cache); ms, min / median / n`,
    `${'measure'.padEnd(52)}` + DISTS.map((d) => `${d.label.padStart(10)}:    min  median   n`).join(''),
    ...measures.map((m) => m.padEnd(52) + DISTS.map((d) => `${' '.repeat(11)}${stats(rows[d.label][m])}`).join('')),
    ...DISTS.flatMap((d) => [...new Set(notes[d.label].map((n) => n.replace(/\([\d.]+ ms by/, '(… ms by')))].map((n) => `${d.label}: ${n}`)),
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_OUT) fs.writeFileSync(process.env.BENCH_OUT, lines.join('\n') + '\n');
});
