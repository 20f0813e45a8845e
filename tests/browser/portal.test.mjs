// The partner portal in a real browser (Debian's headless chromium driven by
// playwright-core): a contributor signs in through the form, uploads a CSV
// with mistakes and reads the report (rows and columns named, nothing
// stored), fixes the file and uploads it again (stored, listed among the
// submissions), fills the case form with a mistake (the message by the
// field, what was typed kept), corrects it (stored, listed among the
// records), and the public dashboard counts the new records.
// Starts its own `spotlight serve` (the sanitized build if there is one) on a
// free loopback port against a temporary hub with one organisation, one
// contributor and 40 records already imported (so the counts are above the
// suppression threshold k = 10). No console errors, no failed requests, and
// no HTTP error answers but the ones the story expects (the 422 of the
// refused upload and of the refused form). Screenshots go to build/browser/portal-*.png.
//
// Run: cd tests/browser && npm ci && node --test portal.test.mjs
// Environment: SPOTLIGHT (binary), CHROMIUM (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHOTS = join(ROOT, 'build', 'browser');
const BIN = process.env.SPOTLIGHT ||
  [join(ROOT, 'build', 'asan', 'spotlight'), join(ROOT, 'spotlight')].find(existsSync);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ORG = 'Mekong Aid';
const EMAIL = 'ana@mekong.example';
const PW = 'a long enough passphrase 42';
const BASE_RECORDS = 40;
const UPLOAD_RECORDS = 12;

let dir, server, serverLog = '', base, browser, context, page;

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

// A CSV of n records; bad: row 4 (the third record) has the year "20x3",
// row 5 (the fourth) the nationality "Atlantis".
function csv(prefix, n, bad) {
  const lines = ['case_ref,year_identified,gender,age,nationality,industry'];
  for (let i = 1; i <= n; i++) {
    const year = bad && i === 3 ? '20x3' : '2023';
    const nat = bad && i === 4 ? 'Atlantis' : (i % 3 ? 'VN' : 'KH');
    lines.push(`${prefix}-${String(i).padStart(3, '0')},${year},${i % 2 ? 'female' : 'male'},${20 + i},${nat},online_scam`);
  }
  return lines.join('\n') + '\n';
}

// "Showing N records" on the public dashboard, as a number
async function showing(p) {
  const text = await p.locator('#filter-summary').innerText();
  const m = /Showing ([0-9,]+) record/.exec(text);
  assert.ok(m, `no "Showing N records" in: ${text}`);
  return Number(m[1].replace(/,/g, ''));
}

async function metaRecords() {
  const r = await fetch(`${base}/api/v1/meta`);
  assert.equal(r.status, 200);
  return (await r.json()).records;
}

async function shot(name) {
  await page.screenshot({ path: join(SHOTS, `portal-${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(BIN, 'no spotlight binary: run make first');
  dir = mkdtempSync(join(tmpdir(), 'sp-portal-'));
  const db = join(dir, 'hub.db');
  const sp = (...args) => execFileSync(BIN, ['--db', db, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  sp('init');
  sp('org', 'add', ORG, '--country', 'TH');
  execFileSync(BIN, ['--db', db, 'user', 'add', EMAIL, '--org', ORG, '--role', 'contributor',
    '--password-stdin'], { input: PW + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
  writeFileSync(join(dir, 'earlier.csv'), csv('EARLIER', BASE_RECORDS, false));
  sp('import', '--quiet', '--org', ORG, join(dir, 'earlier.csv'));
  const s = await startServer(db);
  server = s.proc; base = s.url;
  server.on('exit', (code) => { serverLog += `\n[server exited ${code}]`; });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  mkdirSync(SHOTS, { recursive: true });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  // every console error, page error, failed request and HTTP error answer;
  // the story's own refusals are taken off the list where they happen
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') page.problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => page.problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`HTTP ${r.status()}: ${r.url()}`); });
});

after(async () => {
  if (browser) await browser.close();
  const code = await stopServer();
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.ok(code === 0 || code === null, `server exit ${code}`);
  assert.ok(!/AddressSanitizer|runtime error:|LeakSanitizer/.test(serverLog), serverLog.slice(-3000));
});

// expects exactly these problems (the story's refusals) and clears the list
function takeProblems(expected) {
  const got = page.problems.splice(0);
  const norm = (l) => l.replace(/(status of \d+) \([^)]*\)/, '$1');
  assert.deepEqual(got.map(norm).sort(), [...expected].sort(), `problems: ${got.join('\n')}`);
}

// an answer the story expects to be refused: the HTTP status, and the line
// chromium itself logs for any document answered with an error status
function refusal(status, path) {
  return [`HTTP ${status}: ${base}${path}`,
    `console: Failed to load resource: the server responded with a status of ${status} (${base}${path})`];
}

let before_showing, before_meta;

test('the public dashboard before: the earlier records counted', async () => {
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  before_showing = await showing(page);
  before_meta = await metaRecords();
  assert.equal(before_meta, BASE_RECORDS);
  assert.equal(before_showing, BASE_RECORDS);
  takeProblems([]);
});

test('a contributor signs in through the form', async () => {
  const res = await page.goto(`${base}/portal`);
  assert.equal(new URL(page.url()).pathname, '/login', 'the portal sends a stranger to sign in');
  assert.equal(res.status(), 200);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('#login-error').innerText(), /wrong email or password/);
  takeProblems(refusal(401, '/login'));
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/portal`);
  assert.match(await page.locator('h1').innerText(), new RegExp(`Partner portal: ${ORG}`));
  assert.match(await page.locator('main').innerText(), /Signed in as a contributor/);
  const cookies = await context.cookies();
  const sess = cookies.find((c) => c.name === 'sp_session');
  assert.ok(sess && sess.httpOnly && sess.sameSite === 'Strict', JSON.stringify(cookies));
  await shot('1-signed-in');
  takeProblems([]);
});

test('an upload with mistakes: the report names rows and columns, nothing stored', async () => {
  await page.locator('input[type=file][name=file]').setInputFiles({
    name: 'cases-march.csv', mimeType: 'text/csv', buffer: Buffer.from(csv('MARCH', UPLOAD_RECORDS, true)),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForLoadState();
  await page.locator('#report').waitFor();
  assert.match(await page.locator('h1').innerText(), /Upload of cases-march\.csv/);
  assert.match(await page.locator('#error-count').innerText(), /^2 problems found; nothing was stored/);
  const rows = await page.$$eval('#report tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
  assert.equal(rows.length, 2, JSON.stringify(rows));
  const year = rows.find((r) => r[1] === 'year_identified');
  const nat = rows.find((r) => r[1] === 'nationality');
  assert.ok(year && nat, JSON.stringify(rows));
  assert.equal(year[0], '4');            // the file's line: the header is line 1
  assert.equal(year[2], '20x3');
  assert.match(year[3], /not a year/);
  assert.equal(nat[0], '5');
  assert.equal(nat[2], 'Atlantis');
  assert.match(nat[3], /not a known country/);
  assert.equal(await page.locator('#stored').count(), 0);
  await shot('2-upload-report');
  takeProblems(refusal(422, '/portal/upload'));
  assert.equal(await metaRecords(), before_meta, 'a refused file stored nothing');
});

test('the fixed file is stored and listed among the submissions', async () => {
  await page.getByRole('link', { name: 'Back to the portal' }).click();
  await page.waitForURL(`${base}/portal`);
  await page.locator('input[type=file][name=file]').setInputFiles({
    name: 'cases-march.csv', mimeType: 'text/csv', buffer: Buffer.from(csv('MARCH', UPLOAD_RECORDS, false)),
  });
  await page.getByRole('button', { name: 'Upload' }).click();
  await page.waitForLoadState();
  const stored = await page.locator('#stored').innerText();
  const m = /^(\d+) records stored as submission (\d+)\.$/.exec(stored);
  assert.ok(m, stored);
  assert.equal(Number(m[1]), UPLOAD_RECORDS);
  const sub = m[2];
  await shot('3-upload-stored');
  await page.getByRole('link', { name: 'Back to the portal' }).click();
  await page.waitForURL(`${base}/portal`);
  const rows = await page.$$eval('#submissions tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
  const row = rows.find((r) => r[0] === sub);
  assert.ok(row, `submission ${sub} not listed: ${JSON.stringify(rows)}`);
  assert.equal(row[2], 'cases-march.csv');
  assert.equal(row[3], String(UPLOAD_RECORDS));
  assert.equal(row[4], 'stored');
  assert.equal(rows.length, 2, 'the earlier import and this upload');
  await shot('4-submissions');
  takeProblems([]);
});

test('the case form: a mistake shown by its field with what was typed kept, then stored', async () => {
  await page.goto(`${base}/portal`);
  await page.locator('a#new-case').click();
  await page.waitForURL(`${base}/portal/cases/new`);
  const field = (name) => page.locator(`#f-${name}`);
  await field('case_ref').fill('WEBFORM-001');
  await field('year_identified').fill('2024');
  await field('gender').selectOption('female');
  // the mistake, one the browser cannot catch (age is free text: 25, 18-24, 48+)
  await field('age').fill('270');
  await field('nationality').selectOption('VN');
  await page.getByRole('button', { name: 'Save case' }).click();
  await page.waitForLoadState();
  await page.locator('#cf-errors').waitFor();
  assert.match(await page.locator('#cf-errors h2').innerText(), /^1 problem to fix/);
  // the message next to the field, and the field marked
  assert.match(await page.locator('#h-age .cf-msg').innerText(),
    /must be between 0 and 120, not '270'/);
  assert.equal(await field('age').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('#cf-errors li a[href="#f-age"]').innerText(), /Age/);
  assert.equal(await field('case_ref').getAttribute('aria-invalid'), null);
  // what was typed is still there
  assert.equal(await field('case_ref').inputValue(), 'WEBFORM-001');
  assert.equal(await field('year_identified').inputValue(), '2024');
  assert.equal(await field('gender').inputValue(), 'female');
  assert.equal(await field('age').inputValue(), '270');
  assert.equal(await field('nationality').inputValue(), 'VN');
  await shot('5-case-form-mistake');
  takeProblems(refusal(422, '/portal/cases/new'));
  assert.equal(await metaRecords(), before_meta + UPLOAD_RECORDS, 'a refused form stored nothing');
  // corrected
  await field('age').fill('27');
  await page.getByRole('button', { name: 'Save case' }).click();
  await page.waitForURL(`${base}/portal/records`);
  const rows = await page.$$eval('#records tbody tr', (trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())));
  const row = rows.find((r) => r[1] === 'WEBFORM-001');
  assert.ok(row, `the new case is not listed: ${JSON.stringify(rows.slice(0, 3))}`);
  assert.equal(row[2], '2024', JSON.stringify(row));
  assert.equal(row[3], 'female', JSON.stringify(row));
  assert.equal(row[5], 'VN', JSON.stringify(row));
  assert.match(await page.locator('#record-count').innerText(),
    new RegExp(`^${BASE_RECORDS + UPLOAD_RECORDS + 1} records of your organisation`));
  await shot('6-records');
  // what was stored, as the record's own form shows it
  await page.locator(`#records tbody tr:has(td:text-is("WEBFORM-001")) a:text-is("Edit")`).click();
  await page.waitForURL(new RegExp(`^${base}/portal/records/${row[0]}/edit$`));
  assert.equal(await field('case_ref').inputValue(), 'WEBFORM-001');
  assert.equal(await field('year_identified').inputValue(), '2024');
  assert.equal(await field('gender').inputValue(), 'female');
  assert.equal(await field('age').inputValue(), '27');
  assert.equal(await field('nationality').inputValue(), 'VN');
  assert.equal(await page.locator('#cf-errors').count(), 0);
  takeProblems([]);
});

test('the public dashboard counts the new records', async () => {
  const added = UPLOAD_RECORDS + 1;
  assert.equal(await metaRecords(), before_meta + added);
  const res = await page.goto(`${base}/`);
  assert.equal(res.status(), 200);
  assert.equal(await showing(page), before_showing + added);
  await shot('7-dashboard');
  takeProblems([]);
});
