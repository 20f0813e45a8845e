// The dashboard in a real browser: Debian's headless chromium driven by
// playwright-core (which never downloads a browser of its own here).
// Starts its own `spotlight serve` (the sanitized build if there is one) on a
// free loopback port, against a temporary hub of 3000 demo records, and
// checks what a person sees: every section and chart, no console errors or
// failed requests, filters that change the numbers and live in the URL, the
// back button, a country page, the download links, and a layout that fits a
// phone. Screenshots go to build/browser/ (desktop 1280 and phone 390 wide).
//
// Run: cd tests/browser && npm ci && node --test
// Environment: SPOTLIGHT (binary), CHROMIUM (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'build', 'browser');
const BIN = process.env.SPOTLIGHT ||
  [join(ROOT, 'build', 'asan', 'spotlight'), join(ROOT, 'spotlight')].find(existsSync);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const RECORDS = 3000;
const SECTIONS = ['scope', 'origins', 'routes', 'destination-countries', 'destinations',
  'demographics', 'recruitment', 'control', 'about'];

let dir, server, serverLog = '', base, browser;
let formAfterBack = null;

function startServer(db) {
  return new Promise((ok, fail) => {
    const p = spawn(BIN, ['--db', db, 'serve', '--listen', '127.0.0.1:0', '--threads', '2'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out}${serverLog}`)), 30000);
    p.stderr.on('data', (d) => { serverLog += d; });
    p.stdout.on('data', (d) => {
      out += d;
      const m = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); ok({ proc: p, url: m[1] }); }
    });
    p.on('exit', (code) => { clearTimeout(timer); fail(new Error(`server exited ${code}: ${serverLog}`)); });
  });
}

function stopServer() {
  return new Promise((ok) => {
    if (!server || server.exitCode !== null || server.signalCode !== null) return ok(server?.exitCode);
    server.removeAllListeners('exit');
    const t = setTimeout(() => server.kill('SIGKILL'), 20000);
    server.on('exit', (code, sig) => { clearTimeout(t); ok(sig ? sig : code); });
    server.kill('SIGTERM');
  });
}

// A page that records every console error, page error, failed request and
// HTTP error answer, so a test can assert there were none.
async function watchedPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    page.problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => page.problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  return page;
}

// "Showing N records" as a number
async function showing(page) {
  const text = await page.locator('text=/Showing [0-9,]+ records?/').first().innerText();
  const m = /Showing ([0-9,]+) record/.exec(text);
  assert.ok(m, `no "Showing N records" in: ${text}`);
  return Number(m[1].replace(/,/g, ''));
}

// the data-count of every data-table row of one table, keyed by data-key
async function counts(page, table) {
  return page.$$eval(`tr[data-table="${table}"]`, (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.key, Number(r.dataset.count)])));
}

before(async () => {
  assert.ok(BIN, 'no spotlight binary: run make first');
  dir = mkdtempSync(join(tmpdir(), 'sp-browser-'));
  const db = join(dir, 'hub.db');
  execFileSync(BIN, ['--db', db, 'init'], { stdio: 'ignore' });
  execFileSync(BIN, ['--db', db, 'demo', '--records', String(RECORDS), '--seed', '7'], { stdio: 'ignore' });
  const s = await startServer(db);
  server = s.proc; base = s.url;
  server.on('exit', (code) => { serverLog += `\n[server exited ${code}]`; });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  if (browser) await browser.close();
  await stopServer();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every section, chart and map is on the page, with titles', async () => {
  const page = await watchedPage();
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /^text\/html/);
  for (const id of SECTIONS) {
    assert.equal(await page.locator(`section#${id}`).count(), 1, `section #${id}`);
    assert.ok(await page.locator(`section#${id} h2`).count() >= 1, `#${id} has a heading`);
  }
  // the table of contents points at sections that exist
  const toc = await page.$$eval('nav.toc a', (as) => as.map((a) => a.getAttribute('href')));
  assert.deepEqual(toc, SECTIONS.map((s) => `#${s}`));
  // every chart is an accessible image with a non-empty title and description
  const svgs = await page.$$eval('svg[role="img"]', (list) => list.map((s) => {
    const ids = (s.getAttribute('aria-labelledby') || '').split(/\s+/);
    const title = s.querySelector(':scope > title');
    const box = s.getBoundingClientRect();
    return { title: title ? title.textContent.trim() : '', labelled: ids.every((i) => i && document.getElementById(i)),
      w: box.width, h: box.height };
  }));
  assert.ok(svgs.length >= 12, `expected at least 12 charts and maps, found ${svgs.length}`);
  for (const [i, s] of svgs.entries()) {
    assert.ok(s.title.length > 0, `chart ${i} has an SVG <title>`);
    assert.ok(s.labelled, `chart ${i} (${s.title}): aria-labelledby names existing elements`);
    assert.ok(s.w > 100 && s.h > 50, `chart ${i} (${s.title}) is drawn (${s.w}x${s.h})`);
  }
  // a chart in each data section
  for (const id of ['scope', 'origins', 'destinations', 'demographics', 'recruitment', 'control']) {
    assert.ok(await page.locator(`section#${id} svg[role="img"]`).count() >= 1, `#${id} has a chart`);
  }
  // the stylesheet applied (the form is laid out, not an unstyled page)
  const sheets = await page.evaluate(() => document.styleSheets.length);
  assert.ok(sheets >= 1, 'a stylesheet loaded');
  assert.ok(await showing(page) > 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('no console errors and no failed requests (desktop and phone), screenshots', async () => {
  for (const [name, opts] of [['desktop-1280', { viewport: { width: 1280, height: 900 } }],
    ['phone-390', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }]]) {
    const page = await watchedPage(opts);
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.screenshot({ path: join(SHOTS, `${name}-top.png`) });
    await page.screenshot({ path: join(SHOTS, `${name}-full.png`), fullPage: true });
    for (const id of ['origins', 'routes', 'destination-countries', 'demographics', 'about']) {
      await page.locator(`section#${id}`).scrollIntoViewIfNeeded();
      await page.evaluate((i) => document.getElementById(i).scrollIntoView(), id);
      await page.screenshot({ path: join(SHOTS, `${name}-${id}.png`) });
    }
    // nothing wider than the screen: no sideways scrolling of the page
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= opts.viewport.width, `${name}: page is ${wide}px wide in a ${opts.viewport.width}px window`);
    assert.deepEqual(page.problems, [], `${name}: ${page.problems.join('\n')}`);
    await page.context().close();
  }
});

test('a filter changes the numbers, lives in the URL, and the back button restores', async () => {
  const page = await watchedPage();
  await page.goto(`${base}/`);
  const n0 = await showing(page);
  const gender0 = await counts(page, 'gender');
  const nat0 = await counts(page, 'nationality');
  assert.ok(Object.keys(gender0).length >= 2, 'gender table has rows');
  assert.ok(gender0.male > 0, 'some male records before filtering');

  await page.selectOption('form.filters select[name="gender"]', 'male');
  await Promise.all([page.waitForURL(/gender=male/), page.click('form.filters button[type="submit"]')]);
  const url1 = new URL(page.url());
  assert.equal(url1.pathname, '/');
  assert.equal(url1.searchParams.get('gender'), 'male');
  const n1 = await showing(page);
  assert.ok(n1 < n0, `filtered ${n1} < all ${n0}`);
  assert.equal(n1, gender0.male, 'the filtered count equals the male row before filtering');
  const nat1 = await counts(page, 'nationality');
  assert.notDeepEqual(nat1, nat0, 'nationality counts change with the gender filter');
  assert.equal(await page.inputValue('select[name="gender"]'), 'male', 'the form shows the filter');
  // every link on the page carries the filter (shareable views)
  const links = await page.$$eval('a[href^="/country/"], a[href^="/api/v1/stats/"], a[href^="/data/"]',
    (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(links.length > 0);
  for (const l of links) assert.match(decodeURIComponent(l), /gender(=|:)male/, `link carries the filter: ${l}`);

  // a second filter narrows further
  const industries = await page.$$eval('select[name="industry"] option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(industries.includes('online_scam'));
  await page.selectOption('select[name="industry"]', 'online_scam');
  await Promise.all([page.waitForURL(/industry=online_scam/), page.click('form.filters button[type="submit"]')]);
  const n2 = await showing(page);
  assert.ok(n2 > 0 && n2 < n1, `two filters ${n2} < one filter ${n1}`);
  const url2 = page.url();
  assert.match(url2, /gender=male/);

  // the URL alone reproduces the view in a fresh browser context
  const other = await watchedPage();
  await other.goto(url2);
  assert.equal(await showing(other), n2, 'shared URL shows the same numbers');
  assert.deepEqual(await counts(other, 'nationality'), await counts(page, 'nationality'));
  assert.equal(await other.inputValue('select[name="industry"]'), 'online_scam');
  assert.deepEqual(other.problems, []);
  await other.context().close();

  // back, back: the earlier views and their numbers come back
  await page.goBack();
  assert.equal(page.url(), url1.href);
  assert.equal(await showing(page), n1);
  await page.goBack();
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await showing(page), n0);
  assert.deepEqual(await counts(page, 'gender'), gender0);
  formAfterBack = await page.inputValue('select[name="gender"]');
  // Reset goes back to the default view
  await page.goForward();
  await Promise.all([page.waitForURL(`${base}/`), page.click('form.filters a.reset')]);
  assert.equal(await showing(page), n0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

// Chromium restores form controls on Back unless the form says
// autocomplete="off": the numbers would be of the default view while the
// form still said Male.
test('after Back the form shows the filters of the numbers shown', () => {
    assert.equal(formAfterBack, '', `gender select shows ${JSON.stringify(formAfterBack)} on the unfiltered page`);
  });

test('a bad filter in the URL is a 400 page that names it', async () => {
  const page = await browser.newPage();
  const res = await page.goto(`${base}/?gender=robot`);
  assert.equal(res.status(), 400);
  assert.match(await page.content(), /gender/);
  await page.close();
});

test('a country page opens from its link', async () => {
  const page = await watchedPage();
  await page.goto(`${base}/?gender=female`);
  const link = page.locator('a[href^="/country/"]').first();
  const href = await link.getAttribute('href');
  const cc = /^\/country\/([A-Z]{2})/.exec(href)?.[1];
  assert.ok(cc, `country link ${href}`);
  await Promise.all([page.waitForURL(new RegExp(`/country/${cc}`)), link.click()]);
  assert.match(page.url(), /gender=female/, 'the filter follows to the country page');
  assert.ok(await page.locator('h1').count() >= 1);
  assert.ok(await page.locator('svg[role="img"]').count() >= 1, 'the country page draws a map');
  const title = await page.title();
  assert.ok(title.length > 0);
  await page.screenshot({ path: join(SHOTS, `country-${cc}-1280.png`) });
  // and back to the dashboard with the same filter
  const back = page.locator('a', { hasText: 'Back to the dashboard' }).first();
  await Promise.all([page.waitForURL(/\/\?.*gender=female/), back.click()]);
  assert.equal(await page.inputValue('select[name="gender"]'), 'female');
  assert.deepEqual(page.problems, []);
  // an unknown country is a 404, not a crash
  const res = await page.goto(`${base}/country/ZZ`);
  assert.ok([400, 404].includes(res.status()), `ZZ: ${res.status()}`);
  await page.context().close();
});

test('every CSV and JSON download link answers 200 with the right type', async () => {
  const page = await watchedPage();
  await page.goto(`${base}/?industry=online_scam`);
  const hrefs = [...new Set(await page.$$eval('a[href$=".csv"], a[href*=".csv?"], a[href^="/api/v1/"], a[href^="/data/"]',
    (as) => as.map((a) => a.getAttribute('href'))))];
  const csv = hrefs.filter((h) => /\.csv(\?|$)/.test(h));
  const json = hrefs.filter((h) => !/\.csv(\?|$)/.test(h));
  assert.ok(csv.length >= 8 && json.length >= 8, `${csv.length} CSV and ${json.length} JSON links`);
  for (const h of hrefs) {
    const res = await page.request.get(base + h);
    assert.equal(res.status(), 200, h);
    const type = res.headers()['content-type'] || '';
    const body = await res.text();
    if (csv.includes(h)) {
      assert.match(type, /^text\/csv/, `${h}: ${type}`);
      assert.ok(body.split('\n').length >= 2, `${h}: a header and rows`);
    } else {
      assert.match(type, /^application\/json/, `${h}: ${type}`);
      assert.doesNotThrow(() => JSON.parse(body), `${h} parses as JSON`);
    }
  }
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the server stops cleanly on SIGTERM (no sanitizer report)', async (t) => {
  await browser.close();
  browser = null;
  const code = await stopServer();
  assert.equal(code, 0, `server exit ${code}\n${serverLog.slice(-3000)}`);
  assert.doesNotMatch(serverLog, /ERROR: (Address|Leak)Sanitizer|runtime error:/);
});
