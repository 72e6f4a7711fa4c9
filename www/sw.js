// SkipScope's service worker: after one visit, the page works offline.
//
// It keeps the app in the cache `skipscope-v1` (the name src/offline.rs uses): on install, the
// page, every file it links (scripts, wasm, style), both engine workers' scripts and wasm, the models'
// manifest and the sample photos; afterwards every same-origin GET it answers. Requests go to
// the network first (so a new build is always seen online) and fall back to the cache. The
// weights files (models/*.safetensors) are not handled here: the page keeps them in the same
// cache itself, after checking their length and SHA-256 against the manifest.
// Everything is relative to this file, so the app works under any path.
const CACHE = 'skipscope-v1';
const SAMPLES = ['astronaut', 'camera', 'chelsea', 'coffee', 'highway', 'road', 'rocket', 'street'];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const page = await fetch('./index.html', { cache: 'no-cache' });
    const html = await page.clone().text();
    await cache.put('./index.html', page.clone());
    await cache.put('./', page);
    const linked = [...html.matchAll(/(?:href|src)="([^"#?:]+)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('data:'));
    const workers = ['worker', 'worker_relaxed'].flatMap((w) => [`./${w}.js`, `./${w}_bg.wasm`]);
    const files = [...linked, ...workers, './models/manifest.json', ...SAMPLES.map((s) => `./samples/${s}.jpg`)];
    // One missing file must not cost the whole offline copy.
    await Promise.all(files.map((f) => cache.add(new Request(f, { cache: 'no-cache' })).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.endsWith('.safetensors')) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok && response.status === 200) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((c) => c.put(request, copy)));
      }
      return response;
    } catch (offline) {
      const kept = await caches.match(request, { ignoreSearch: request.mode === 'navigate' });
      if (kept) return kept;
      if (request.mode === 'navigate') {
        const page = await caches.match('./index.html');
        if (page) return page;
      }
      throw offline;
    }
  })());
});
