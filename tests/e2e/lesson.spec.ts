// The lesson, as a student walks it, with the published models: the default page, each
// step's "show me" state, its numbers recomputed here from the trace data the page exposes
// (window.__skipscope: the shown trace's shapes, pool.0's argmax, the decoder's upsampled
// maps, the comparison's masks) and from the manifest, ?lesson=N, a keyboard-only walk and a
// phone-sized screen. Screenshots of every step go to SHOTS (default /work/shots/lesson).
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const SHOTS = process.env.LESSON_SHOTS ?? '/work/shots/lesson';
fs.mkdirSync(SHOTS, { recursive: true });
const STEPS = 7;

type Manifest = { models: { id: string; dataset: string; upsample: string; skip: string; test: { bf: number | null } }[] };

async function manifest(page: Page): Promise<Manifest | null> {
  const r = await page.request.get('models/manifest.json');
  return r.ok() ? r.json() : null;
}

/** Waits until the shown trace is done, the comparison has its masks and no lesson number waits. */
async function settled(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
  await expect(page.locator('.compare .cmp.empty')).toHaveCount(0);
  await expect(page.locator('.lesson .pending-num')).toHaveCount(0);
}

/** What the lesson's numbers should be, computed here from the page's trace data. */
async function expected(page: Page, m: Manifest | null): Promise<Record<string, number>> {
  const fromPage = await page.evaluate((tolerance) => {
    const s = (window as any).__skipscope;
    const st = s.stages;
    const out: Record<string, number> = {};
    const dims = (prefix: string, name: string) => {
      if (!st[name]) return;
      out[`${prefix}-c`] = st[name].c; out[`${prefix}-h`] = st[name].h; out[`${prefix}-w`] = st[name].w;
    };
    dims('enc0', 'enc.0'); dims('bottleneck', 'bottleneck'); dims(`pool`, `pool.${s.depth - 1}`);
    out['input-h'] = st.input.h; out['input-w'] = st.input.w;
    out['depth'] = s.depth;
    out['pixels-per-value'] = 4 ** st[`pool.${s.depth - 1}`].level;
    const p0 = st['pool.0'];
    const n = p0.h * p0.w;
    ['tl', 'tr', 'bl', 'br'].forEach((k, pos) => {
      let c = 0;
      for (let i = 0; i < n; i++) if (p0.argmax[i] === pos) c++;
      out[`argmax-${k}`] = c / n;
    });
    const d0 = st['dec.0'];
    if (d0 && d0.upsampled) {
      out['up-c'] = d0.upsampled.c; out['up-h'] = d0.h; out['up-w'] = d0.w;
      out['skip-c'] = d0.skipChannels; out['fused-c'] = d0.fusedChannels; out['skip-in-c'] = st['enc.0'].c;
      const v = d0.upsampled.values as Float32Array;
      let z = 0;
      for (let i = 0; i < v.length; i++) if (v[i] === 0) z++;
      out['unpool-zeros'] = z / v.length;
    }
    // Boundaries: a pixel whose right or lower neighbour has another class.
    const edges = (mk: any) => {
      const e: boolean[] = [];
      for (let y = 0; y < mk.h; y++) for (let x = 0; x < mk.w; x++) {
        const c = mk.classes[y * mk.w + x];
        e.push((x + 1 < mk.w && mk.classes[y * mk.w + x + 1] !== c) || (y + 1 < mk.h && mk.classes[(y + 1) * mk.w + x] !== c));
      }
      return e;
    };
    const up = (s.variant as string).split('-')[0];
    const none = s.masks[`${up}-none`];
    for (const skip of ['none', 'add']) {
      const mk = s.masks[`${up}-${skip}`];
      if (mk) out[`boundary-${skip}`] = edges(mk).filter(Boolean).length / (mk.h * mk.w);
    }
    // Distance from each of none's boundary pixels to the other mask's nearest one, in
    // steps to any of the 8 neighbours (the chessboard distance), by brute force.
    for (const skip of ['add', 'concat']) {
      const other = s.masks[`${up}-${skip}`];
      if (!none || !other) continue;
      const pts = (mk: any) => edges(mk).flatMap((b, i) => (b ? [[Math.floor(i / mk.w), i % mk.w]] : []));
      const [a, b] = [pts(none), pts(other)];
      const far = a.filter(([y, x]) => b.every(([v, u]) => Math.max(Math.abs(y - v), Math.abs(x - u)) > tolerance)).length;
      out[`far-none-${skip}`] = far / a.length;
    }
    return out;
  }, 3);
  for (const e of m?.models ?? []) if (e.dataset === 'camvid' && e.test.bf != null) fromPage[`bf-${e.upsample}-${e.skip}`] = e.test.bf;
  fromPage['classes'] = await page.locator('.legend li').count();
  return fromPage;
}

/** Every number the lesson shows equals the one computed here; returns how many were checked. */
async function checkNumbers(page: Page, m: Manifest | null): Promise<string[]> {
  const shown = await page.locator('.lesson .num').evaluateAll((els) => els.map((e) => [e.getAttribute('data-key')!, Number(e.getAttribute('data-value')), e.textContent!] as [string, number, string]));
  const want = await expected(page, m);
  for (const [key, value, text] of shown) {
    expect(want[key], `no recomputed value for ${key}`).not.toBeUndefined();
    expect(Math.abs(value - want[key]), `${key}: shown ${value}, recomputed ${want[key]}`).toBeLessThan(1e-9);
    // The text rounds the value: a percentage to one decimal, a count as is.
    expect(text).toBe(text.endsWith('%') ? `${(100 * value).toFixed(1)}%` : String(value));
  }
  return shown.map(([k]) => k);
}

/** What each step's first "show me" sets: variant (null: the one shown stays) and stage. */
const SETS: [string | null, string][] = [
  [null, 'input'], [null, 'pool.0'], ['transposed-none', 'dec.0'], ['unpool-none', 'dec.0'],
  ['transposed-add', 'dec.0'], [null, 'head'], [null, 'input'],
];

test('the default page opens on a street photo, a street model and the lesson', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('index.html');
  await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'street');
  await expect(page.locator('.model-picker [data-dataset="camvid"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('.toggles button.on[data-variant="transposed-concat"]')).toHaveCount(2);
  await expect(page.locator('.lesson[data-step="1"]')).toBeVisible();
  // Only street photos are offered as suiting the street model; the rest are labelled.
  await expect(page.locator('.samples:not(.out-of-domain) .sample')).toHaveCount(3);
  await expect(page.locator('.samples.out-of-domain')).toContainText('Not streets');
  await expect(page.locator('.sample[data-sample="astronaut"]')).toHaveCount(0);
  await settled(page);
  await expect(page).toHaveURL(/sample=street/);
  // The test-set table lists the nine variants, with the words for G, C, mIoU and BF.
  await expect(page.locator('.score-table tbody tr')).toHaveCount(9);
  await expect(page.locator('.glossary')).toContainText('boundary F1');
  // The relation is said outright, and the concat / add links are drawn.
  await expect(page.locator('.toggles-hint')).toContainText('every decoder stage upsamples and then fuses its skip');
  await page.screenshot({ path: path.join(SHOTS, 'default.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('each step sets what it says, and its numbers are the trace\'s', async ({ page }) => {
  const m = await manifest(page);
  await page.goto('index.html?lesson=1');
  await settled(page);
  const checked = new Set<string>();
  for (let i = 1; i <= STEPS; i++) {
    if (i > 1) await page.locator('.lesson .next').click();
    await expect(page.locator(`.lesson[data-step="${i}"]`)).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`lesson=${i}(&|$)`));
    const [variant, stage] = SETS[i - 1];
    if (variant) await expect(page).toHaveURL(new RegExp(`model=${variant}(&|$)`));
    await expect(page.locator('.strip .stage-btn.selected')).toHaveText(stage);
    await settled(page);
    for (const k of await checkNumbers(page, m)) checked.add(k);
    const focus = await page.locator('.lesson .show-me').first().getAttribute('data-focus');
    if (focus) await expect(page.locator(`.focused[data-focus="${focus}"], .focused [data-focus="${focus}"]`).first()).toBeVisible();
    if (i === 2) {
      // The deepest pool: drawn larger, with what to look for.
      await page.locator('.lesson .show-me[data-stage="pool.3"]').click();
      await expect(page.locator('.strip .stage-btn.selected')).toHaveText('pool.3');
      await expect(page.locator('.deep-hint')).toContainText('9 × 16 positions');
      await page.screenshot({ path: path.join(SHOTS, 'desktop-step-2-pool3.png') });
    }
    if (i === 4) {
      // Max unpooling: the indices are drawn from pool.k to dec.k.
      await expect(page.locator('.u-diagram .indices')).toHaveCount(4);
      await expect(page.locator('.parts figure')).toHaveCount(3);
    }
    if (i === 5) await expect(page.locator('.parts figcaption').nth(1)).toContainText('1×1 conv of enc.0');
    await page.screenshot({ path: path.join(SHOTS, `desktop-step-${i}.png`), fullPage: false });
    if (i === 4) {
      // Its second "show me": the indices in the diagram, beside no skip link (unpool-none).
      await page.locator('.lesson .show-me[data-focus="diagram"]').click();
      await expect(page.locator('.focused[data-focus="diagram"]')).toBeInViewport();
      await expect(page.locator('.u-diagram .indices text').first()).toContainText('indices of pool.');
      await page.screenshot({ path: path.join(SHOTS, 'desktop-step-4-indices.png') });
    }
  }
  // The second "show me" of step 5: concat, where ‖ is explained and the convolutions' output is shown.
  await page.locator('.lesson .dot').nth(4).click();
  await page.locator('.lesson .show-me[data-variant="transposed-concat"]').click();
  await expect(page).toHaveURL(/model=transposed-concat/);
  await settled(page);
  for (const k of await checkNumbers(page, m)) checked.add(k);
  await expect(page.locator('.parts figcaption').nth(2)).toContainText('‖ stacks them');
  await page.screenshot({ path: path.join(SHOTS, 'desktop-step-5-concat.png') });
  for (const k of ['input-h', 'depth', 'pixels-per-value', 'argmax-tl', 'boundary-none', 'unpool-zeros', 'up-c', 'fused-c', 'far-none-add', 'far-none-concat']) {
    expect(checked.has(k), `the lesson never showed ${k}`).toBe(true);
  }
});

test('?lesson=N restores step N', async ({ page }) => {
  for (let n = 1; n <= STEPS; n++) {
    await page.goto(`index.html?lesson=${n}`);
    await expect(page.locator(`.lesson[data-step="${n}"]`)).toBeVisible();
    const [variant, stage] = SETS[n - 1];
    if (variant) await expect(page.locator(`.toggles button.on[data-variant="${variant}"]`)).toHaveCount(2);
    await expect(page.locator('.strip .stage-btn.selected')).toHaveText(stage);
  }
  // The lesson closes and the tool stays; lesson=0 keeps it closed.
  await page.locator('.lesson button[aria-label="close the lesson"]').click();
  await expect(page).toHaveURL(/lesson=0/);
  await expect(page.locator('.strip .stage-btn.selected')).toHaveText('input');
  await page.goto('index.html?lesson=0');
  await expect(page.locator('.lesson .open-lesson')).toBeVisible();
});

test('a keyboard-only walk through the whole lesson', async ({ page }) => {
  await page.goto('index.html');
  await settled(page);
  // Tab to the lesson's "next" button.
  for (let i = 0; i < 300; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.classList.contains('next'))) break;
  }
  expect(await page.evaluate(() => document.activeElement?.classList.contains('next'))).toBe(true);
  for (let i = 2; i <= STEPS; i++) {
    await page.keyboard.press('Enter');
    await expect(page.locator(`.lesson[data-step="${i}"]`)).toBeVisible();
    const [, stage] = SETS[i - 1];
    await expect(page.locator('.strip .stage-btn.selected')).toHaveText(stage);
    if (i < STEPS) expect(await page.evaluate(() => document.activeElement?.classList.contains('next'))).toBe(true);
  }
  // Back to step 3 with the step buttons, and a "show me" by keyboard.
  await page.locator('.lesson .dot').nth(2).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('.lesson[data-step="3"]')).toBeVisible();
  await page.locator('.lesson .show-me[data-variant="bilinear-none"]').focus();
  await page.keyboard.press('Space');
  await expect(page).toHaveURL(/model=bilinear-none/);
  await settled(page);
  await page.screenshot({ path: path.join(SHOTS, 'keyboard-step-3-bilinear.png') });
});

test('on a phone the lesson is a sheet that leaves the tool usable', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const m = await manifest(page);
  await page.goto('index.html?lesson=1');
  await settled(page);
  for (let i = 1; i <= STEPS; i++) {
    if (i > 1) await page.locator('.lesson .next').click();
    await expect(page.locator(`.lesson[data-step="${i}"]`)).toBeVisible();
    await settled(page);
    await checkNumbers(page, m);
    const box = (await page.locator('.lesson').boundingBox())!;
    expect(box.height).toBeLessThanOrEqual(844 * 0.45 + 1);
    expect(box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, `phone-step-${i}.png`) });
  }
  // Closed, it is one button; the tool under it works.
  await page.locator('.lesson button[aria-label="close the lesson"]').click();
  await page.locator('.toggles [data-variant="transposed-none"]').click();
  await expect(page).toHaveURL(/model=transposed-none/);
  await page.screenshot({ path: path.join(SHOTS, 'phone-closed.png') });
});

test('a URL naming a variant the dataset lacks says what is shown instead', async ({ page }) => {
  const m = await manifest(page);
  test.skip(!m || !m.models.some((e) => e.id === 'ccp-transposed-concat'), 'no trained ccp-transposed-concat model');
  // Every CCP variant is published: serve a manifest without bilinear-concat.
  const missing = 'bilinear-concat';
  const served = { ...m!, models: m!.models.filter((e) => e.id !== `ccp-${missing}`) };
  const ccp = served.models.filter((e) => e.dataset === 'ccp').map((e) => `${e.upsample}-${e.skip}`);
  await page.route('**/models/manifest.json', (r) => r.fulfill({ json: served }));
  await page.goto(`index.html?data=ccp&model=${missing}`);
  await expect(page.locator('p.note')).toContainText(`${missing} has no trained weights for People (CCP) yet, so transposed-concat is shown instead.`);
  await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'astronaut');
  await expect(page.locator('.lesson .dot').nth(3)).toBeVisible();
  await page.locator('.lesson .dot').nth(3).click();
  // Step 4 offers max unpooling only where a trained unpool-none model exists.
  if (ccp.includes('unpool-none')) {
    await expect(page.locator('.lesson button', { hasText: 'Show me unpool-none at dec.0' })).toBeVisible();
  } else {
    await expect(page.locator('.lesson-text')).toContainText('No trained max-unpooling model');
  }
  await page.screenshot({ path: path.join(SHOTS, 'ccp-missing-variant.png') });
});

test('the comparison enlarges and flips between the modes at the same crop', async ({ page }) => {
  await page.goto('index.html?lesson=0');
  await settled(page);
  await page.locator('.compare button[aria-label="enlarge the none mask"]').click();
  const scroll = page.locator('.cmp-big-scroll');
  await page.locator('.cmp-big button', { hasText: '×4' }).click();
  await scroll.evaluate((e) => { e.scrollLeft = 300; e.scrollTop = 120; });
  const at = await scroll.evaluate((e) => [e.scrollLeft, e.scrollTop]);
  const before = await page.locator('canvas.cmp-large').evaluate((c: HTMLCanvasElement) => c.toDataURL());
  await page.locator('.cmp-big button[data-mode="add"]').click();
  await expect.poll(() => page.locator('canvas.cmp-large').evaluate((c: HTMLCanvasElement) => c.toDataURL())).not.toBe(before);
  expect(await scroll.evaluate((e) => [e.scrollLeft, e.scrollTop])).toEqual(at);
  await page.locator('.cmp-big button[data-mode="disagreement"]').click();
  expect(await scroll.evaluate((e) => [e.scrollLeft, e.scrollTop])).toEqual(at);
  await expect(page.locator('.no-truth')).toContainText('no ground truth');
  await page.locator('.cmp-big').screenshot({ path: path.join(SHOTS, 'compare-enlarged.png') });
});

test('on the student\'s own photo, every step\'s numbers are recomputed for it', async ({ page }) => {
  const m = await manifest(page);
  await page.goto('index.html?lesson=7');
  await settled(page);
  await page.locator('.lesson .show-me').first().click();
  await expect(page.locator('.focused[data-focus="picker"]')).toBeVisible();
  // highway.jpg (512 x 288) uploaded as a file: fit to 144 x 256.
  await page.locator('input[aria-label="upload a photo"]').setInputFiles({ name: 'my-drive.jpg', mimeType: 'image/jpeg',
    buffer: fs.readFileSync(path.join(__dirname, '../../www/samples/highway.jpg')) });
  await expect(page.locator('.lesson-text')).toContainText('Shown now: my-drive.jpg');
  await settled(page);
  await checkNumbers(page, m);
  for (const n of [2, 3, 6]) {
    await page.locator('.lesson .dot').nth(n - 1).click();
    await expect(page.locator(`.lesson[data-step="${n}"]`)).toBeVisible();
    await settled(page);
    await checkNumbers(page, m);
    await page.screenshot({ path: path.join(SHOTS, `own-photo-step-${n}.png`) });
  }
  await expect(page.locator('.lesson-text')).toContainText('Your photo has no ground truth unless you give a label image');
});
