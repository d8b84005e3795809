// Loads the archive's pages in headless Chromium at desktop and phone widths, checks what a
// person sees (and axe-core's WCAG 2.1 AA rules), and saves screenshots.
// Usage: node check.mjs BASE_URL SCREENSHOT_DIR NAME=PATH...
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [base, out, ...listed] = process.argv.slice(2);
// A browser that stops answering fails the test instead of hanging it.
setTimeout(() => { console.log('FAILED: timed out after 5 minutes'); process.exit(2); }, 300_000).unref();
const paths = Object.fromEntries(listed.map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
mkdirSync(out, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const sizes = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };
let passed = 0;
const failures = [];

function check(ok, what) {
  if (ok) passed++; else failures.push(what);
}

const visibleText = (page, selector) => page.locator(selector).first().innerText();

// WCAG contrast of every visible text element against its nearest opaque background.
async function lowContrast(page) {
  return page.evaluate(() => {
    const parse = c => (c.match(/[\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
      const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = el => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of document.body.querySelectorAll('*')) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (!own || !el.checkVisibility()) continue;
      const fg = luminance(parse(getComputedStyle(el).color).slice(0, 3));
      const bg = luminance(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) bad.push(`${el.tagName.toLowerCase()}.${el.className} ${ratio.toFixed(2)}`);
    }
    return bad;
  });
}

// What is wider than the screen: the page itself, or any element a reader would have to
// scroll sideways (a scroll box hides a figure as surely as a page that is too wide).
async function overflow(page) {
  return page.evaluate(() => {
    const wide = [];
    const page = document.documentElement.scrollWidth - window.innerWidth;
    if (page > 0) wide.push(`the page by ${page}px`);
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.checkVisibility()) continue;
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1) wide.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(r.right)}px`);
      const style = getComputedStyle(el);
      if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
        wide.push(`${el.tagName.toLowerCase()}.${el.className} scrolls by ${el.scrollWidth - el.clientWidth}px`);
      }
    }
    return wide.slice(0, 5);
  });
}

// axe-core's WCAG 2.0/2.1 A and AA rules. Its timers need scripting, which the reader's
// pages do without: it runs in a context of its own that allows it (the pages have no
// scripts, so they render the same), past the Content-Security-Policy that forbids it.
const axeContext = await browser.newContext({ bypassCSP: true });
async function axe(url, viewport) {
  const page = await axeContext.newPage();
  await page.setViewportSize(viewport);
  await page.goto(url);
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
  }).finally(() => page.close());
}

const checks = {
  home: async (page, where) => {
    check((await visibleText(page, 'h1')).includes('Uusimmat palautteet'), `${where}: heading`);
    check(await page.locator('table.figures').isVisible(), `${where}: company figures table`);
    check(await page.getByRole('link', { name: 'Lasku tuli kahdesti' }).first().isVisible(), `${where}: thread link`);
    const figures = await visibleText(page, 'table.figures');
    check(figures.includes('Elisa'), `${where}: Elisa in the table`);
    // Issue 21: every column is on the screen, its numbers under its header.
    check(figures.includes('Ratkaistu kirjoittajan mukaan'), `${where}: the last figure is visible`);
    check(figures.includes('liian vähän palautteita'), `${where}: too small a sample says so`);
  },
  company: async (page, where) => {
    check((await visibleText(page, 'h1')) === 'Elisa', `${where}: company name`);
    check(/liian vähän palautteita \(\d+\)/.test(await visibleText(page, 'dl.figures')), `${where}: answered share with its count`);
    check(await page.getByRole('link', { name: 'Odottaa vastausta' }).isVisible(), `${where}: waiting filter`);
    check(await page.getByRole('link', { name: 'Miten luvut lasketaan' }).first().isVisible(), `${where}: method link`);
  },
  thread: async (page, where) => {
    const official = page.locator('article[data-kind="official"]');
    check(await official.isVisible(), `${where}: official answer visible`);
    check((await official.innerText()).includes('Vahvistettu edustaja'), `${where}: badge text`);
    check((await official.innerText()).includes('Palautamme'), `${where}: answer text`);
    const [border, consumerBorder] = await Promise.all([
      official.evaluate(e => getComputedStyle(e).borderTopColor),
      page.locator('article[data-kind="consumer"]').first().evaluate(e => getComputedStyle(e).borderTopColor),
    ]);
    check(border !== consumerBorder, `${where}: official answer styled apart (${border} vs ${consumerBorder})`);
    // What the extraction cut (our own mail, quoted history) is not on the page (issue 18).
    check((await official.locator('details').count()) === 0, `${where}: no cut quote on the page`);
    const unverified = page.locator('article[data-kind="unverified"]');
    check((await unverified.innerText()).includes('Emme voineet varmistaa'), `${where}: why unverified, in words`);
    check(await page.locator('article[data-kind="auto"]').isVisible(), `${where}: automatic reply event`);
  },
  'thread-attachments': async (page, where) => {
    check((await visibleText(page, 'p.attachments')).includes('3'), `${where}: attachments counted, not shown`);
  },
  search: async (page, where) => {
    check(await page.locator('mark').first().isVisible(), `${where}: highlighted match`);
    check(await page.getByRole('link', { name: 'Lasku tuli kahdesti' }).first().isVisible(), `${where}: result link`);
  },
  method: async (page, where) => {
    check((await visibleText(page, 'h1')) === 'Miten luvut lasketaan', `${where}: method heading`);
    check((await page.locator('dl.definitions dt').count()) >= 7, `${where}: every figure defined`);
  },
};

for (const [sizeName, viewport] of Object.entries(sizes)) {
  const context = await browser.newContext({ viewport, javaScriptEnabled: false });
  for (const [name, path] of Object.entries(paths)) {
    const page = await context.newPage();
    const where = `${name} (${sizeName})`;
    const errors = [];
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    const response = await page.goto(base + path);
    check(response.status() === 200, `${where}: status ${response.status()}`);
    check((await page.getAttribute('html', 'lang')) === 'fi', `${where}: lang attribute`);
    if (checks[name]) await checks[name](page, where);
    const wide = await overflow(page);
    check(wide.length === 0, `${where}: wider than the screen: ${wide.join('; ')}`);
    check(errors.length === 0, `${where}: console errors ${errors.join('; ')}`);
    const faint = await lowContrast(page);
    check(faint.length === 0, `${where}: text below WCAG AA contrast: ${faint.join(', ')}`);
    const violations = await axe(base + path, viewport);
    check(violations.length === 0, `${where}: axe-core: ${violations.join('; ')}`);
    await page.screenshot({ path: `${out}/${name}-${sizeName}.png`, fullPage: true });
    await page.close();
  }
  await context.close();
}

// A keyboard user sees where they are: the first Tab shows the skip link, and every link and
// control shows a focus ring.
{
  const context = await browser.newContext({ viewport: sizes.desktop, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + paths.thread);
  const unseen = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const seen = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
      const r = el.getBoundingClientRect();
      const onScreen = r.right > 0 && r.bottom > 0 && r.left < window.innerWidth;
      return { what: `${el.tagName.toLowerCase()} ${el.textContent.trim().slice(0, 30)}`, ok: ring && onScreen };
    });
    if (!seen) break;
    if (!seen.ok) unseen.push(seen.what);
  }
  check(unseen.length === 0, `keyboard focus not visible on: ${unseen.join('; ')}`);
  await context.close();
}

// A reader uses the search box (a plain form, no JavaScript needed).
{
  const context = await browser.newContext({ viewport: sizes.phone, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.fill('input[name=q]', 'aanestyslippu');
  await page.press('input[name=q]', 'Enter');
  await page.waitForURL(/\/search\?q=aanestyslippu/);
  check((await visibleText(page, 'ol.hits')).includes('Äänestyslippu'), 'search form: finds ä-words typed without ä');
  await page.screenshot({ path: `${out}/search-form-phone.png`, fullPage: true });
  await context.close();
}

await browser.close();
for (const f of failures) console.log(`FAILED: ${f}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
