// The user's own model: weights files of the family opened in the page (python/skipscope_torch
// exports them; README "Train your own"). The files are those PyTorch wrote for the engine's
// parity test (crates/engine/tests/fixtures/torch), a published model, and, when the PyTorch
// tests ran before (scripts/test.sh), the file they trained and exported. Bad files are made
// here. Screenshots land in tests/e2e/artifacts/.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const ART = path.join(__dirname, 'artifacts');
const ROOT = path.join(__dirname, '..', '..');
const TORCH = path.join(ROOT, 'crates/engine/tests/fixtures/torch');
const TRAINED = path.join(ART, 'torch-trained.safetensors');
fs.mkdirSync(ART, { recursive: true });

const open = (page: Page, files: string[] | { name: string; mimeType: string; buffer: Buffer }[]) =>
  page.locator('.model-picker input[type="file"]').setInputFiles(files as any);

async function settled(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
}

test('PyTorch-exported files open as the user\'s model, one toggle per file, and run', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('index.html');
  await settled(page);
  await expect(page.locator('.model-choice[data-dataset="own"]')).toHaveCount(0);
  await open(page, ['transposed-none', 'transposed-add', 'transposed-concat'].map((v) => path.join(TORCH, `${v}.safetensors`)));
  const own = page.locator('.model-choice[data-dataset="own"]');
  await expect(own).toHaveAttribute('aria-pressed', 'true');
  await expect(own).toContainText('your files: transposed-none, transposed-add, transposed-concat');
  // Its legend: the exporter's made-up class names (the fixtures name none).
  await expect(own.locator('.class-name')).toHaveCount(5);
  await expect(page.locator('.legend li').first()).toContainText('class 0');
  // The toggles reach the variants one click away: the three skips at this upsampling, and
  // the other upsamplings, of which no file was opened.
  await page.locator('.toggles [data-variant="transposed-concat"]').first().click();
  for (const v of ['transposed-none', 'transposed-add', 'transposed-concat']) await expect(page.locator(`.toggles [data-variant="${v}"]`).first()).toBeEnabled();
  for (const v of ['unpool-concat', 'bilinear-concat']) {
    await expect(page.locator(`.toggles [data-variant="${v}"]`)).toBeDisabled();
    await expect(page.locator(`.toggles [data-variant="${v}"]`)).toHaveAttribute('title', `you have not opened a ${v} file`);
  }
  await settled(page);
  await expect(page.locator('.banner .own')).toContainText(/Your model transposed-\w+: \d+ parameters, depth 3, width 3, 5 classes, run at 256 x 256; its file reports no scores/);
  // The U diagram has the file's depth: 3 poolings.
  await expect(page.locator('.u-diagram .node[data-stage="pool.2"]')).toHaveCount(1);
  await expect(page.locator('.u-diagram .node[data-stage="pool.3"]')).toHaveCount(0);
  await page.locator('.toggles [data-variant="transposed-none"]').first().click();
  await settled(page);
  await expect(page.locator('.banner .own')).toContainText('Your model transposed-none');
  await expect(page).not.toHaveURL(/data=own/);
  await page.screenshot({ path: path.join(ART, 'own-model.png'), fullPage: true });
  // Back to the published models, and back again.
  await page.locator('.model-choice[data-dataset="ccp"]').click();
  await settled(page);
  await page.locator('.model-choice[data-dataset="own"]').click();
  await settled(page);
  await expect(page.locator('.banner .own')).toContainText('Your model transposed-none');
  expect(errors).toEqual([]);
});

test('bad files are refused with a clear message and the loaded model stays', async ({ page }) => {
  await page.goto('index.html');
  await settled(page);
  await open(page, [path.join(TORCH, 'bilinear-add.safetensors')]);
  await expect(page.locator('.banner .own')).toContainText('Your model bilinear-add');
  const good = fs.readFileSync(path.join(TORCH, 'bilinear-add.safetensors'));
  // Another program's safetensors: a valid file without SkipScope's metadata.
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
  const len = Buffer.alloc(8);
  len.writeUInt32LE(header.length, 0);
  // The metadata says width 4; the tensors are of width 3 (same length, so the file stays well-formed).
  const mismatched = Buffer.from(good.toString('latin1').replace('\\"width\\": 3', '\\"width\\": 4'), 'latin1');
  expect(mismatched.equals(good)).toBe(false);
  const bad = [
    { name: 'cut.safetensors', buffer: good.subarray(0, good.length >> 1), says: 'cut.safetensors was not opened: it cannot be read as a SkipScope weights file (the weights file is truncated' },
    { name: 'noise.safetensors', buffer: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)), says: 'noise.safetensors was not opened: it cannot be read as a SkipScope weights file' },
    { name: 'photo.safetensors', buffer: fs.readFileSync(path.join(ROOT, 'www/samples/street.jpg')), says: 'photo.safetensors was not opened: it cannot be read as a SkipScope weights file' },
    { name: 'zeros.safetensors', buffer: Buffer.alloc(20 << 20), says: 'zeros.safetensors was not opened: it cannot be read as a SkipScope weights file' },
    { name: 'other.safetensors', buffer: Buffer.concat([len, header, Buffer.alloc(4)]), says: 'other.safetensors was not opened: it cannot be read as a SkipScope weights file' },
    { name: 'mismatch.safetensors', buffer: mismatched, says: 'mismatch.safetensors was not opened: bad weights file for bilinear-add' },
  ];
  for (const b of bad) {
    await open(page, [{ name: b.name, mimeType: 'application/octet-stream', buffer: b.buffer }]);
    await expect(page.locator('.model-picker .error')).toContainText(b.says);
    await expect(page.locator('.banner .own')).toContainText('Your model bilinear-add');
    await expect(page.locator('.toggles [data-variant="bilinear-add"]').first()).toBeEnabled();
  }
  await expect(page.locator('.model-picker .error')).toContainText('width');
  await page.screenshot({ path: path.join(ART, 'own-model-refused.png'), fullPage: true });
  // A published model of the family opens too: any dataset's.
  await open(page, [path.join(ROOT, 'www/models/ccp-unpool-add.safetensors')]);
  await expect(page.locator('.banner .own')).toContainText(/Your model unpool-add: \d+ parameters, depth 4, width 8, 4 classes, run at 256 x 176; its file reports test mIoU 62\.1%, BF 52\.0%/);
  await expect(page.locator('.model-picker .error')).toHaveCount(0);
  await settled(page);
  await expect(page.locator('.legend li')).toContainText(['Background', 'Skin', 'Hair', 'Clothes']);
});

test('the model PyTorch trained in python/tests opens in the page', async ({ page }) => {
  test.skip(!fs.existsSync(TRAINED), 'no PyTorch here: python/tests did not run (bash scripts/setup_torch.sh)');
  await page.goto('index.html');
  await settled(page);
  await open(page, [TRAINED]);
  await expect(page.locator('.banner .own')).toContainText(/Your model transposed-add: \d+ parameters, depth 2, width 4, 3 classes, run at 32 x 32; its file reports validation mIoU/);
  await settled(page);
  await expect(page.locator('.legend li')).toContainText(['ground', 'disc', 'bar']);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(ART, 'own-model-trained-phone.png'), fullPage: true });
});
