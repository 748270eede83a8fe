// Drives the dashboard in Debian's headless Chromium with playwright-core
// against a running Tailor (tailor serve with demo data loaded). The Go
// end-to-end test TestDashboardInABrowser starts the stack and runs this
// script; it prints one JSON object with what it found, and exits non-zero
// when a check failed.
//
// Environment: TAILOR_URL (base URL of the API), ADMIN_KEY, ANALYST_KEY
// (segments:read, campaigns:read, customers:read), NARROW_KEY (a key
// without the pages' scopes), MASKED_CUSTOMER (a customer with a
// profile), SCREENSHOTS (directory), TOOLS (the npm prefix holding
// playwright-core), CHROMIUM (executable).
'use strict';

const path = require('path');
const fs = require('fs');
const { chromium } = require(path.join(process.env.TOOLS, 'node_modules', 'playwright-core'));

const base = process.env.TAILOR_URL.replace(/\/$/, '') + '/dashboard/';
const shots = process.env.SCREENSHOTS;
const failures = [];
const results = { pages: {}, screenshots: [], timings: {} };

function fail(msg) {
  failures.push(msg);
}

async function signIn(page, key) {
  await page.goto(base, { waitUntil: 'load' });
  await page.fill('#key', key);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#nav:not([hidden])');
  // The first page's requests finish before anything navigates away.
  await settle(page, 'after sign-in');
}

// watch records console errors and failed requests of a page; expected
// is a predicate for responses a check expects to fail (a missing scope).
function watch(page, expected) {
  const seen = { console: [], failed: [], status: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' && !(expected && /status of 403/.test(m.text()))) seen.console.push(m.text());
  });
  page.on('pageerror', (e) => seen.console.push('page error: ' + e.message));
  page.on('requestfailed', (r) => seen.failed.push(r.url() + ' ' + (r.failure() || {}).errorText));
  page.on('response', (r) => {
    if (r.status() >= 400 && !(expected && expected(r))) seen.status.push(r.status() + ' ' + r.url());
  });
  return seen;
}

function clean(name, seen) {
  for (const m of seen.console) fail(name + ': console error: ' + m);
  for (const m of seen.failed) fail(name + ': failed request: ' + m);
  for (const m of seen.status) fail(name + ': error response: ' + m);
  seen.console.length = seen.failed.length = seen.status.length = 0;
}

// settle waits until no section still says Loading… and every chart on
// the page has drawn.
async function settle(page, name) {
  try {
    await page.waitForFunction(() => {
      const loading = [...document.querySelectorAll('main p.muted')].some((p) => p.textContent === 'Loading…');
      const charts = [...document.querySelectorAll('main .chart')];
      return !loading && charts.every((c) => c.dataset.drawn === '1');
    }, null, { timeout: 30000 });
  } catch (e) {
    fail(name + ': did not settle: ' + e.message.split('\n')[0]);
  }
}

async function chartsDrawn(page, name, want) {
  const charts = await page.$$eval('main .chart', (els) => els.map((el) => {
    const c = el.querySelector('canvas');
    if (!c) return { id: el.id, drawn: false };
    // A drawn canvas has non-blank pixels.
    const ctx = c.getContext('2d');
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) ink++;
    return { id: el.id, drawn: el.dataset.drawn === '1', ink, width: c.width, height: c.height };
  }));
  for (const id of want) {
    const c = charts.find((x) => x.id === id);
    if (!c) fail(name + ': chart ' + id + ' missing');
    else if (!c.drawn || !(c.ink > 0)) fail(name + ': chart ' + id + ' is blank ' + JSON.stringify(c));
  }
  return charts;
}

async function shot(page, file) {
  const p = path.join(shots, file);
  await page.screenshot({ path: p, fullPage: true });
  results.screenshots.push(p);
}

async function visit(page, seen, hash, name, wantCharts, file) {
  await page.goto(base + hash, { waitUntil: 'load' });
  await settle(page, name);
  const charts = await chartsDrawn(page, name, wantCharts);
  const text = await page.textContent('main');
  results.pages[name] = { charts: charts.map((c) => c.id), chars: text.length };
  if (/Could not load/.test(text)) fail(name + ': a section could not load: ' + text.slice(0, 300));
  if (/Not available with this key/.test(text)) fail(name + ': the admin key was refused somewhere');
  if (file) await shot(page, file);
  clean(name, seen);
  return text;
}

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
  try {
    // ---- admin: every page, no console error, no failed request ----
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await ctx.newPage();
    const seen = watch(page);

    // Segments first, on a fresh load, for the time to the chart drawn.
    await signIn(page, process.env.ADMIN_KEY);
    // A fresh document load (the tab keeps its session storage), so the
    // mark is measured from this navigation's start.
    await page.goto('about:blank');
    const t0 = Date.now();
    await page.goto(base + '#/segments', { waitUntil: 'load' });
    await page.waitForSelector('#segments-grid[data-drawn="1"]', { timeout: 30000 });
    results.timings.segments_grid_drawn_ms = await page.evaluate(() => {
      const m = performance.getEntriesByName('chart-drawn:segments-grid')[0];
      return m ? Math.round(m.startTime) : null;
    });
    results.timings.segments_grid_wall_ms = Date.now() - t0;
    clean('segments (timed)', seen);

    await visit(page, seen, '#/overview', 'overview', ['overview-daily'], 'overview.png');
    await visit(page, seen, '#/segments', 'segments', ['segments-grid', 'segments-share'], 'segments.png');
    // A segment's members, then one of them.
    const slug = await page.$eval('main table a[href^="#/segments/"]', (a) => a.getAttribute('href'));
    await visit(page, seen, slug, 'segment members', [], 'segment-members.png');
    const customerHref = await page.$eval('main table a[href^="#/customer/"]', (a) => a.getAttribute('href'));
    await visit(page, seen, customerHref, 'customer', ['customer-affinity'], 'customer.png');
    const popular = await visit(page, seen, '#/recommendations?window=30d', 'recommendations', ['reco-popular']);
    if (/Nothing popular/.test(popular)) fail('recommendations: no popular items');
    const item = await page.$eval('main table a[href*="item="]', (a) => a.getAttribute('href'));
    const similar = await visit(page, seen, item.replace('window=7d', 'window=30d'), 'similar items', ['reco-popular'], 'recommendations.png');
    if (/No similar items/.test(similar)) results.pages['similar items'].empty = true;
    if (!/Offline evaluation of the latest run/.test(similar)) fail('recommendations: no offline evaluation table');
    await visit(page, seen, '#/models', 'models', ['models-reliability', 'models-deciles'], 'models.png');
    await visit(page, seen, '#/campaigns', 'campaigns', [], 'campaigns.png');

    // ---- create and launch a campaign from a segment ----
    await page.goto(base + '#/campaigns/new', { waitUntil: 'load' });
    await page.waitForSelector('#campaign-form');
    await shot(page, 'campaign-new.png');
    const name = 'Browser test ' + Date.now();
    await page.fill('#campaign-form input[name=name]', name);
    await page.click('#campaign-form button[type=submit]');
    await page.waitForFunction(() => /^#\/campaigns\/cmp-/.test(location.hash), null, { timeout: 60000 });
    const campaignHash = await page.evaluate(() => location.hash);
    await settle(page, 'campaign');
    const detail = await page.textContent('main');
    if (!detail.includes(name) || !/Status\s*(running|completed)/.test(detail)) fail('campaign: the new campaign is not shown running: ' + detail.slice(0, 300));
    results.campaign = { hash: campaignHash, name };
    // Its report, computed from the page.
    const compute = await page.$('main button:has-text("Compute report now")');
    if (!compute) fail('campaign: no "Compute report now" button');
    else {
      // The page draws anew after the click: wait for the new chart, not
      // the one already on the page.
      await page.evaluate(() => document.querySelectorAll('main .chart').forEach((c) => { c.dataset.stale = '1'; }));
      await compute.click();
      await page.waitForSelector('#campaign-conversion[data-drawn="1"]:not([data-stale])', { timeout: 30000 }).catch((e) => fail('campaign: report chart: ' + e.message.split('\n')[0]));
      await settle(page, 'campaign report');
      await chartsDrawn(page, 'campaign report', ['campaign-conversion', 'campaign-funnel']);
    }
    await shot(page, 'campaign.png');
    clean('campaign', seen);
    await ctx.close();

    // ---- analyst: masked personal data; no recommendations scope ----
    const actx = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const apage = await actx.newPage();
    const aseen = watch(apage, (r) => r.status() === 403);
    await signIn(apage, process.env.ANALYST_KEY);
    await apage.goto(base + '#/customer/' + encodeURIComponent(process.env.MASKED_CUSTOMER), { waitUntil: 'load' });
    await settle(apage, 'analyst customer');
    const email = await apage.textContent('[data-field="email"]').catch(() => null);
    const masked = await apage.$('#pii-masked');
    results.analyst = { email };
    if (!email || !email.includes('*') || !masked) fail('analyst: personal data is not masked: email ' + email);
    const denied = await apage.$$('[data-denied="1"]');
    if (denied.length === 0) fail('analyst: the recommendations section does not say the key lacks its scope');
    await shot(apage, 'analyst-customer.png');
    await visit(apage, aseen, '#/segments', 'analyst segments', ['segments-grid', 'segments-share']);
    clean('analyst', aseen);
    await actx.close();

    // ---- a key without the pages' scopes: clear messages, not broken pages ----
    const nctx = await browser.newContext({ viewport: { width: 820, height: 1180 } }); // a tablet
    const npage = await nctx.newPage();
    const nseen = watch(npage, (r) => r.status() === 403);
    await signIn(npage, process.env.NARROW_KEY);
    for (const [hash, name] of [['#/segments', 'narrow segments'], ['#/campaigns', 'narrow campaigns'], ['#/models', 'narrow models']]) {
      await npage.goto(base + hash, { waitUntil: 'load' });
      await settle(npage, name);
      const n = (await npage.$$('[data-denied="1"]')).length;
      const text = await npage.textContent('main');
      if (n === 0 || !/lacks the scope/.test(text)) fail(name + ': no clear scope message: ' + text.slice(0, 200));
      if (/Could not load/.test(text)) fail(name + ': broken: ' + text.slice(0, 200));
    }
    await shot(npage, 'narrow-key-models.png');
    clean('narrow key', nseen);
    await nctx.close();
  } catch (e) {
    fail('script: ' + (e.stack || e.message));
  } finally {
    await browser.close();
  }
  results.failures = failures;
  process.stdout.write(JSON.stringify(results) + '\n');
  process.exit(failures.length ? 1 : 0);
})();
