// The engine against onnxruntime-web in one headless Chromium (Debian's, never a downloaded
// browser). Not part of the default `npx playwright test` (its testDir is tests/e2e); run
// it with scripts/bench_wasm_ort.sh, which builds what it serves.
import { defineConfig } from '@playwright/test';
import pageTests from '../../playwright.config';

const PORT = 8766;

export default defineConfig({
  testDir: '.',
  testMatch: 'ort_vs_engine.spec.ts',
  outputDir: 'test-results',
  timeout: 1_800_000,
  workers: 1,
  reporter: [['list']],
  // The page tests' Chromium and launch flags (../../playwright.config.ts).
  use: { baseURL: `http://127.0.0.1:${PORT}/`, launchOptions: pageTests.use?.launchOptions },
  // The repository root: the page (tests/bench/), its build (tests/bench/out/), the
  // weights (www/models/) and onnxruntime-web (node_modules/).
  webServer: {
    command: `python3 -m http.server ${PORT} --bind 127.0.0.1 --directory ../..`,
    url: `http://127.0.0.1:${PORT}/tests/bench/bench.html`,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'ignore',
    timeout: 30_000,
  },
});
