// Loads the archive's pages in headless Chromium at desktop and phone widths, checks what a
// person sees, and saves screenshots. Usage: node check.mjs BASE_URL SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });

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

const pages = [
  ['home', '/', async (page, where) => {
    check((await visibleText(page, 'h1')).includes('Uusimmat palautteet'), `${where}: heading`);
    check(await page.locator('table.figures').isVisible(), `${where}: company figures table`);
    check(await page.getByRole('link', { name: 'Lasku tuli kahdesti' }).first().isVisible(), `${where}: thread link`);
    check((await visibleText(page, 'table.figures')).includes('Elisa'), `${where}: Elisa in the table`);
  }],
  ['company', '/p/elisa', async (page, where) => {
    check((await visibleText(page, 'h1')) === 'Elisa', `${where}: company name`);
    check((await visibleText(page, 'dl.figures')).includes('50 %'), `${where}: answered share`);
    check(await page.getByRole('link', { name: 'Odottaa vastausta' }).isVisible(), `${where}: waiting filter`);
  }],
  ['thread', '/t/1', async (page, where) => {
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
  }],
  ['search', '/search?q=lasku', async (page, where) => {
    check(await page.locator('mark').first().isVisible(), `${where}: highlighted match`);
    check(await page.getByRole('link', { name: 'Lasku tuli kahdesti' }).first().isVisible(), `${where}: result link`);
  }],
];

for (const [sizeName, viewport] of Object.entries(sizes)) {
  const context = await browser.newContext({ viewport, javaScriptEnabled: false });
  for (const [name, path, checks] of pages) {
    const page = await context.newPage();
    const where = `${name} (${sizeName})`;
    const errors = [];
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    const response = await page.goto(base + path);
    check(response.status() === 200, `${where}: status ${response.status()}`);
    check((await page.getAttribute('html', 'lang')) === 'fi', `${where}: lang attribute`);
    await checks(page, where);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${where}: no sideways scrolling (${overflow}px too wide)`);
    check(errors.length === 0, `${where}: console errors ${errors.join('; ')}`);
    const faint = await lowContrast(page);
    check(faint.length === 0, `${where}: text below WCAG AA contrast: ${faint.join(', ')}`);
    await page.screenshot({ path: `${out}/${name}-${sizeName}.png`, fullPage: true });
    await page.close();
  }
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
