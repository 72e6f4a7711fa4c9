// Faults the page recovers from: weights that arrive truncated or damaged (detected by the
// manifest's length and SHA-256, said, retried on request, the results shown kept), weights
// kept in Cache Storage across reloads, the page working offline after one visit, and a
// worker that dies mid-run (replaced, the run redone, the picture and view kept).
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

/** The worker's wasm-bindgen glue: a global lexical binding of its `worker.js`. */
declare const wasm_bindgen: () => Promise<{ memory: WebAssembly.Memory }>;

const ART = path.join(__dirname, 'artifacts');
fs.mkdirSync(ART, { recursive: true });

async function waitForMask(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
}

/** A short digest of the mask's pixels (a failed comparison prints this, not megabytes). */
const maskPixels = (page: Page) => page.locator('canvas.mask').evaluate(async (c: HTMLCanvasElement) => {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(c.toDataURL()));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('').slice(0, 16);
});

type Entry = { id: string; dataset: string; upsample: string; skip: string; file: string; bytes: number; sha256?: string };

/** The first street-scene model the manifest lists (these tests need published weights). */
async function firstModel(page: Page): Promise<Entry> {
  const manifest = await page.request.get('models/manifest.json');
  test.skip(!manifest.ok(), 'no models/manifest.json published');
  const m = ((await manifest.json()).models as Entry[]).find((e) => e.dataset === 'camvid');
  test.skip(!m, 'no street-scene model published');
  return m!;
}

test('truncated or damaged weights are refused with the reason, and can be downloaded again', async ({ page }) => {
  const m = await firstModel(page);
  const v = `${m.upsample}-${m.skip}`;
  let mode: 'cut' | 'flip' | 'pass' = 'cut';
  await page.route('**/*.safetensors', async (route) => {
    if (mode === 'pass') return route.continue();
    const body = await (await route.fetch()).body();
    const bad = mode === 'cut' ? body.subarray(0, body.length - 4096) : Buffer.from(body);
    if (mode === 'flip') bad[bad.length - 1] ^= 0xff;
    await route.fulfill({ status: 200, body: bad, contentType: 'application/octet-stream' });
  });
  await page.goto(`index.html?model=${v}`);
  const retry = page.locator('.banner .retry-line');
  await expect(retry).toContainText(`${m.file} arrived with ${m.bytes - 4096} bytes instead of ${m.bytes}`);
  // The variant still runs (random weights, said so): a mask is shown.
  await expect(page.locator('.banner .warning')).toContainText('Random weights');
  await waitForMask(page);
  const shown = await maskPixels(page);
  await page.screenshot({ path: path.join(ART, 'weights-truncated.png'), fullPage: true });

  // Damaged, at the right length: the hash says so.
  test.skip(!m.sha256, 'the manifest lists no sha256 (run `skipscope hash`)');
  mode = 'flip';
  await retry.locator('button.retry').click();
  await expect(retry).toContainText(`${m.file} arrived damaged: its SHA-256 is not the manifest's`);
  expect(await maskPixels(page)).toBe(shown);

  mode = 'pass';
  await retry.locator('button.retry').click();
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  await expect(retry).toHaveCount(0);
  await waitForMask(page);
});

test('downloaded weights are kept in Cache Storage and used after a reload', async ({ page }) => {
  const m = await firstModel(page);
  const v = `${m.upsample}-${m.skip}`;
  await page.goto(`index.html?model=${v}`);
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  await expect.poll(() => page.evaluate(async (file) => !!(await (await caches.open('skipscope-v1')).match(`models/${file}`)), m.file)).toBe(true);
  // Now the network has no weights at all.
  const asked: string[] = [];
  await page.route('**/*.safetensors', (r) => { asked.push(r.request().url()); return r.abort(); });
  await page.reload();
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  await waitForMask(page);
  expect(asked.filter((u) => u.endsWith(m.file))).toEqual([]);
  // A damaged kept copy is not used: it is forgotten and downloaded again.
  await page.evaluate(async (file) => {
    const c = await caches.open('skipscope-v1');
    await c.put(`models/${file}`, new Response(new Uint8Array([1, 2, 3])));
  }, m.file);
  await page.unroute('**/*.safetensors');
  await page.reload();
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  const kept = await page.evaluate(async (file) => (await (await (await caches.open('skipscope-v1')).match(`models/${file}`))!.arrayBuffer()).byteLength, m.file);
  expect(kept).toBe(m.bytes);
});

test.describe('offline', () => {
  test.use({ serviceWorkers: 'allow' });
  test('after one visit the page works offline', async ({ page, context }) => {
    const m = await firstModel(page);
    const v = `${m.upsample}-${m.skip}`;
    await page.goto(`index.html?model=${v}`);
    await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
    await waitForMask(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await context.setOffline(true);
    await page.reload();
    await expect(page.locator('h1')).toHaveText('SkipScope');
    await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
    await waitForMask(page);
    // Another sample, from the offline copy.
    await page.locator('.sample[data-sample="street"]').click();
    await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'street');
    await waitForMask(page);
    await expect(page.locator('.picker .error')).toHaveCount(0);
    await page.screenshot({ path: path.join(ART, 'offline.png'), fullPage: true });
    await context.setOffline(false);
  });

  test('offline, the default model comes from its kept copy when its prefetch fails', async ({ page, context }) => {
    // bin/app.rs prefetches the default weights before the first render; the service
    // worker does not serve weights, so offline that download fails and use_weights must
    // fall back to the copy kept in Cache Storage.
    await page.goto('index.html');
    await expect(page.locator('.banner .trained')).toContainText('Trained model transposed-concat');
    await waitForMask(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await expect.poll(() => page.evaluate(async () => !!(await (await caches.open('skipscope-v1')).match('models/camvid-transposed-concat.safetensors')))).toBe(true);
    await context.setOffline(true);
    // Offline, Chromium may still answer from its HTTP cache: every weights download fails.
    await context.route('**/*.safetensors', (route) => route.abort('internetdisconnected'));
    await page.reload();
    await expect(page.locator('.banner .trained')).toContainText('Trained model transposed-concat');
    await waitForMask(page);
    await expect(page.locator('.retry-line')).toHaveCount(0);
    await context.setOffline(false);
  });
});

/** Sends the mask worker (the first of the two the page runs once a trace was sent) a
 * message its codec cannot read: gloo-worker panics inside the worker's Rust code, a real
 * panic. */
async function panicWorker(page: Page) {
  await expect.poll(() => page.workers().length).toBe(2);
  await page.workers()[0].evaluate(() => { self.dispatchEvent(new MessageEvent('message', { data: new Uint8Array([255, 255, 255]) })); });
}

test('a worker that panics mid-run is replaced and the run redone; the picture and the view stay', async ({ page }) => {
  await page.route('**/models/manifest.json', (r) => r.fulfill({ status: 404, body: 'not found' }));
  await page.goto('index.html?sample=coffee');
  await waitForMask(page);
  const before = await maskPixels(page);
  // Choose a stage, then start a new run and kill the worker while it is running.
  await page.locator('.u-diagram [data-stage="dec.1"]').first().click();
  await expect(page.locator('nav.strip [aria-current="step"]')).toHaveText('dec.1');
  await page.locator('.sample[data-sample="street"]').click();
  await expect(page.locator('p.status[data-running="true"]')).toBeVisible();
  const first = page.workers()[0];
  await panicWorker(page);
  await expect(page.locator('p.recovered')).toContainText('was restarted (1 of 2 restarts)');
  // Both workers are replaced (the new trace worker starts with the run redone).
  await expect.poll(() => page.workers().length >= 1 && !page.workers().includes(first)).toBe(true);
  await waitForMask(page);
  await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'street');
  expect(await maskPixels(page)).not.toBe(before);
  await expect(page.locator('nav.strip [aria-current="step"]')).toHaveText('dec.1');
  await expect(page.locator('p.error.fatal')).toHaveCount(0);
  await expect(page.locator('.toggles button.toggle:not([disabled])')).not.toHaveCount(0);
  await page.screenshot({ path: path.join(ART, 'worker-restarted.png'), fullPage: true });
  // The replaced worker runs the next request as well.
  await page.locator('.sample[data-sample="coffee"]').click();
  await expect(page.locator('p.status[data-latency-what="sample to mask"]')).toBeVisible();
  await waitForMask(page);
  await expect.poll(() => maskPixels(page)).toBe(before);
});

test('a worker that runs out of memory is replaced, with trained weights read again', async ({ page }) => {
  const m = await firstModel(page);
  const v = `${m.upsample}-${m.skip}`;
  await page.goto(`index.html?model=${v}`);
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  await waitForMask(page);
  const before = await maskPixels(page);
  // Take every page of both workers' WebAssembly memory that is left, as a leak would: the
  // engine's next allocation fails (the mask worker's warm workspace may need none; the
  // trace worker's traced pass allocates its maps).
  await expect.poll(() => page.workers().length).toBe(2);
  let grown = 0;
  for (const worker of page.workers()) {
    grown = await worker.evaluate(async () => {
      const exports = await wasm_bindgen();
      const memory = exports.memory as WebAssembly.Memory;
      let pages = 0;
      for (let step = 4096; step >= 1; step = Math.floor(step / 2)) {
        try { for (;;) { memory.grow(step); pages += step; } } catch { /* full at this step */ }
      }
      return memory.buffer.byteLength / 2 ** 20;
    });
  }
  console.log(`the workers' memory grown to ${grown.toFixed(0)} MB`);
  await page.locator('.sample[data-sample="coffee"]').click();
  await expect(page.locator('p.recovered')).toContainText('out of memory: an allocation of');
  await expect(page.locator('.banner .trained')).toContainText(`Trained model ${v}`);
  await waitForMask(page);
  await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'coffee');
  expect(await maskPixels(page)).not.toBe(before);
  await expect(page.locator('p.error.fatal')).toHaveCount(0);
});
