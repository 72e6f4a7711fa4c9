// Every photo a phone or camera makes, on files each test makes itself: a 50 MP JPEG and a
// 200 MP PNG (with the browser's memory measured while each is read), a 12000 x 9000 PNG,
// an SVG, an animated GIF, and headers of formats browsers cannot decode (HEIC, TIFF, RAW).
// The previous picture stays whenever a file is refused.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

const ART = path.join(__dirname, 'artifacts');
fs.mkdirSync(ART, { recursive: true });

async function noManifest(page: Page) {
  await page.route('**/models/manifest.json', (r) => r.fulfill({ status: 404, body: 'not found' }));
}

async function waitForMask(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
}

const maskPixels = (page: Page) => page.locator('canvas.mask').evaluate((c: HTMLCanvasElement) => c.toDataURL());
const upload = (page: Page) => page.locator('input[aria-label="upload a photo"]');

/** An RGB PNG, `w x h`: horizontal colour bands that change every `h / 6` rows, each row
 * after a band's first stored with the Up filter (so it deflates to almost nothing fast). */
function bandedPng(w: number, h: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type: string, data: Buffer) => {
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const stride = 1 + 3 * w;
  const zero = Buffer.alloc(stride); zero[0] = 2; // filter Up, no change
  const rows: Buffer[] = [];
  const band = Math.ceil(h / 6);
  for (let y = 0; y < h; y++) {
    if (y % band === 0) {
      const r = Buffer.alloc(stride);
      const k = y / band;
      for (let x = 0; x < w; x++) {
        r[1 + 3 * x] = (x * 255 / w + 40 * k) & 255; r[2 + 3 * x] = (90 * k) & 255; r[3 + 3 * x] = 255 - ((x * 200 / w) | 0);
      }
      rows.push(r);
    } else rows.push(zero);
  }
  const idat = zlib.deflateSync(Buffer.concat(rows), { level: 1 });
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Resident memory (bytes) of every process below this test's Node process: the browser
 * Playwright launched, its GPU, network and renderer processes. */
function browserRss(): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
      rss.set(Number(d), Number(fields[21]) * 4096);
    } catch { /* the process ended */ }
  }
  let total = 0;
  for (const [pid, bytes] of rss) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) { total += bytes; break; }
    }
  }
  return total;
}

/** Runs `action` while sampling the browser's memory every 20 ms; returns the peak above
 * the level before it, in MB. */
async function peakMb(action: () => Promise<void>): Promise<{ before: number; peak: number }> {
  const before = browserRss();
  let peak = before;
  const timer = setInterval(() => { peak = Math.max(peak, browserRss()); }, 20);
  try { await action(); } finally { clearInterval(timer); }
  peak = Math.max(peak, browserRss());
  return { before: before / 2 ** 20, peak: (peak - before) / 2 ** 20 };
}

test.beforeEach(async ({ page }) => {
  await noManifest(page);
  await page.goto('index.html');
  await waitForMask(page);
});

test('a 50 MP JPEG and a 200 MP PNG are read at the working size, in bounded memory', async ({ page }) => {
  test.setTimeout(400_000);
  // The 50 MP (8192 x 6144) JPEG is made in the page; it is held as a Blob, then chosen.
  const jpegBytes = await page.evaluate(async () => {
    const c = new OffscreenCanvas(8192, 6144);
    const g = c.getContext('2d')!;
    const grad = g.createLinearGradient(0, 0, 8192, 6144);
    grad.addColorStop(0, '#4a6'); grad.addColorStop(1, '#a53');
    g.fillStyle = grad; g.fillRect(0, 0, 8192, 6144);
    g.fillStyle = '#222'; g.fillRect(2000, 3000, 4000, 2000);
    // Fine detail everywhere, so that the file is as large as a phone's (tens of MB).
    const tile = new ImageData(509, 509);
    let seed = 1;
    for (let i = 0; i < tile.data.length; i++) { seed = (seed * 1103515245 + 12345) >>> 0; tile.data[i] = i % 4 === 3 ? 90 : seed >>> 24; }
    const t = new OffscreenCanvas(509, 509);
    t.getContext('2d')!.putImageData(tile, 0, 0);
    g.fillStyle = g.createPattern(t, 'repeat')!; g.fillRect(0, 0, 8192, 6144);
    const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
    c.width = c.height = 1;
    (window as any).__jpeg = new File([blob], 'phone-50mp.jpg', { type: 'image/jpeg' });
    return blob.size;
  });
  const choose = (page: Page, key: string) => page.evaluate((key) => {
    const dt = new DataTransfer();
    dt.items.add((window as any)[key]);
    const input = document.querySelector('input[aria-label="upload a photo"]') as HTMLInputElement;
    input.files = dt.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, key);
  await page.waitForTimeout(1000); // let the encoder's canvas go before measuring
  const jpeg = await peakMb(async () => {
    await choose(page, '__jpeg');
    await expect(page.locator('.picture-size')).toHaveAttribute('data-original', '8192x6144');
    await expect(page.locator('canvas.mask')).toHaveAttribute('height', '192');
    await expect(page.locator('canvas.mask')).toHaveAttribute('width', '256');
    await waitForMask(page);
  });
  await expect(page.locator('.picker .error')).toHaveCount(0);
  console.log(`50 MP JPEG (${(jpegBytes / 2 ** 20).toFixed(1)} MB): browser memory before ${jpeg.before.toFixed(0)} MB, peak +${jpeg.peak.toFixed(0)} MB while read (full RGBA would be ${(8192 * 6144 * 4 / 2 ** 20).toFixed(0)} MB)`);

  // 16384 x 12288 = 201 MP, generated here.
  const png = bandedPng(16384, 12288);
  const pngPeak = await peakMb(async () => {
    await upload(page).setInputFiles({ name: 'camera-200mp.png', mimeType: 'image/png', buffer: png });
    await expect(page.locator('.picture-size')).toHaveAttribute('data-original', '16384x12288', { timeout: 120_000 });
    await waitForMask(page);
  });
  await expect(page.locator('.picker .error')).toHaveCount(0);
  console.log(`201 MP PNG (${(png.length / 2 ** 20).toFixed(1)} MB): browser memory before ${pngPeak.before.toFixed(0)} MB, peak +${pngPeak.peak.toFixed(0)} MB while read (full RGBA would be ${(16384 * 12288 * 4 / 2 ** 20).toFixed(0)} MB)`);
  // Bounded: the browser never holds two full-size copies of the largest picture.
  expect(pngPeak.peak).toBeLessThan(2 * 16384 * 12288 * 4 / 2 ** 20);
  await page.screenshot({ path: path.join(ART, 'photo-200mp.png'), fullPage: true });
});

test('a 12000 x 9000 PNG gives a mask; the picture keeps its aspect ratio', async ({ page }) => {
  await upload(page).setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: bandedPng(12000, 9000) });
  await expect(page.locator('.picture-size')).toHaveAttribute('data-original', '12000x9000');
  // 9000 / 12000 * 256 = 192.
  await expect(page.locator('canvas.mask')).toHaveAttribute('height', '192');
  await expect(page.locator('canvas.mask')).toHaveAttribute('width', '256');
  await waitForMask(page);
});

test('an SVG is drawn at its declared size fit to the model', async ({ page }) => {
  const svg = `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400" viewBox="0 0 800 400">
  <rect width="800" height="200" fill="#6af"/><rect y="200" width="800" height="200" fill="#555"/>
  <circle cx="400" cy="220" r="80" fill="#c33"/>
</svg>`;
  await upload(page).setInputFiles({ name: 'drawing.svg', mimeType: 'image/svg+xml', buffer: Buffer.from(svg) });
  await expect(page.locator('.picture-size')).toHaveAttribute('data-original', '800x400');
  await expect(page.locator('canvas.mask')).toHaveAttribute('height', '128');
  await expect(page.locator('canvas.mask')).toHaveAttribute('width', '256');
  await waitForMask(page);
  await page.screenshot({ path: path.join(ART, 'photo-svg.png'), fullPage: true });
});

test('an animated GIF shows its first frame and says so', async ({ page }) => {
  // 2 x 1 pixels, two frames, a two-colour table (black, white).
  const frame = [0x2c, 0, 0, 0, 0, 2, 0, 1, 0, 0, 2, 2, 0x44, 0x0a, 0];
  const gif = Buffer.from([
    ...Buffer.from('GIF89a'), 2, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
    0x21, 0xf9, 4, 0, 10, 0, 0, 0, ...frame, 0x21, 0xf9, 4, 0, 10, 0, 0, 0, ...frame, 0x3b,
  ]);
  await upload(page).setInputFiles({ name: 'loop.gif', mimeType: 'image/gif', buffer: gif });
  await expect(page.locator('.picture-note')).toHaveText('\u201cloop.gif\u201d is an animated GIF: its first frame is shown.');
  await expect(page.locator('.picture-size')).toHaveAttribute('data-original', '2x1');
  await waitForMask(page);
});

test('HEIC, TIFF and RAW files are named, with what to do; the previous picture stays', async ({ page }) => {
  const before = await maskPixels(page);
  const ftyp = (brand: string, compat: string) => {
    const b = Buffer.alloc(16 + compat.length + 64);
    b.writeUInt32BE(16 + compat.length, 0); b.write('ftyp', 4); b.write(brand, 8); b.write(compat, 16);
    return b;
  };
  const cases: [string, Buffer, RegExp][] = [
    ['IMG_0001.HEIC', ftyp('heic', 'mif1heic'), /is a HEIC \(HEIF\) photo.*Convert it to JPEG/],
    ['scan.tif', Buffer.concat([Buffer.from('II*\0\x08\0\0\0', 'binary'), Buffer.alloc(64)]), /is a TIFF image.*Save it as PNG or JPEG/],
    ['IMG_2.CR2', Buffer.concat([Buffer.from('II*\0\x10\0\0\0CR\x02\0', 'binary'), Buffer.alloc(64)]), /camera RAW file \(Canon CR2\).*Export it as JPEG/],
    ['IMG_3.CR3', ftyp('crx ', 'crx isom'), /camera RAW file \(Canon CR3\)/],
  ];
  for (const [name, buffer, message] of cases) {
    await upload(page).setInputFiles({ name, mimeType: 'image/heic', buffer });
    await expect(page.locator('.picker .error')).toHaveText(message);
    await expect(page.locator('.picker .error')).toContainText(name);
    expect(await maskPixels(page)).toBe(before);
  }
  await page.screenshot({ path: path.join(ART, 'photo-heic.png'), fullPage: true });
});
