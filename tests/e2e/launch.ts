// Chromium's launch arguments, shared by playwright.config.ts and the specs that need the
// fake camera (a launch option cannot be set per test, so such a spec sets the whole list).

/** Debian's Chromium, never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The arguments every test runs with. */
export const BASE_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Chromium's fake camera (a moving test pattern), allowed without a prompt. */
export const FAKE_CAMERA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/** `test.use(...)` for a spec that runs the fake camera. */
export const FAKE_CAMERA_USE = {
  launchOptions: { executablePath: CHROMIUM, args: [...BASE_ARGS, ...FAKE_CAMERA] },
  permissions: ['camera'],
};
