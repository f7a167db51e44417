// layout.mjs — layout checks for the browser tests: no horizontal scrolling (of the page or of
// an open dialog) and screenshots at the three widths the portal is checked at.
import assert from 'node:assert/strict';
import { shot } from './portal.mjs';

// Desktop, small laptop / tablet landscape, phone.
export const SIZES = [[1280, 800], [1024, 768], [390, 844]];

// Fails when the page, or any open dialog, scrolls sideways at the current size.
export async function assertNoSideScroll(page, what) {
  const got = await page.evaluate(() => {
    const out = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) {
      // name the elements that reach past the right edge, to say what to fix
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 0.5)
        .slice(-3).map((el) => `${el.tagName.toLowerCase()}.${el.className || ''}`);
      out.push(`page ${root.scrollWidth} > ${root.clientWidth} (${wide.join(', ')})`);
    }
    for (const d of document.querySelectorAll('dialog[open]')) {
      if (d.scrollWidth > d.clientWidth + 1) out.push(`dialog ${d.scrollWidth} > ${d.clientWidth}`);
    }
    return out;
  });
  assert.deepEqual(got, [], `${what}: scrolls sideways at ${page.viewportSize().width} px`);
}

// At each of SIZES: checks assertNoSideScroll and saves NAME-WIDTH.png; back to 1280×800.
export async function shotsAtSizes(page, name) {
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await assertNoSideScroll(page, name);
    await shot(page, `${name}-${width}.png`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}
