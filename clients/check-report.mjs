// Opens a generated report in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// as a reader would, and says what a reader would trip over: images that did not load, console errors,
// failed requests (a self-contained page makes none). Writes a full-page screenshot when asked.
//   node check-report.mjs path/to/index.html [screenshot.png]
// Prints one JSON line: {"images":N,"broken":[...],"consoleErrors":[...],"failedRequests":[...],"height":H}
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [page, shot] = process.argv.slice(2);
if (!page) {
  console.error('usage: node check-report.mjs index.html [screenshot.png]');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  const failedRequests = [];
  tab.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  tab.on('pageerror', (e) => consoleErrors.push(String(e)));
  tab.on('requestfailed', (r) => failedRequests.push(r.url().slice(0, 80)));
  tab.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) failedRequests.push('network: ' + r.url()); });
  await tab.goto(pathToFileURL(resolve(page)).href, { waitUntil: 'load' });
  const result = await tab.evaluate(() => {
    const images = [...document.images];
    return {
      images: images.length,
      broken: images.filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.alt.slice(0, 60)),
      height: document.documentElement.scrollHeight,
    };
  });
  if (shot) await tab.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ ...result, consoleErrors, failedRequests }));
} finally {
  await browser.close();
}
