// The status page in a real browser: Debian's Chromium driven by playwright-core
// (never a downloaded browser), against an agent watching the simulated
// network with a healthy and a failing instance. The fix text is visible, the
// path diagram is there, the page refreshes itself with JavaScript off, nothing
// is loaded from elsewhere, light and dark are readable; screenshots are written
// to test-artifacts/.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DNS } from '../../src/diagnosis/catalog/dns.js';
import { startSimNetwork } from '../../src/sim/network.js';
import { findScenario, type Scenario } from '../../src/sim/scenarios.js';
import { startAgent, writeConfig } from '../helpers/agent.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const BLOCK = '127.73.10';
// Headless, no sandbox (containers), and nothing that talks to Google's servers.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** WCAG relative luminance of an "rgb(r, g, b)" colour, and the contrast ratio of two. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((x) => {
    const c = Number(x) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
}
const contrast = (a: string, b: string): number => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};

t.test('the status page in Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does): the browser test is skipped` }, async (t) => {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  const { chromium } = await import('playwright-core');
  const sim = await startSimNetwork({ scenario: findScenario('healthy') as Scenario, block: `${BLOCK}` });
  t.teardown(() => sim.close());
  const layer = sim.configLayer() as { dns: Record<string, unknown>; probe: Record<string, unknown> };
  // The failing instance: a name the VNet's resolver does not know (DNS-001); its other checks are not reached.
  const missing = sim.fqdn.replace(/^[^.]+/, 'missing');
  const every = { cron: '*/2 * * * * *' };
  const config = await writeConfig({
    ...layer, timeoutMs: sim.suggestedTimeoutMs, dns: { ...layer.dns, requiredNames: [] },
    instances: [{ fqdn: sim.fqdn, labels: { team: 'payments', env: 'prod' } }, { fqdn: missing, labels: { team: 'bi' } }],
    agent: { listen: `${BLOCK}.1:0`, jitterSeconds: 0, schedules: { nameResolution: every, dataPath: every, management: every, revocation: every } },
  });
  const agent = await startAgent(['--config', config], sim.secretsEnv());
  t.teardown(() => agent.stop());
  // Every check of both instances has a result.
  for (let i = 0; ; i++) {
    const status = await (await fetch(`${agent.url}/api/v1/status`)).json() as { instances: Array<{ checks: unknown[] }> };
    if (status.instances.every((s) => s.checks.length === 4)) break;
    if (i > 300) throw new Error('the agent did not check both instances');
    await new Promise((r) => setTimeout(r, 100));
  }

  const userDataDir = await mkdtemp(join(tmpdir(), 'miprobe-chromium-'));
  t.teardown(() => rm(userDataDir, { recursive: true, force: true }));
  // JavaScript off: the page must be readable (and refresh) without it.
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, javaScriptEnabled: false,
    viewport: { width: 1280, height: 900 }, colorScheme: 'light',
  });
  t.teardown(() => browser.close());
  const page = browser.pages()[0] ?? await browser.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => { requests.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text()); });

  // A long period while the page is read and clicked (a refresh folds the healthy instance again).
  const response = await page.goto(`${agent.url}/?refresh=3600`);
  t.equal(response?.status(), 200);
  t.match(await page.title(), /1 failing, 1 healthy/);

  const failing = page.locator(`details[data-verdict="failing"]`);
  t.equal(await failing.count(), 1, 'one failing instance');
  t.match(await failing.locator('summary h2').innerText(), missing);
  const fix = failing.locator('.finding .fix').first();
  t.ok(await fix.isVisible(), 'the fix is visible without a click');
  t.equal(await fix.innerText(), DNS.nxdomain.fix, 'and it is the catalog\'s fix');
  t.ok(await failing.locator('.label', { hasText: 'team=bi' }).isVisible(), 'labels');
  t.match(await failing.locator('summary .meta').innerText(), /checked \d+ s ago/);

  // The path diagram: every hop, each with its state.
  const hops = failing.locator('.hop');
  const drawn: string[] = [];
  for (let i = 0; i < await hops.count(); i++) drawn.push(`${await hops.nth(i).getAttribute('data-kind')}:${await hops.nth(i).getAttribute('data-state')}`);
  t.same(drawn.slice(0, 5), ['resolver:fail', 'resolver:fail', 'address:fail', 'gateway:skip', 'management:skip'], 'resolvers, address, gateway, management endpoint');
  // The chain was not reached: never drawn ok. On a loaded machine the endpoints' own answers may come slow (a warning).
  t.ok(['revocation:skip', 'revocation:warn'].includes(drawn[5] ?? ''), `revocation, the chain not reached: ${drawn[5]}`);
  t.equal(drawn.length, 6);
  t.ok(await failing.locator('.hop[data-kind="gateway"]').isVisible());
  t.match(await failing.locator('.hop[data-kind="gateway"]').innerText(), /not reached because the instance name did not resolve to an address \(DNS-001\)/);

  // The healthy one starts folded; opened, its path is all there.
  const healthy = page.locator(`details[data-verdict="healthy"]`);
  t.notOk(await healthy.locator('.hop').first().isVisible(), 'a healthy instance starts folded');
  await healthy.locator('summary').click();
  const healthyHops: string[] = [];
  for (let i = 0; i < await healthy.locator('.hop').count(); i++) {
    const hop = healthy.locator('.hop').nth(i);
    t.ok(await hop.isVisible(), `hop ${i} visible`);
    healthyHops.push(`${await hop.getAttribute('data-kind')}:${await hop.getAttribute('data-state')}`);
  }
  t.same(healthyHops.map((h) => h.split(':')[0]), ['resolver', 'resolver', 'address', 'gateway', 'node', 'management', 'revocation']);
  t.ok(healthyHops.filter((h) => !h.startsWith('node')).every((h) => h.endsWith(':ok')), `every hop ok but the node (${healthyHops.join(' ')})`);

  await mkdir(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, 'status-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.ok(existsSync(shot));
  t.comment(`screenshot: ${shot}`);

  // It refreshes itself (meta refresh, JavaScript off): the document is fetched again and shows newer results.
  await page.goto(`${agent.url}/?refresh=2`);
  const before = requests.filter((u) => u.startsWith(`${agent.url}/?refresh=2`)).length;
  const startedBefore = await page.locator('p.meta time').first().getAttribute('datetime');
  const uptimeBefore = await page.locator('p.meta time').first().innerText();
  const reloaded = await page.waitForResponse((r) => r.url() === `${agent.url}/?refresh=2` && r.request().isNavigationRequest(), { timeout: 15_000 });
  t.equal(reloaded.status(), 200);
  await page.waitForLoadState('load');
  await page.locator('p.meta time').first().filter({ hasNotText: uptimeBefore }).waitFor({ timeout: 10_000 });
  t.ok(requests.filter((u) => u.startsWith(`${agent.url}/?refresh=2`)).length > before, 'the page reloaded itself');
  t.equal(await page.locator('p.meta time').first().getAttribute('datetime'), startedBefore, 'the same agent');
  t.not(await page.locator('p.meta time').first().innerText(), uptimeBefore, `with newer content ("started ${uptimeBefore}" before)`);
  const fixAfter = page.locator('details[data-verdict="failing"] .finding .fix').first();
  await fixAfter.waitFor({ state: 'visible', timeout: 10_000 });
  t.ok(await fixAfter.isVisible(), 'and still shows the fix');

  t.same(requests.filter((u) => !u.startsWith(agent.url)), [], 'nothing requested from anywhere else');
  t.same(consoleErrors, [], 'no console error (a CSP refusal of the style sheet would be one)');

  // Light and dark: the text stays readable (WCAG AA contrast) under both.
  for (const scheme of ['light', 'dark'] as const) {
    const ctx = await chromium.launchPersistentContext(await mkdtemp(join(tmpdir(), 'miprobe-chromium-')), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 }, colorScheme: scheme,
    });
    try {
      const p = ctx.pages()[0] ?? await ctx.newPage();
      await p.goto(`${agent.url}/`);
      // Run in the page (a string: this project's TypeScript has no DOM types); the page itself has no script.
      const colours = await p.evaluate(`(() => {
        const read = (sel) => {
          const el = document.querySelector(sel);
          let bgEl = el;
          let bg = 'rgba(0, 0, 0, 0)';
          while (bgEl && /rgba\\(0, 0, 0, 0\\)|transparent/.test(bg)) { bg = getComputedStyle(bgEl).backgroundColor; bgEl = bgEl.parentElement; }
          return { fg: getComputedStyle(el).color, bg };
        };
        return { body: read('body'), fix: read('details[data-verdict="failing"] .finding .fix'), badge: read('details[data-verdict="failing"] .badge'),
          hop: read('.hop[data-state="fail"] li'), muted: read('.meta') };
      })()`) as Record<string, { fg: string; bg: string }>;
      const bodyLum = luminance(colours.body.bg);
      t.ok(scheme === 'dark' ? bodyLum < 0.1 : bodyLum > 0.8, `${scheme}: the background follows the scheme (${colours.body.bg})`);
      for (const [what, c] of Object.entries(colours)) {
        t.ok(contrast(c.fg, c.bg) >= 4.5, `${scheme}: ${what} is readable (contrast ${contrast(c.fg, c.bg).toFixed(1)}: ${c.fg} on ${c.bg})`);
      }
      if (scheme === 'dark') {
        const dark = join(ARTIFACTS, 'status-page-dark.png');
        await p.screenshot({ path: dark, fullPage: true });
        t.comment(`screenshot: ${dark}`);
      }
    } finally {
      await ctx.close();
    }
  }
});
