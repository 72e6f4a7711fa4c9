// The page benchmark (tests/bench/page.spec.ts): one or more builds of the page, each served
// on its own port, timed interleaved in one Chromium launch. Not part of the default
// `npx playwright test` (its testDir is tests/e2e); run it with scripts/bench_page.sh.
// BENCH_DISTS="label=dir,label=dir" (default "this=dist"; relative to the repository root);
// ports PW_PORT, PW_PORT + 1, ...
import { defineConfig } from '@playwright/test';
import * as path from 'path';
import pageTests from '../../playwright.config';

const BASE = Number(process.env.PW_PORT ?? 8765);
export const DISTS = (process.env.BENCH_DISTS ?? 'this=dist').split(',').filter(Boolean).map((s, i) => {
  const [label, dir] = s.split('=');
  return { label, dir: path.resolve(__dirname, '../..', dir), port: BASE + i };
});

export default defineConfig({
  testDir: '.',
  testMatch: 'page.spec.ts',
  outputDir: 'test-results',
  timeout: 1_800_000,
  workers: 1,
  reporter: [['list']],
  use: { viewport: { width: 1280, height: 900 }, launchOptions: pageTests.use?.launchOptions },
  webServer: DISTS.map((d) => ({
    command: `python3 -m http.server ${d.port} --bind 127.0.0.1 --directory ${d.dir}`,
    url: `http://127.0.0.1:${d.port}/index.html`,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
    stderr: 'ignore' as const,
    timeout: 30_000,
  })),
});
