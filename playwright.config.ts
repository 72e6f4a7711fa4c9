// Browser tests of the built page (dist/): Debian's Chromium, never a downloaded browser.
// Run by scripts/test.sh after `trunk build --release`; screenshots go to tests/e2e/artifacts.
// The page is served on port PW_PORT (default 8765), so that two runs can share a machine.
import { defineConfig } from '@playwright/test';
import { BASE_ARGS, CHROMIUM } from './tests/e2e/launch';

const PORT = Number(process.env.PW_PORT ?? 8765);

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'test-results',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    viewport: { width: 1280, height: 900 },
    // The page registers a service worker (www/sw.js); tests that route requests must see them
    // all, so it is blocked except where a test allows it (faults.spec.ts, offline).
    serviceWorkers: 'block',
    launchOptions: { executablePath: CHROMIUM, args: BASE_ARGS },
  },
  webServer: {
    command: `python3 -m http.server ${PORT} --bind 127.0.0.1 --directory dist`,
    url: `http://127.0.0.1:${PORT}/index.html`,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'ignore',
    timeout: 30_000,
  },
});
