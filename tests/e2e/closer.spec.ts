// "Look closer": one position followed through every stage, the close-ups' numbers, the
// position in the URL, and switching a skip off. Runs the published (trained) models; each
// test waits on DOM state, never on time. Screenshots land in tests/e2e/artifacts/.
import { test, expect, Page, Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const ART = path.join(__dirname, 'artifacts');
fs.mkdirSync(ART, { recursive: true });

async function waitForTrace(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('.closer .thumb')).toHaveCount(15);
}

/** Moves a mouse over `el` at fractions (fx, fy) of its box. */
async function hoverAt(page: Page, el: Locator, fx: number, fy: number) {
  await el.scrollIntoViewIfNeeded();
  const b = (await el.boundingBox())!;
  await page.mouse.move(b.x + fx * b.width, b.y + fy * b.height);
}

const num = (s: string | null) => Number((s ?? '').replace(/[^0-9eE.+\-−]/g, '').replace('−', '-'));

test('hovering follows a position through every stage, with its field and close-ups', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('index.html?lesson=0&model=transposed-add&stage=dec.1');
  await waitForTrace(page);
  const photo = page.locator('.closer-photo .pointable');
  await hoverAt(page, photo, 0.3, 0.6);
  const where = page.locator('.closer .where');
  await expect(where).toContainText('click or tap to pin');
  const [, y, x] = (await where.textContent())!.match(/row (\d+), column (\d+)/)!.map(Number);
  // Every stage marks the value holding that pixel: (y >> level, x >> level).
  for (const [name, level] of [['input', 0], ['enc.1', 1], ['pool.1', 2], ['bottleneck', 4], ['dec.1', 1], ['head', 0]] as const) {
    const thumb = page.locator(`.closer .thumb[data-stage="${name}"]`);
    await expect(thumb.locator('.xhair-cell')).toHaveCount(1);
    await expect(thumb.locator('.at')).toHaveText(` at (${y >> level}, ${x >> level})`);
    await expect(thumb.locator('.ppv')).toHaveText(` 1 value = ${1 << level}×${1 << level} px (${4 ** level})`);
  }
  // The receptive field of dec.1's value is drawn on the photo and described.
  await expect(page.locator('.closer-photo .field-rect')).toHaveCount(1);
  await expect(page.locator('.closer .field-text')).toContainText(`dec.1 holds it at (${y >> 1}, ${x >> 1})`);
  // Close-ups: the transposed convolution's sum equals the worker's value; the added skip's
  // upsampled + skip = fused.
  const t = page.locator('.closeup[data-kind="transposed"]');
  await expect(t).toBeVisible();
  const sum = num(await t.locator('tr.total td.num').textContent());
  const value = num((await t.locator('.result').textContent())!.split('=')[1]);
  expect(Math.abs(sum - value)).toBeLessThan(2e-4);
  const add = page.locator('.closeup[data-kind="add"]');
  const eq = (await add.locator('.equation').textContent())!.match(/upsampled (\S+) \+ skip (\S+) = fused (\S+)/)!;
  expect(Math.abs(num(eq[1]) + num(eq[2]) - num(eq[3]))).toBeLessThan(2e-4);
  expect(Math.abs(num(await add.locator('tr.total td.num').textContent()) - num(eq[2]))).toBeLessThan(2e-4);

  // The crosshair follows the pointer within one frame: the page holds everything it needs.
  const frame = await page.evaluate(async () => {
    const el = document.querySelector('.closer-photo .pointable')!;
    const b = el.getBoundingClientRect();
    const before = document.querySelector('.closer .where')!.textContent;
    const t0 = performance.now();
    el.dispatchEvent(new PointerEvent('pointermove', { clientX: b.left + 0.8 * b.width, clientY: b.top + 0.2 * b.height, pointerType: 'mouse', bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    return { changed: document.querySelector('.closer .where')!.textContent !== before, ms: performance.now() - t0 };
  });
  console.log('pointer move to updated crosshair and close-ups (before the next frame):', frame.ms.toFixed(1), 'ms');
  expect(frame.changed).toBe(true);

  // Hovering a coarse map picks that value's block; a pool stage shows its window.
  await page.locator('.closer .thumb[data-stage="pool.2"] button').click();
  await hoverAt(page, page.locator('.closer .thumb[data-stage="pool.2"] .pointable'), 0.5, 0.5);
  const pool = page.locator('.closeup[data-kind="pool"]');
  await expect(pool).toBeVisible();
  const hot = num(await pool.locator('td.hot').textContent());
  const out = num((await pool.locator('.result').textContent())!.split('=')[1]);
  expect(hot).toBe(out);
  for (const cell of await pool.locator('td.w-cell').allTextContents()) {
    if (cell !== '—') expect(num(cell)).toBeLessThanOrEqual(out);
  }
  // So can the enlarged channel of the stage view, which marks the position too.
  await page.locator('.stage-view .grid .tile').nth(1).click();
  const zoom = page.locator('.zoom .pointable').first();
  await hoverAt(page, zoom, 0.75, 0.25);
  await expect(page.locator('.zoom .xhair-cell')).toHaveCount(1);
  const zoomWhere = (await where.textContent())!.match(/row (\d+), column (\d+)/)!.map(Number);
  await expect(page.locator('.closer .thumb[data-stage="pool.2"] .at')).toHaveText(` at (${zoomWhere[1] >> 3}, ${zoomWhere[2] >> 3})`);
  await expect(page.locator('.zoom .readout').first()).toContainText(`x ${zoomWhere[2] >> 3}, y ${zoomWhere[1] >> 3}`);
  // The mask can be pointed at too.
  await hoverAt(page, page.locator('.mask-view .pointable'), 0.1, 0.1);
  await expect(where).toContainText('row');
  await expect(page.locator('.mask-view .xhair-cell')).toHaveCount(1);
  await page.screenshot({ path: path.join(ART, 'closer-hover.png'), fullPage: true });
  expect(errors).toEqual([]);
});

test('a click pins the position into the URL, and ?at= restores it', async ({ page }) => {
  await page.goto('index.html?lesson=0&model=unpool-concat&stage=dec.2&at=100,150');
  await waitForTrace(page);
  const where = page.locator('.closer .where');
  await expect(where).toHaveText('pinned at row 100, column 150 of the photo');
  await expect(page.locator('.closer .thumb[data-stage="dec.2"] .at')).toHaveText(' at (25, 37)');
  const unpool = page.locator('.closeup[data-kind="unpool"]');
  await expect(unpool).toBeVisible();
  // The deep value goes back at the recorded index, zeros elsewhere.
  const deep = (await unpool.locator('p').first().textContent())!.match(/holds (\S+);/)![1];
  await expect(unpool.locator('td.hot')).toHaveText(deep);
  for (const cell of await unpool.locator('td.w-cell:not(.hot)').allTextContents()) expect(['0.0000', '—']).toContain(cell);
  await expect(page.locator('.closeup[data-kind="concat"]')).toBeVisible();
  await page.screenshot({ path: path.join(ART, 'closer-unpool.png'), fullPage: true });
  // Arrow keys on the focused photo move the pinned position.
  await page.locator('.closer-photo .pointable').focus();
  await page.keyboard.press('ArrowDown');
  await expect(where).toHaveText('pinned at row 101, column 150 of the photo');
  await expect(page).toHaveURL(/at=101,150/);
  // A click pins another position, written to the URL, and a reload restores it.
  const photo = page.locator('.closer-photo .pointable');
  const b = (await photo.boundingBox())!;
  await page.mouse.click(b.x + 0.25 * b.width, b.y + 0.75 * b.height);
  await expect(where).toContainText('pinned at');
  const [, y, x] = (await where.textContent())!.match(/row (\d+), column (\d+)/)!.map(Number);
  await expect(page).toHaveURL(new RegExp(`at=${y},${x}`));
  await page.mouse.move(0, 0);
  await page.reload();
  await waitForTrace(page);
  await expect(where).toHaveText(`pinned at row ${y}, column ${x} of the photo`);
});

test('switching a skip off changes the mask; the share maps and the trained skipless variant are beside it', async ({ page }) => {
  await page.goto('index.html?lesson=0&model=bilinear-add');
  await waitForTrace(page);
  const abl = page.locator('section.ablation');
  await expect(abl.locator('.plain')).toContainText('An ablated network is not a network trained without a skip');
  await expect(abl.locator('.share')).toHaveCount(4);
  await expect(abl.locator('.share figcaption').first()).toContainText('mean');
  await expect(abl.locator('[data-role="skipless"] canvas')).toBeVisible();
  const full = await abl.locator('canvas.abl-mask').first().evaluate((c: HTMLCanvasElement) => c.toDataURL());
  const t0 = Date.now();
  await abl.getByRole('button', { name: 'all off' }).click();
  const ablated = abl.locator('[data-role="ablated"] canvas');
  await expect(ablated).toBeVisible();
  console.log('ablation (all levels off) click to ablated mask:', Date.now() - t0, 'ms');
  expect(await ablated.evaluate((c: HTMLCanvasElement) => c.toDataURL())).not.toBe(full);
  const diff = num((await abl.locator('.abl-diff').textContent())!.match(/([\d.]+)%/)![1]);
  expect(diff).toBeGreaterThan(0);
  // One level back on: another mask, and the caption says which levels are off.
  await abl.locator('input[data-level="3"]').check();
  await expect(abl.locator('[data-role="ablated"] figcaption')).toHaveText('skip off at level 0, 1, 2');
  await expect(abl.locator('[data-role="ablated"] canvas')).toBeVisible();
  await page.screenshot({ path: path.join(ART, 'closer-ablation.png'), fullPage: true });
  // The trained skipless variant is one click away.
  await abl.locator('[data-role="skipless"] button').click();
  await expect(page).toHaveURL(/model=bilinear-none/);
  await expect(page.locator('section.ablation')).toHaveCount(0);
});

test('look closer on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('index.html?lesson=0&model=transposed-concat&stage=dec.0&at=90,120');
  await waitForTrace(page);
  // A tap pins.
  const photo = page.locator('.closer-photo .pointable');
  await photo.scrollIntoViewIfNeeded();
  const b = (await photo.boundingBox())!;
  await page.touchscreen.tap(b.x + 0.5 * b.width, b.y + 0.5 * b.height).catch(() => page.mouse.click(b.x + 0.5 * b.width, b.y + 0.5 * b.height));
  await expect(page.locator('.closer .where')).toContainText('pinned at');
  await expect(page.locator('.closeup[data-kind="transposed"]')).toBeVisible();
  await page.locator('section.closer').screenshot({ path: path.join(ART, 'closer-phone.png') });
  await page.locator('section.ablation').screenshot({ path: path.join(ART, 'closer-ablation-phone.png') });
  // Nothing of "look closer" is wider than the phone.
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('section.closer, section.closer *, section.ablation, section.ablation *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .map((e) => `${e.tagName}.${e.className}`));
  expect(wide).toEqual([]);
});
