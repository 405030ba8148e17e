import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAPPABLE_KEYS } from '../../src/domain/mapping-keys.js';
import { createGraphClient } from '../../src/facebook/index.js';
import { freePort } from '../../src/ports.js';
import { launchBrowser } from './browser.js';
import { runCli, type CliProcess } from '../support/cli-process.js';

const PROFILES = 6000;
const PAGE_SIZE = 300;

/** Controls without an accessible name in an ARIA snapshot (a named one reads `- textbox "Display name"`). */
const unnamedControls = (snapshot: string): string[] =>
  snapshot
    .split('\n')
    .filter((line) => /^\s*- (textbox|combobox|checkbox|radio|button|spinbutton|link)\b(?! ")/.test(line));

/**
 * #22: the operator console, in Chromium, against `audience-export start` with the Graph API sandbox (run as its
 * own process with latency, so an export takes long enough to watch): the whole "New destination" wizard through
 * the OAuth flow, an export with its progress bar, the report, a schedule, consent withdrawn, the destination
 * deleted.
 */
describe('operator console', () => {
  let dataDir: string;
  let sandbox: CliProcess;
  let start: CliProcess;
  let browser: BrowserContext;
  let page: Page;
  let signInLink: string;
  let apiUrl: string;
  let apiKey: string;
  let temporalUiUrl: string;
  const fixtures: Record<string, string> = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'audience-export-console-'));
    const env = { DATA_DIR: dataDir };
    const seed = runCli(['seed', '--profiles', String(PROFILES)], env);
    expect(await seed.exited, seed.output()).toBe(0);

    sandbox = runCli(['sandbox', '--port', String(await freePort()), '--latency-ms', '60-120', '--quiet'], {});
    const sandboxUrl = (await sandbox.waitFor(/listening on (http:\/\/\S+)/))[1]!;
    const out = sandbox.output();
    fixtures.appId = /FACEBOOK_APP_ID=(\S+)/.exec(out)![1]!;
    fixtures.appSecret = /FACEBOOK_APP_SECRET=(\S+)/.exec(out)![1]!;
    fixtures.adAccountId = /ad account \(terms accepted\): (\S+)/.exec(out)![1]!;
    fixtures.noTermsAdAccountId = /ad account \(no terms\):\s+(\S+)/.exec(out)![1]!;
    fixtures.token = /system user token:\s+(\S+)/.exec(out)![1]!;
    fixtures.sandboxUrl = sandboxUrl;

    temporalUiUrl = `http://127.0.0.1:${await freePort()}`;
    start = runCli(['start'], {
      ...env,
      API_PORT: String(await freePort()),
      TEMPORAL_UI_URL: temporalUiUrl,
      FACEBOOK_APP_ID: fixtures.appId,
      FACEBOOK_APP_SECRET: fixtures.appSecret,
      FACEBOOK_GRAPH_URL: sandboxUrl,
      FACEBOOK_DIALOG_URL: sandboxUrl,
      FACEBOOK_RETRY_AFTER_HEADER: 'x-sandbox-retry-after-ms',
      EXPORT_PAGE_SIZE: String(PAGE_SIZE),
      EXPORT_PAGE_CONCURRENCY: '1',
      LOG_LEVEL: 'warn',
    });
    signInLink = (await start.waitFor(/Console:\s+(http:\/\/\S+#key=\S+)/, 170_000))[1]!;
    apiUrl = (await start.waitFor(/API:\s+(http:\/\/\S+)/))[1]!;
    apiKey = decodeURIComponent(signInLink.split('#key=')[1]!);
    // An audience another destination already exports into: the wizard must mark it and not offer it.
    const graph = createGraphClient({
      graphUrl: sandboxUrl,
      dialogUrl: sandboxUrl,
      apiVersion: 'v26.0',
      appId: fixtures.appId,
      appSecret: fixtures.appSecret,
    });
    const taken = await graph.createAudience(
      fixtures.adAccountId,
      { name: 'Taken audience' },
      { token: fixtures.token },
    );
    // And one nobody exports into, which the wizard offers.
    await graph.createAudience(fixtures.adAccountId, { name: 'Spare audience' }, { token: fixtures.token });
    await graph.close();
    const owner = await fetch(`${apiUrl}/destinations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'Audience owner', adAccountId: fixtures.adAccountId, audienceId: taken.id }),
    });
    expect(owner.status).toBe(201);
    browser = await launchBrowser();
    page = await browser.newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    const code = await start?.stop();
    await sandbox?.stop();
    await rm(dataDir, { recursive: true, force: true });
    expect(code, start?.output()).toBe(0);
  }, 60_000);

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
    return { status: res.status, body: (await res.json()) as T };
  };
  const shot = async (name: string) => {
    const dir = process.env.CONSOLE_SCREENSHOTS;
    if (!dir) return;
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(dir, `${name}.png`) });
  };
  const expectAllLabelled = async () => {
    expect(unnamedControls(await page.locator('body').ariaSnapshot())).toEqual([]);
  };

  let destinationId: string;

  it('signs in from the link `start` prints, keeping the key out of the address bar', async () => {
    await page.goto(signInLink);
    await page.getByRole('heading', { name: 'Destinations' }).waitFor();
    expect(page.url()).toBe(`${apiUrl}/console/`);
    expect(await page.evaluate("sessionStorage.getItem('audience-export.apiKey')")).toBe(apiKey);
    await expectAllLabelled();
  });

  it('signs in with the keyboard alone, and refuses a wrong key beside the field', async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${apiUrl}/console/`);
    await fresh.getByRole('heading', { name: 'Sign in' }).waitFor();
    await fresh.keyboard.press('Tab');
    await fresh.keyboard.type('not-the-right-key-0123456789');
    await fresh.keyboard.press('Enter');
    await expect.poll(() => fresh.locator('#api-key-error').textContent()).toBe('unknown API key');
    await fresh.getByLabel('API key').fill(apiKey);
    await fresh.keyboard.press('Enter');
    await fresh.getByRole('heading', { name: 'Destinations' }).waitFor();
    await fresh.close();
  });

  it('creates a destination through the wizard in the connector order, with Facebook login', async () => {
    await page.getByRole('link', { name: 'New destination' }).click();
    await page.getByLabel('Display name').fill('VIP buyers');
    await expectAllLabelled();
    await shot('new-destination');
    // The real connect route and callback: the sandbox's dialog, then back to this screen.
    await page.getByRole('button', { name: 'Continue with Facebook' }).click();
    await page.getByLabel('Ad account').waitFor();
    destinationId = /\/console\/destinations\/([0-9a-f-]{36})\/setup$/.exec(page.url())![1]!;
    expect(await page.getByRole('checkbox', { name: 'ads_management' }).isChecked()).toBe(true);
    // Every account in the dropdown says whether it accepted the custom audience terms; one that did not links to
    // Meta's page for it.
    const accountOptions = page.getByLabel('Ad account').locator('option');
    await expect
      .poll(() => accountOptions.allTextContents())
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`\\(${fixtures.adAccountId}\\) — terms accepted$`)),
          expect.stringMatching(new RegExp(`\\(${fixtures.noTermsAdAccountId}\\) — terms not accepted$`)),
        ]),
      );
    await page.getByLabel('Ad account').selectOption(fixtures.noTermsAdAccountId!);
    const termsLink = page.getByRole('link', { name: 'Accept the custom audience terms' });
    await termsLink.waitFor();
    expect(await termsLink.getAttribute('href')).toBe(
      `https://business.facebook.com/ads/manage/customaudiences/tos/?act=${fixtures.noTermsAdAccountId!.replace(/^act_/, '')}`,
    );
    await page.getByLabel('Ad account').selectOption(fixtures.adAccountId!);
    await page.getByText('Custom audience terms accepted.').waitFor();
    expect(await termsLink.count()).toBe(0);
    await page.getByRole('radio', { name: 'Existing custom audience' }).check();
    const audiences = page.getByLabel('Audience', { exact: true });
    const takenOption = audiences.locator('option', { hasText: /^Taken audience.*\(used by Audience owner\)$/ });
    await expect.poll(() => takenOption.count()).toBe(1);
    expect(await takenOption.isDisabled()).toBe(true);
    const spareOption = audiences.locator('option', { hasText: /^Spare audience/ });
    expect(await spareOption.isDisabled()).toBe(false);
    await audiences.selectOption({ label: (await spareOption.textContent())! });
    await page.getByRole('radio', { name: 'New custom audience' }).check();
    await page.getByLabel('Audience name').fill('VIP buyers (console)');
    await page.getByRole('heading', { name: 'Data privacy and compliance' }).waitFor();
    await page.getByLabel('Agreed by (your name or work email)').fill('ops@example.com');
    await expectAllLabelled();
    await shot('connection');

    // Next without I agree: the refusal is beside the checkbox.
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Agree to the statement to export to Facebook.').waitFor();
    // By keyboard: Space ticks I agree, Enter on Next goes on.
    await page.getByRole('checkbox', { name: 'I agree' }).focus();
    await page.keyboard.press('Space');
    expect(await page.getByRole('checkbox', { name: 'I agree' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).focus();
    await page.keyboard.press('Enter');

    await page.getByLabel('Key identifier').waitFor();
    expect(await page.getByLabel('Key identifier').inputValue()).toBe('EMAIL');
    // In the connector's order and words.
    expect(await page.getByLabel('Key identifier').locator('option').allTextContents()).toEqual([
      'Email',
      'Name and address',
      'Phone',
    ]);
    // The mapping's dropdowns offer the profile source's attributes (with their types).
    const attributes = await api<{ items: Array<{ name: string; type: string }> }>('/profile-source/attributes');
    expect(attributes.body.items.length).toBeGreaterThan(3);
    // The matching profile attribute is preselected; unmapping it makes the API name the field, shown beside it.
    const email = page.getByLabel('Profile attribute for EMAIL');
    expect(await email.inputValue()).toBe('email');
    expect(await email.locator('option').allTextContents()).toEqual([
      'Not mapped',
      ...attributes.body.items.map((a) => `${a.name} (${a.type})`),
    ]);
    await email.selectOption('');
    await page.getByRole('checkbox', { name: /^all/ }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.locator('#attribute-EMAIL-error').textContent()).toMatch(/needs EMAIL/);
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    await email.selectOption('email');

    // Add attribute offers every key we support that is not mapped yet.
    await page.getByRole('button', { name: 'Add attribute' }).click();
    const added = page.locator('table.mapping tbody tr').last().getByRole('combobox').first();
    // Each option reads `KEY: what it holds`.
    const offered = (await added.locator('option').allTextContents()).map((text) => text.split(':')[0]!);
    expect(offered.sort()).toEqual(MAPPABLE_KEYS.filter((k) => k !== 'EMAIL').sort());
    expect(offered).toEqual(
      expect.arrayContaining(['FN', 'LN', 'FI', 'PHONE', 'GEN', 'DOB', 'ST', 'CT', 'ZIP', 'COUNTRY']),
    );
    await page
      .getByRole('button', { name: /^Remove / })
      .last()
      .click();
    for (const [key, attribute] of [
      ['PHONE', 'phone'],
      ['FN', 'first_name'],
      ['COUNTRY', 'country'],
    ]) {
      await page.getByRole('button', { name: 'Add attribute' }).click();
      const row = page.locator('table.mapping tbody tr').last();
      await row.getByRole('combobox').first().selectOption(key!);
      await page.getByLabel(`Profile attribute for ${key}`).selectOption(attribute!);
    }
    // Segments: a multi-select, each with its size.
    const segments = await api<{ items: Array<{ name: string; size: number }> }>('/profile-source/segments');
    expect(segments.body.items.map((x) => x.name)).toEqual(expect.arrayContaining(['all', 'vip']));
    for (const segment of segments.body.items) {
      const box = page.getByRole('checkbox', {
        name: `${segment.name} (${segment.size.toLocaleString('en')} profiles)`,
      });
      expect(await box.count(), segment.name).toBe(1);
    }
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.locator('table.preview');
    await preview.waitFor();
    expect(await preview.locator('caption').textContent()).toMatch(
      new RegExp(`^all: ${PROFILES.toLocaleString('en')} profiles`),
    );
    await expect.poll(() => preview.getByText(/^Dropped: key identifier missing/).count()).toBe(1);
    // Key coverage: how many carry the key identifier and each mapped key.
    for (const row of ['Usable key identifier', 'Would be sent', 'Carry EMAIL', 'Carry PHONE', 'Carry FN']) {
      expect(await preview.getByRole('rowheader', { name: row, exact: true }).count(), row).toBe(1);
    }
    await expectAllLabelled();
    await shot('export-setup');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Export now' }).waitFor();
    expect(page.url()).toBe(`${apiUrl}/console/destinations/${destinationId}`);

    const { body } = await api<{ status: string; newAudienceName: string; connection: { kind: string } }>(
      `/destinations/${destinationId}`,
    );
    expect(body).toMatchObject({
      status: 'active',
      newAudienceName: 'VIP buyers (console)',
      connection: { kind: 'login' },
    });
    const config = await api<{ mapping: object; segments: string[] }>(`/destinations/${destinationId}/export-config`);
    expect(config.body.segments).toEqual(['all']);
    expect(Object.keys(config.body.mapping).sort()).toEqual(['COUNTRY', 'EMAIL', 'FN', 'PHONE']);
  });

  it('exports now with a live progress bar, then shows the report and the run in the history', async () => {
    await page.getByRole('button', { name: 'Export now' }).click();
    const bar = page.locator('progress#export-progress');
    await bar.waitFor();
    const seen = new Set<string>();
    let max = 0;
    for (let i = 0; i < 600; i++) {
      const state = {
        value: await bar.getAttribute('value'),
        max: Number(await bar.getAttribute('max')),
        done: !(await page.locator('label[for="export-progress"]').textContent())?.startsWith('Exporting'),
      };
      max = state.max;
      if (state.done) break;
      if (state.value !== null) seen.add(state.value);
      await page.waitForTimeout(100);
    }
    const between = [...seen].map(Number).filter((v) => v > 0 && v < max);
    expect(max).toBe(PROFILES / PAGE_SIZE);
    expect(between.length, `values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    await page.getByText('Export completed').waitFor();
    const report = page.getByRole('region', { name: 'Run report' });
    await expect.poll(() => report.locator('dd').first().textContent()).toMatch(/^completed/);
    const text = (await report.textContent()) ?? '';
    expect(text).toContain(`${PROFILES.toLocaleString('en')} profiles in all`);
    expect(text).toMatch(/Meta received [\d,]+, invalid 0/);
    expect(text).toMatch(/key_identifier_missing [\d,]+/);
    const temporalLink = report.getByRole('link', { name: 'Open this run in the Temporal UI' });
    expect(await temporalLink.getAttribute('href')).toMatch(
      new RegExp(`^${temporalUiUrl}/namespaces/default/workflows/export%3Aact_`),
    );

    await shot('destination');

    const runs = await api<{ items: Array<{ sent: number; status: string; dropped: Record<string, number> }> }>(
      `/exports?destinationId=${destinationId}`,
    );
    expect(runs.body.items).toHaveLength(1);
    const run = runs.body.items[0]!;
    expect(run.status).toBe('completed');
    expect(text).toContain(`Sent${run.sent.toLocaleString('en')} rows`);
    // The list shows it with its state and last run.
    await page.getByRole('link', { name: '← Destinations' }).click();
    const row = page.getByRole('row', { name: /VIP buyers/ });
    await expect.poll(() => row.textContent()).toMatch(/Active.*Connected.*Given.*completed/);
    await shot('destinations');
    await page.getByRole('link', { name: 'VIP buyers' }).click();
    // The history's run opens to the same report: sent, removed, dropped by reason, received/invalid, audience
    // size, and the run in the Temporal UI.
    const summary = page.locator('.runs summary').first();
    await expect.poll(() => summary.textContent()).toMatch(/manual · completed · sent [\d,]+, removed 0$/);
    await summary.focus();
    await page.keyboard.press('Enter');
    const history = page.locator('.runs .report').first();
    await expect.poll(() => history.textContent()).toMatch(/Audience size/);
    const historyText = (await history.textContent()) ?? '';
    expect(historyText).toContain(`Sent${run.sent.toLocaleString('en')} rows (Meta received`);
    expect(historyText).toMatch(/invalid 0\)Removed0 rows/);
    expect(historyText).toMatch(
      new RegExp(
        `Dropped[\\d,]+ \\(key_identifier_missing ${run.dropped.key_identifier_missing!.toLocaleString('en')}`,
      ),
    );
    expect(await history.getByRole('link', { name: 'Open this run in the Temporal UI' }).getAttribute('href')).toMatch(
      new RegExp(`^${temporalUiUrl}/namespaces/default/workflows/`),
    );
    await expectAllLabelled();
  });

  it('sets a schedule, shows its next runs, triggers it (Run now) and follows the run it started', async () => {
    await page.getByRole('radio', { name: 'Cron' }).check();
    await page.getByLabel('Cron expression').fill('61 6 * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.locator('#schedule-cron-error').textContent()).toBeTruthy();
    await page.getByLabel('Cron expression').fill('0 6 * * *');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('Schedule saved.').waitFor();
    await expect.poll(() => page.locator('.next-runs li').count()).toBeGreaterThan(0);
    const { body } = await api<{ cron: string; timezone: string; nextRuns: string[] }>(
      `/destinations/${destinationId}/schedule`,
    );
    expect(body).toMatchObject({ cron: '0 6 * * *', timezone: 'Europe/Berlin' });
    expect(new Date(body.nextRuns[0]!).getTime()).toBeGreaterThan(Date.now());

    // Run now, by keyboard: the schedule's action starts an export, followed like Export now.
    await page.getByRole('button', { name: 'Run now' }).focus();
    await page.keyboard.press('Enter');
    const scheduleRegion = page.getByRole('region', { name: 'Schedule' });
    await expect.poll(() => scheduleRegion.textContent(), { timeout: 30_000 }).toMatch(/Triggered: export started\./);
    await page.locator('progress#export-progress').waitFor();
    await page.getByText('Export completed').waitFor({ timeout: 60_000 });
    const runs = await api<{ items: Array<{ runId: string; trigger: string; status: string }> }>(
      `/exports?destinationId=${destinationId}`,
    );
    expect(runs.body.items).toHaveLength(2);
    const triggered = runs.body.items.find((r) => r.trigger === 'schedule')!;
    expect(triggered.status).toBe('completed');
    await expect.poll(() => page.locator('.runs summary').count()).toBe(2);
    expect(await page.locator('.runs summary').first().textContent()).toMatch(/ · schedule · completed · sent /);
    // The schedule lists the action with how it went.
    await expect.poll(() => page.locator('.schedule-actions li').first().textContent()).toMatch(/ · completed$/);
    const after = await api<{ recentActions: Array<{ runId: string; outcome: string }> }>(
      `/destinations/${destinationId}/schedule`,
    );
    expect(after.body.recentActions.at(-1)).toMatchObject({ runId: triggered.runId, outcome: 'completed' });
    await expectAllLabelled();
  });

  it('changes the schedule to an interval, lists its next run, pauses and resumes it', async () => {
    await page.getByRole('radio', { name: 'Interval' }).check();
    await page.getByLabel('Interval in minutes').fill('0');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => page.locator('#schedule-interval-error').textContent()).toBe('must be at least 60 seconds');
    await page.getByLabel('Interval in minutes').fill('90');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await page.getByText('Every 90 minutes').waitFor();
    const { body } = await api<{ intervalSeconds: number; cron: string | null; nextRuns: string[] }>(
      `/destinations/${destinationId}/schedule`,
    );
    expect(body).toMatchObject({ intervalSeconds: 5400, cron: null });
    // The list shows the next run.
    await page.getByRole('link', { name: '← Destinations' }).click();
    const row = page.getByRole('row', { name: /VIP buyers/ });
    await expect.poll(() => row.locator('td').last().textContent()).toMatch(/^\d{1,2} \w{3} \d{4}, \d{2}:\d{2}$/);
    await page.getByRole('link', { name: 'VIP buyers' }).click();

    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Schedule paused.').waitFor();
    expect((await api<{ paused: boolean }>(`/destinations/${destinationId}/schedule`)).body.paused).toBe(true);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('Schedule resumed.').waitFor();
    expect((await api<{ paused: boolean }>(`/destinations/${destinationId}/schedule`)).body.paused).toBe(false);
  });

  it('withdraws consent after a confirmation, which pauses the schedule', async () => {
    await page.getByLabel('Withdrawn by (your name or work email)').fill('ops@example.com');
    await page.getByRole('button', { name: 'Withdraw consent' }).click();
    const dialog = page.getByRole('dialog', { name: 'Withdraw consent?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Withdraw consent' }).click();
    await page.getByText(/^Consent withdrawn: \d+ running export\(s\) cancelled, schedule paused\./).waitFor();
    await expect.poll(async () => page.locator('.title-row .badge').textContent()).toBe('Needs consent');
    const { body } = await api<{ status: string; consent: unknown }>(`/destinations/${destinationId}`);
    expect(body).toMatchObject({ status: 'needs_consent', consent: null });
    expect((await api<{ paused: boolean }>(`/destinations/${destinationId}/schedule`)).body.paused).toBe(true);
    expect(await page.getByRole('button', { name: 'Export now' }).isDisabled()).toBe(true);
    // The paused schedule cannot be run or resumed without consent; the refusal says what to do.
    const schedule = page.getByRole('region', { name: 'Schedule' });
    await schedule.getByRole('button', { name: 'Run now' }).click();
    await expect
      .poll(() => schedule.getByRole('alert').textContent())
      .toMatch(/paused and its destination has no current consent: record it/);
  });

  it('deletes the destination after a confirmation that says what it stops', async () => {
    await page.getByRole('button', { name: 'Delete destination' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete VIP buyers?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/running exports are cancelled, its schedule is deleted/);
    await expectAllLabelled();
    await shot('delete');
    // Escape closes it (keyboard), and nothing was deleted.
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect((await api(`/destinations/${destinationId}`)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete destination' }).click();
    await dialog.getByRole('button', { name: 'Delete destination' }).click();
    await page.getByRole('heading', { name: 'Destinations' }).waitFor();
    expect((await api(`/destinations/${destinationId}`)).status).toBe(404);
    expect(await page.getByRole('link', { name: 'VIP buyers' }).count()).toBe(0);
  });
});
