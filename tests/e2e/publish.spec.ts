// Publishable anywhere, and nothing leaves the machine: dist/ served under a sub-path by a
// plain static server runs a sample; the page carries a Content-Security-Policy that allows
// only its own origin, and a full session (load, samples, toggles, stages, an upload, the
// lesson, the comparison) makes only same-origin requests and no policy violation.
import { test, expect, Page } from '@playwright/test';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';

const ART = path.join(__dirname, 'artifacts');
fs.mkdirSync(ART, { recursive: true });
const DIST = path.join(__dirname, '../../dist');

async function waitForMask(page: Page) {
  await expect(page.locator('p.status[data-running="false"].done')).toBeVisible();
  await expect(page.locator('canvas.mask')).toBeVisible();
}

const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.jpg': 'image/jpeg', '.safetensors': 'application/octet-stream', '.md': 'text/plain',
};

/** A static server of dist/ under `prefix` only (anything else is a 404), as a host that
 * publishes the app at https://example.org/prefix would be. */
function serveUnder(prefix: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(prefix)) { res.writeHead(404).end('not here'); return; }
    let file = path.join(DIST, decodeURIComponent(url.pathname.slice(prefix.length)));
    if (!file.startsWith(DIST)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('dist/ served under a sub-path runs a sample', async ({ page }) => {
  const server = await serveUnder('/apps/skipscope/');
  const { port } = server.address() as AddressInfo;
  const missing: string[] = [];
  page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`http://127.0.0.1:${port}/apps/skipscope/`);
    await expect(page.locator('h1')).toHaveText('SkipScope');
    await waitForMask(page);
    await page.locator('.sample[data-sample="street"]').click();
    await expect(page.locator('.sample.on')).toHaveAttribute('data-sample', 'street');
    await waitForMask(page);
    expect(missing).toEqual([]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: path.join(ART, 'sub-path.png') });
  } finally {
    server.close();
  }
});

test('the page has a same-origin Content-Security-Policy, and a full session requests only its own origin', async ({ page, context, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const violations: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  await page.addInitScript(() => {
    (window as any).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto('index.html');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
  // No other origin is named anywhere in the policy.
  expect(csp!.match(/https?:|\*/g)).toBeNull();
  await waitForMask(page);

  // A full session: samples, every skip toggle, stage stepping, an upload, a label, the lesson.
  for (const s of ['coffee', 'street']) {
    await page.locator(`.sample[data-sample="${s}"]`).click();
    await waitForMask(page);
  }
  const toggles = page.locator('.toggles button.toggle:not([disabled])');
  for (let i = 0; i < Math.min(await toggles.count(), 4); i++) {
    await toggles.nth(i).click();
    await waitForMask(page);
  }
  await page.locator('.u-diagram .node').nth(3).click();
  await page.keyboard.press('ArrowRight');
  await page.locator('input[aria-label="upload a photo"]').setInputFiles(path.join(__dirname, '../../www/samples/chelsea.jpg'));
  await waitForMask(page);
  const lesson = page.locator('button', { hasText: /lesson/i }).first();
  if (await lesson.count()) await lesson.click();
  await page.waitForTimeout(500);

  const foreign = requests.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('blob:' + origin + '/') && !u.startsWith('data:'));
  console.log(`request log: ${requests.length} requests, ${new Set(requests.map((u) => new URL(u).pathname.split('/').pop())).size} distinct files, ${foreign.length} to another origin`);
  expect(foreign).toEqual([]);
  expect(requests.length).toBeGreaterThan(5);
  expect(await page.evaluate(() => (window as any).__csp)).toEqual([]);
  expect(violations).toEqual([]);
});
