// The learn view's training benchmark (tests/bench/learn.spec.ts): the builds of BENCH_DISTS,
// each served on its own port (as tests/bench/page.config.ts), trained interleaved in one
// Chromium launch. Run it with scripts/bench_learn.sh.
import { defineConfig } from '@playwright/test';
import pageBench from './page.config';

export default defineConfig({ ...pageBench, testMatch: 'learn.spec.ts' });
