// review.mjs — what every screenshot of a page or dialog also checks (issue 13, items 9 and
// 10): the view is photographed at the three widths the portal must hold (1280×800, 1024×768
// and a 390×844 phone), nothing scrolls sideways at any of them, and axe-core (npm, injected
// through the DevTools protocol, so the portal's CSP is untouched) finds no serious or
// critical violation. The page's own viewport is restored afterwards.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const WIDTHS = [
  { width: 1280, height: 800 },
  { width: 1024, height: 768 },
  { width: 390, height: 844 },
];

// Rules axe runs: WCAG 2.1 A and AA, and its best practices.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const BLOCKING = new Set(['serious', 'critical']);

// The serious and critical axe violations on the page as it is now, as readable lines.
export async function axeViolations(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  }, AXE_TAGS);
  return result.filter((v) => BLOCKING.has(v.impact))
    .map((v) => `${v.impact} ${v.id} (${v.help}):\n    ${v.nodes.join('\n    ')}`);
}

// What scrolls sideways, as readable lines (empty when nothing does): the document, any
// element reaching past the window's edges, and any container that scrolls horizontally on
// its own (an overflow-x: auto wrapper is sideways scrolling too).
export async function sidewaysOverflow(page) {
  return page.evaluate(() => {
    const out = [];
    const doc = document.scrollingElement || document.documentElement;
    const vw = window.innerWidth;
    const nameOf = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''}`;
    if (doc.scrollWidth > vw) out.push(`the document is ${doc.scrollWidth} px wide in a ${vw} px window`);
    for (const el of document.querySelectorAll('body *')) {
      const st = getComputedStyle(el);
      if (['auto', 'scroll'].includes(st.overflowX) && el.scrollWidth > el.clientWidth + 1
          && el.getBoundingClientRect().width > 0) {
        out.push(`${nameOf(el)} scrolls sideways (${el.scrollWidth} px of content in ${el.clientWidth} px)`);
      }
    }
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.right <= vw + 1 && r.left >= -1) continue;
      let p = el.parentElement;
      let clipped = false;
      while (p && p !== document.body) {
        const st = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(st.overflowX)) { clipped = true; break; }
        p = p.parentElement;
      }
      if (clipped) continue;
      out.push(`${nameOf(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} in a ${vw} px window`);
      if (out.length > 5) break;
    }
    return out;
  });
}

const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

// The picture(s) of the page at its current size: the whole page, or with a dialog open the
// window as the person sees it, and when the topmost dialog scrolls, its further parts as
// NAME-2.png, NAME-3.png, … (its scroll is put back).
async function photograph(page, file) {
  const top = page.locator('dialog[open]').last();
  if (!(await top.count())) {
    await page.screenshot({ path: `${file}.png`, fullPage: true });
    return;
  }
  await page.screenshot({ path: `${file}.png` });
  const { scrollTop, parts } = await top.evaluate((d) => ({
    scrollTop: d.scrollTop,
    parts: d.scrollHeight <= d.clientHeight ? 1 : Math.ceil(d.scrollHeight / Math.max(1, d.clientHeight - 40)),
  }));
  for (let i = 1; i < Math.min(parts, 8); i += 1) {
    await top.evaluate((d, n) => { d.scrollTop = n * (d.clientHeight - 40); }, i);
    await page.screenshot({ path: `${file}-${i + 1}.png` });
  }
  await top.evaluate((d, t) => { d.scrollTop = t; }, scrollTop);
}

// Photographs `page` as DIR/NAME-WxH.png at each of `sizes` (default: the three widths), and
// fails when anything scrolls sideways or axe reports a serious or critical violation at any
// of them. The page's own size is put back afterwards.
export async function review(page, dir, name, sizes = WIDTHS) {
  // The portal's files are the same whatever build serves them: the sanitizer pass of `make
  // test` (scripts/run-tests.sh sets APIKEYD_REVIEW_SIZES=current) reviews each view at the
  // size it has, and the plain pass at all three widths.
  if (process.env.APIKEYD_REVIEW_SIZES === 'current' && page.viewportSize()) {
    sizes = [page.viewportSize()];
  }
  fs.mkdirSync(dir, { recursive: true });
  const base = name.replace(/\.png$/, '');
  const original = page.viewportSize();
  const problems = [];
  try {
    for (const vp of sizes) {
      if (vp.width !== page.viewportSize()?.width || vp.height !== page.viewportSize()?.height) {
        await page.setViewportSize(vp);
      }
      await settle(page);
      await photograph(page, path.join(dir, `${base}-${vp.width}x${vp.height}`));
      for (const o of await sidewaysOverflow(page)) problems.push(`${vp.width}px: ${o}`);
      for (const v of await axeViolations(page)) problems.push(`${vp.width}px: ${v}`);
    }
  } finally {
    if (original) await page.setViewportSize(original);
    await settle(page);
  }
  assert.deepEqual(problems, [], `${base}: layout or accessibility problems`);
}
