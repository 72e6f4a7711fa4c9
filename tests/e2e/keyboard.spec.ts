// Keyboard only: Tab from the top reaches every visible control of the main view (the camera
// button included; the camera starts and stops by keyboard, the focus on the control that
// undoes it), each with a visible focus indicator; Enter and Space on a skip toggle
// change the variant; the arrow keys on the mask move the followed position. And every
// canvas that shows data has a text alternative: a map's stage, shape (H x W x C) and value
// range, checked against the trace data the page exposes (`window.__skipscope`); a mask's
// variant and classes.
import { test, expect, Page } from '@playwright/test';
import { FAKE_CAMERA_USE } from './launch';

// Chromium's fake camera, for the camera by keyboard (the config's launch arguments kept).
test.use(FAKE_CAMERA_USE);

async function waitForMask(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
}

/** Marks every visible, enabled control of the page with `data-kb` and describes each. */
const markControls = (page: Page) => page.evaluate(() => {
  const selector = 'button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea, a[href], [tabindex]:not([tabindex="-1"])';
  const out: string[] = [];
  document.querySelectorAll(selector).forEach((el, i) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || (el as HTMLElement).closest('[hidden], [inert]')) return;
    // A radio group is one stop of the Tab order (its checked radio; arrows move within).
    const radio = el instanceof HTMLInputElement && el.type === 'radio' ? `radio:${el.name}` : String(i);
    el.setAttribute('data-kb', radio);
    out.push(`${radio}: <${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}" type="${el.getAttribute('type') ?? ''}"> ${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 50)}`);
  });
  return out;
});

/** What has the focus now, and whether it shows: a visible outline or a box shadow. */
const focused = (page: Page) => page.evaluate(() => {
  const el = document.activeElement as HTMLElement | null;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow !== 'none';
  return { kb: el.getAttribute('data-kb'), tag: el.tagName.toLowerCase(), cls: el.getAttribute('class') ?? '', visible: el.matches(':focus-visible') && (outline || shadow) };
});

test('Tab reaches every control with a visible focus; keys operate the toggles and the maps', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('index.html');
  await waitForMask(page);
  // The comparison and the trace are in (their buttons exist).
  await expect(page.locator('.compare figure[data-skip] canvas')).toHaveCount(3);
  const controls = await markControls(page);
  expect(controls.length).toBeGreaterThan(20);
  expect(controls.some((c) => c.includes('camera-start'))).toBe(true);

  await page.locator('body').focus();
  const reached = new Set<string>();
  const unseen: string[] = [];
  let first: string | null = null;
  for (let i = 0; i < 2000; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (!f) continue;
    const id = f.kb ?? `${f.tag}.${f.cls}`;
    if (id === first) break; // wrapped round
    first ??= id;
    reached.add(id);
    if (!f.visible) unseen.push(`${f.tag}.${f.cls} (${id})`);
  }
  console.log(`${controls.length} visible controls, ${reached.size} Tab stops reached`);
  const missed = controls.filter((c) => !reached.has(c.slice(0, c.indexOf(': '))));
  expect(missed, 'controls Tab never reached').toEqual([]);
  expect(unseen, 'focused without a visible indicator').toEqual([]);

  // Enter and Space on a skip toggle change the variant.
  const skip = (name: string) => page.locator('.toggles [aria-label="skip connection"] button.toggle', { hasText: name });
  const add = await skip('add').getAttribute('data-variant');
  await skip('add').focus();
  await page.keyboard.press('Enter');
  await expect(skip('add')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => page.evaluate(() => (window as any).__skipscope.variant)).toBe(add);
  const none = await skip('none').getAttribute('data-variant');
  await skip('none').focus();
  await page.keyboard.press('Space');
  await expect(skip('none')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(() => page.evaluate(() => (window as any).__skipscope.variant)).toBe(none);
  await waitForMask(page);

  // The arrow keys within a radio group: the stage's colour scale.
  const perStage = page.locator('input[type="radio"][name="scale"]').nth(1);
  await page.locator('input[type="radio"][name="scale"]:checked').focus();
  await page.keyboard.press('ArrowDown');
  await expect(perStage).toBeChecked();

  // The arrow keys on the mask move the followed position (pinned) by one pixel.
  await page.locator('.pointable.mask-wrap').focus();
  await page.keyboard.press('ArrowRight');
  const where = page.locator('.closer .where');
  await expect(where).toContainText('pinned at row');
  const at = (await where.textContent())!.match(/row (\d+), column (\d+)/)!.slice(1).map(Number);
  await page.keyboard.press('ArrowDown');
  await expect(where).toContainText(`pinned at row ${at[0] + 1}, column ${at[1]}`);
  await page.keyboard.press('ArrowLeft');
  await expect(where).toContainText(`pinned at row ${at[0] + 1}, column ${at[1] - 1}`);
});

test('every data canvas says what it shows: stage, shape and value range; a mask its variant and classes', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('index.html?stage=dec.1');
  await waitForMask(page);
  await expect(page.locator('.compare figure[data-skip] canvas')).toHaveCount(3);
  // Every canvas is an image with a name.
  const unnamed = await page.locator('canvas').evaluateAll((cs) => cs.filter((c) => c.getAttribute('role') !== 'img' || !(c.getAttribute('aria-label') ?? '').trim()).map((c) => c.className));
  expect(unnamed).toEqual([]);

  type Stage = { c: number; h: number; w: number; min: Float32Array; max: Float32Array };
  const data = await page.evaluate(() => {
    const s = (window as any).__skipscope;
    const stages: Record<string, { c: number; h: number; w: number; min: number[]; max: number[] }> = {};
    for (const [k, v] of Object.entries(s.stages as Record<string, Stage>)) stages[k] = { c: v.c, h: v.h, w: v.w, min: [...v.min], max: [...v.max] };
    return { variant: s.variant as string, stages };
  });
  const labels = await page.locator('.grid canvas.heatmap, .thumb canvas, canvas.zoomed').evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')!));
  expect(labels.length).toBeGreaterThan(15);
  const pattern = /^(\S+)(?:, enlarged)?, channel (\d+) of (\d+): (\d+) x (\d+) x (\d+) \(H x W x C\), values (-?[\d.]+)\.\.(-?[\d.]+)/;
  const round = (v: number) => Number(v.toFixed(3)) || 0;
  for (const label of labels) {
    const m = label.match(pattern);
    expect(m, label).not.toBeNull();
    const [, name, c, C, h, w, C2, lo, hi] = m!;
    const s = data.stages[name];
    expect(s, `${label}: a stage of the trace`).toBeDefined();
    expect([Number(C), Number(h), Number(w), Number(C2)], label).toEqual([s.c, s.h, s.w, s.c]);
    expect([Number(lo), Number(hi)], label).toEqual([round(s.min[Number(c)]), round(s.max[Number(c)])]);
  }
  // The selected stage's heatmaps name it, one per channel.
  const grid = await page.locator('.grid canvas.heatmap').evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')!));
  expect(grid.every((l) => l.startsWith('dec.1, channel'))).toBe(true);
  expect(grid.length).toBe(data.stages['dec.1'].c);
  // The decoder's parts (upsampled | skip term | fused) name their part, with its shape.
  const up = data.stages['dec.1'];
  const upC = await page.evaluate(() => (window as any).__skipscope.stages['dec.1'].upsampled.c as number);
  const parts = await page.locator('.parts canvas.heatmap.part').evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')!));
  expect(parts.length).toBeGreaterThanOrEqual(2);
  expect(parts[0]).toMatch(new RegExp(`^dec\\.1 upsampled, channel \\d+ of ${upC}: ${up.h} x ${up.w} x ${upC} \\(H x W x C\\), values -?[\\d.]+\\.\\.-?[\\d.]+$`));
  // (For concat the third is the stage's output: the fused map only stacks the two.)
  expect(parts[parts.length - 1]).toMatch(/^dec\.1( fused)?, channel \d+ of \d+: \d+ x \d+ x \d+ \(H x W x C\), values /);
  // The mask: the variant shown and the classes it shows, with shares.
  const mask = await page.locator('canvas.mask').getAttribute('aria-label');
  const m = mask!.match(new RegExp(`: ${data.variant}, (\\d+) x (\\d+): classes shown (.+)$`));
  expect(m, mask!).not.toBeNull();
  // Its classes and shares are those of the mask's pixels, largest first (classes under 1%
  // without a share).
  const pixels: number[] = await page.evaluate((v) => [...(window as any).__skipscope.masks[v].classes], data.variant);
  expect(pixels.length).toBe(Number(m![1]) * Number(m![2]));
  const counts = new Map<number, number>();
  for (const c of pixels) counts.set(c, (counts.get(c) ?? 0) + 1);
  const shares = [...counts.values()].sort((a, b) => b - a).map((n) => 100 * n / pixels.length);
  const named = m![3].split(', ').map((s) => s.match(/^(.+?)(?: (\d+)%)?$/)!);
  expect(named.length).toBe(shares.length);
  named.forEach((n, i) => {
    if (shares[i] >= 1) expect(Math.abs(Number(n[2]) - shares[i]), mask!).toBeLessThanOrEqual(0.5 + 1e-9);
    else expect(n[2], mask!).toBeUndefined();
  });
  const legend = await page.locator('.legend').first().textContent();
  for (const n of named) expect(legend, 'a class the legend names').toContain(n[1]);
  console.log(`mask label: ${mask}`);
  // The comparison's masks name their variants.
  for (const skip of ['none', 'add', 'concat']) {
    await expect(page.locator(`.compare figure[data-skip="${skip}"] canvas`)).toHaveAttribute('aria-label', new RegExp(`^mask with skip ${skip}: \\w+-${skip}, \\d+ x \\d+: classes shown`));
  }
});

test('the camera starts and stops by keyboard alone; the focus moves to the control that undoes it', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('index.html');
  await waitForMask(page);
  const start = page.locator('button.camera-start');
  const stop = page.locator('button.camera-stop');
  /** Tabs from the top to "Use camera". */
  const tabToStart = async () => {
    await page.locator('body').focus();
    for (let i = 0; i < 300 && !(await start.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
    await expect(start).toBeFocused();
  };
  await tabToStart();
  await page.keyboard.press('Enter');
  await expect(page.locator('section.camera-view')).toBeVisible();
  await expect(stop).toBeFocused();
  await expect(page.locator('section.camera-view[data-status="on"]')).toBeVisible();
  await expect(page.locator('.camera-announce')).toHaveText('Camera on.');
  // Stop, by Enter on the focused Stop button: the focus is back on "Use camera".
  await page.keyboard.press('Enter');
  await expect(page.locator('video')).toHaveCount(0);
  await expect(start).toBeFocused();
  await expect(page.locator('.camera-announce')).toHaveText('Camera stopped.');
  // Space starts it again; Tab to the side-by-side switch, then Escape stops it and the
  // focus, lost with the camera view, is back on "Use camera".
  await page.keyboard.press('Space');
  await expect(stop).toBeFocused();
  await expect(page.locator('section.camera-view[data-status="on"]')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.locator('button.camera-sbs')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.locator('video')).toHaveCount(0);
  await expect(start).toBeFocused();
  // Escape typed in a form field is the field's: the camera stays on.
  await page.keyboard.press('Enter');
  await expect(page.locator('section.camera-view[data-status="on"]')).toBeVisible();
  const field = page.locator('input[type="radio"][name="scale"]:checked');
  await expect(field).toHaveCount(1);
  await field.focus();
  await page.keyboard.press('Escape');
  await page.waitForTimeout(300);
  await expect(page.locator('section.camera-view')).toBeVisible();
  await stop.focus();
  await page.keyboard.press('Enter');
  await expect(start).toBeFocused();
});
