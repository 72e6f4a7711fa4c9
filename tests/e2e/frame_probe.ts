// The page's longest animation-frame gap: probeFrames(page) starts (or restarts) a
// requestAnimationFrame probe; longestGap(page) returns the longest gap in ms since.
// Shared by the learn view's spec and its benchmark.
import { Page } from '@playwright/test';

export async function probeFrames(page: Page) {
  await page.evaluate(() => {
    const w = window as any;
    let last = performance.now();
    w.__maxGap = 0;
    const tick = (t: number) => { w.__maxGap = Math.max(w.__maxGap, t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
}

export const longestGap = (page: Page): Promise<number> => page.evaluate(() => (window as any).__maxGap as number);
