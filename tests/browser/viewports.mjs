// viewports.mjs — screenshots of one state of the page at the three sizes the portal is
// checked at (1280×800, 1024×768, 390×844), each after asserting that nothing scrolls
// sideways: neither the page nor an open dialog is wider than its box.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, shot, TIMEOUT } from './portal.mjs';

export const VIEWPORTS = [[1280, 800], [1024, 768], [390, 844]];

// Asserts no horizontal overflow of the document or of any open <dialog>.
export async function assertNoSidewaysScroll(page, what) {
  const over = await page.evaluate(() => {
    const out = [];
    const de = document.documentElement;
    if (de.scrollWidth > de.clientWidth) out.push(`page ${de.scrollWidth} > ${de.clientWidth}`);
    for (const d of document.querySelectorAll('dialog[open]')) {
      if (d.scrollWidth > d.clientWidth) out.push(`dialog ${d.getAttribute('aria-labelledby')} ${d.scrollWidth} > ${d.clientWidth}`);
      const r = d.getBoundingClientRect();
      if (r.left < 0 || r.right > window.innerWidth) out.push(`dialog outside the window (${r.left}..${r.right})`);
    }
    return out;
  });
  assert.deepEqual(over, [], `${what}: nothing scrolls sideways at ${page.viewportSize().width}px`);
}

// The window as the person sees it (a modal dialog covers the window, not the whole page).
async function windowShot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), timeout: TIMEOUT });
}

// NAME-1280.png, NAME-1024.png, NAME-390.png; the viewport is put back afterwards. Without a
// dialog the whole page is taken; with one, the window, and when the topmost dialog scrolls,
// its further parts follow as NAME-WIDTH-2.png, -3.png, … (each scrolled one box further
// down), so that every part of it is seen; its scroll is restored.
export async function shotsAt(page, name) {
  const was = page.viewportSize();
  for (const [width, height] of VIEWPORTS) {
    await page.setViewportSize({ width, height });
    await assertNoSidewaysScroll(page, name);
    const top = page.locator('dialog[open]').last();
    if (!(await top.count())) {
      await shot(page, `${name}-${width}.png`);
      continue;
    }
    await windowShot(page, `${name}-${width}.png`);
    const { scrollTop, parts } = await top.evaluate((d) => ({
      scrollTop: d.scrollTop,
      parts: d.scrollHeight <= d.clientHeight ? 1 : Math.ceil(d.scrollHeight / Math.max(1, d.clientHeight - 40)),
    }));
    for (let i = 1; i < Math.min(parts, 8); i += 1) {
      await top.evaluate((d, n) => { d.scrollTop = n * (d.clientHeight - 40); }, i);
      await windowShot(page, `${name}-${width}-${i + 1}.png`);
    }
    await top.evaluate((d, t) => { d.scrollTop = t; }, scrollTop);
  }
  await page.setViewportSize(was);
}
