// The engine worker build the page chooses: the relaxed-SIMD build where the browser validates
// relaxed SIMD (Chromium 156 does), else the simd128 build; both give the same mask.
import { test, expect, Page } from '@playwright/test';

const PAGE = 'index.html?model=transposed-concat&sample=street';

/** Loads the page, waits for the trained model's mask, and returns the wasm files fetched and
 * the mask canvas's pixels (RGBA). */
async function maskAndWasm(page: Page): Promise<{ wasm: string[]; pixels: number[] }> {
  const wasm: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname.replace(/^\//, '')); });
  await page.goto(PAGE);
  await expect(page.locator('.banner .trained')).toBeVisible();
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  const pixels = await page.locator('canvas.mask').evaluate((c: HTMLCanvasElement) =>
    Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
  return { wasm, pixels };
}

test('the relaxed-SIMD worker where relaxed SIMD validates, the simd128 one elsewhere, the same mask', async ({ browser }) => {
  const relaxedContext = await browser.newContext();
  const relaxed = await maskAndWasm(await relaxedContext.newPage());
  await relaxedContext.close();
  expect(relaxed.wasm).toContain('worker_relaxed_bg.wasm');
  expect(relaxed.wasm).not.toContain('worker_bg.wasm');

  // A browser without relaxed SIMD: its validate rejects the probe (and nothing else changes).
  const plainContext = await browser.newContext();
  const plainPage = await plainContext.newPage();
  await plainPage.addInitScript(() => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = (bytes: BufferSource) => {
      const b = new Uint8Array(bytes instanceof ArrayBuffer ? bytes : (bytes as ArrayBufferView).buffer);
      // The relaxed multiply-add's opcode: 0xfd 0x85 0x02.
      for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) return false;
      return validate(bytes);
    };
  });
  const plain = await maskAndWasm(plainPage);
  await plainContext.close();
  expect(plain.wasm).toContain('worker_bg.wasm');
  expect(plain.wasm).not.toContain('worker_relaxed_bg.wasm');

  // Fused and unfused multiply-adds round differently, so a pixel whose two best classes
  // score within about 1e-5 may flip: allow a thousandth of the pixels.
  expect(plain.pixels.length).toBe(relaxed.pixels.length);
  let differ = 0;
  for (let i = 0; i < plain.pixels.length; i += 4) {
    if (plain.pixels[i] !== relaxed.pixels[i] || plain.pixels[i + 1] !== relaxed.pixels[i + 1] || plain.pixels[i + 2] !== relaxed.pixels[i + 2]) differ++;
  }
  console.log(`mask pixels: ${plain.pixels.length / 4}, differing between the builds: ${differ}`);
  expect(differ).toBeLessThanOrEqual(plain.pixels.length / 4 / 1000);
});
