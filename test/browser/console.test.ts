import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type {
  AccessRequest,
  AccessRequestList,
  AuditPage,
  OrderRecordings,
  VerifyResult,
} from '../../console/api-types.js';
import type {
  accessRequestListResponse,
  accessRequestResponse,
  auditPageResponse,
  auditVerifyResponse,
  orderRecordingsResponse,
} from '../../src/http/response-schemas.js';
import { bearer, newVisit, type Visit } from '../helpers/actors.js';
import { tone } from '../helpers/audio.js';
import { launchChromium } from '../helpers/browser.js';
import { uploadSealed } from '../helpers/recordings.js';
import { decideSigned, signerFor } from '../helpers/signing.js';
import { startTestVault, type TestVault } from '../helpers/vault.js';

// The console declares the answers it reads without importing server code; these fail to compile if the server's drift away.
const fits = <Console>(server: Console) => server;
export const answerShapes = {
  request: (v: z.infer<typeof accessRequestResponse>) => fits<AccessRequest>(v),
  list: (v: z.infer<typeof accessRequestListResponse>) => fits<AccessRequestList>(v),
  recordings: (v: z.infer<typeof orderRecordingsResponse>) => fits<OrderRecordings>(v),
  audit: (v: z.infer<typeof auditPageResponse>) => fits<AuditPage>(v),
  verify: (v: z.infer<typeof auditVerifyResponse>) => fits<VerifyResult>(v),
};

const SECONDS = 4;
const SHOTS = 'test-results';
const DAY = 86_400_000;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type Who = 'officer' | 'head' | 'security' | 'auditor' | 'platform' | 'hugo' | 'sid';

/**
 * The console in a real browser (Debian's Chromium): each role's day through a
 * real vault, in the Europe/Prague zone, with axe-core run on every view and a
 * screenshot of each saved under test-results/.
 */
describe('web console (Chromium, postgres+fs)', { timeout: 120_000 }, () => {
  let vault: TestVault;
  let browser: Browser;
  let visit: Visit;
  let recordingId: string;
  const token: Record<Who, string> = {
    officer: '',
    head: '',
    security: '',
    auditor: '',
    platform: '',
    hugo: '',
    sid: '',
  };
  /** One browser profile per person, as in life: a head's signing key stays in its profile's IndexedDB. */
  const profiles = new Map<string, BrowserContext>();
  let strangers = 0;
  /** Every URL any page or worker asked for or navigated to, and every console error (a CSP violation is one). */
  const urls: string[] = [];
  const pageErrors: string[] = [];
  const shots: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    // Signed decisions required (the default): every sign-off in this test is a real signature.
    vault = await startTestVault('postgres+fs');
    visit = await newVisit(vault);
    recordingId = await uploadSealed(vault, visit, await tone(SECONDS), 16 * 1024, 'audio/wav');
    const cast: [Who, string, string, string[], string][] = [
      ['officer', 'officer-olga', 'Olga Officer', ['dispute_staff'], 'disputes'],
      ['head', 'head-hana', 'Hana Head', ['department_head'], 'disputes'],
      ['security', 'security-sam', 'Sam Security', ['security_head'], 'security'],
      ['auditor', 'auditor-ada', 'Ada Auditor', ['auditor'], 'audit'],
      // Two heads who sign with key files (the CLI's way), for decisions made outside the browser.
      ['hugo', 'head-hugo', 'Hugo Head', ['department_head'], 'disputes'],
      ['sid', 'security-sid', 'Sid Security', ['security_head'], 'security'],
    ];
    for (const [who, id, name, roles, department] of cast)
      token[who] = await vault.addPrincipal({ id, name, roles: roles as never, department });
    token.platform = visit.platformToken;
    // A complaint hold that keeps the recording past its retainUntil: the console must say so.
    const hold = await request(vault.server)
      .post(`/v1/orders/${visit.orderId}/holds`)
      .set(bearer(visit.platformToken))
      .send({ reason: 'complaint', until: new Date(vault.clock.now().getTime() + 30 * DAY).toISOString() });
    expect(hold.status).toBe(201);
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    for (const c of profiles.values()) await c.close();
    await browser?.close();
    await vault?.close();
  });

  async function profileOf(person: string): Promise<BrowserContext> {
    const known = profiles.get(person);
    if (known) return known;
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-GB',
      timezoneId: 'Europe/Prague',
    });
    profiles.set(person, context);
    context.on('request', (r) => urls.push(r.url()));
    return context;
  }

  /** A new tab at /console in this person's browser profile (a new profile for nobody in particular). */
  async function openConsole(person = `stranger-${++strangers}`, width = 1280): Promise<Page> {
    const page = await (await profileOf(person)).newPage();
    if (width !== 1280) await page.setViewportSize({ width, height: 900 });
    page.on('framenavigated', (f) => urls.push(f.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${vault.baseUrl}/console`);
    return page;
  }

  async function signIn(page: Page, secret: string): Promise<void> {
    await page.fill('#token', secret);
    await page.click('#sign-in-form button[type=submit]');
    await page.locator('#who').waitFor({ state: 'visible' });
  }

  async function signedIn(who: Who, width?: number): Promise<Page> {
    const page = await openConsole(who, width);
    await signIn(page, token[who]);
    return page;
  }

  /** axe-core on the page as it is now (zero violations), then a full-page screenshot named after the view. */
  async function checkView(page: Page, name: string): Promise<void> {
    // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not stand in the way.
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<AxeResults> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    expect(violations, `axe on ${name}`).toEqual([]);
    const path = `${SHOTS}/console-${name}.png`;
    await page.screenshot({ path, fullPage: true });
    shots.push(path);
  }

  const visibleTabs = (page: Page) =>
    page.locator('#views button:visible').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-view')));

  async function findOrder(page: Page): Promise<void> {
    await page.fill('#officer-order', visit.orderId);
    await page.click('#find-order button[type=submit]');
    await page.locator('#order-recordings td', { hasText: recordingId.slice(0, 12) }).waitFor();
  }

  async function fileRequest(page: Page, ticket: string): Promise<string> {
    await findOrder(page);
    await page.selectOption('#purpose', 'dispute');
    await page.fill('#reason', 'customer says the service was cut short');
    await page.fill('#ticket', ticket);
    await page.click('#file-request button[type=submit]');
    return shownRequest(page, 'pending');
  }

  async function shownRequest(page: Page, status: string): Promise<string> {
    const card = page.locator('#request-panel [data-request]');
    await card.locator(`[data-status=${status}]`).waitFor({ timeout: 15_000 });
    const id = await card.getAttribute('data-request');
    if (!id) throw new Error('the request panel names no request');
    return id;
  }

  async function decide(page: Page, requestId: string, decision: 'approve' | 'reject', comment: string) {
    const card = page.locator(`#queue [data-request="${requestId}"]`);
    await card.waitFor();
    await card.locator('textarea').fill(comment);
    await card.locator(`button[data-decision=${decision}]`).click();
    const dialog = page.locator('#confirm-decision');
    await dialog.waitFor({ state: 'visible' });
    const confirmation = (await dialog.textContent()) ?? '';
    await page.click('#confirm-yes');
    await page.locator('#manager-errors .notice.ok', { hasText: visit.orderId }).waitFor();
    await card.waitFor({ state: 'detached' });
    return confirmation;
  }

  /** Presses Tab until `selector` has the focus: what a keyboard-only user does. */
  async function tabTo(page: Page, selector: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  const audioState = (page: Page) =>
    page.locator('#player').evaluate((a) => {
      if (!(a instanceof HTMLAudioElement)) throw new Error('#player is not an <audio> element');
      return { readyState: a.readyState, duration: a.duration, currentTime: a.currentTime, src: a.src };
    });

  const audioLoaded = (page: Page) =>
    page.waitForFunction(() => {
      const a = document.querySelector('audio');
      return a !== null && a.readyState >= 1 && Number.isFinite(a.duration);
    });

  it('shows each person who they are and only the workspaces their roles allow, landing where they work', async () => {
    const officer = await signedIn('officer');
    await expect(officer.locator('#who').textContent()).resolves.toContain('Olga Officer, disputes');
    expect(await visibleTabs(officer)).toEqual(['officer']);
    expect(await officer.locator('#officer').isVisible()).toBe(true);

    const head = await signedIn('head');
    await expect(head.locator('#who').textContent()).resolves.toContain('Hana Head, disputes (department head)');
    expect(await visibleTabs(head)).toEqual(['manager']);
    expect(await head.locator('#manager').isVisible()).toBe(true);

    const security = await signedIn('security');
    expect(await visibleTabs(security)).toEqual(['manager', 'auditor']);
    expect(await security.locator('#manager').isVisible()).toBe(true);

    const auditor = await signedIn('auditor');
    expect(await visibleTabs(auditor)).toEqual(['auditor']);
    expect(await auditor.locator('#auditor').isVisible()).toBe(true);

    const platform = await signedIn('platform');
    await platform.locator('#no-workspace').waitFor({ state: 'visible' });
    expect(await visibleTabs(platform)).toEqual([]);
    await checkView(platform, 'no-workspace');
  });

  it("walks a dispute: the officer files, both heads sign in their browsers, the officer's page updates and plays", async () => {
    const officer = await signedIn('officer');
    await findOrder(officer);
    const retention = (await officer.locator('#order-recordings').textContent()) ?? '';
    expect(retention).toMatch(/Held until .* CET by a complaint hold/);
    expect(retention).toMatch(/\d kB of audio in \d+ chunks/);
    await checkView(officer, 'officer-order');
    await officer.selectOption('#purpose', 'dispute');
    await officer.fill('#reason', 'customer says the service was cut short');
    await officer.fill('#ticket', 'CS-4711');
    await officer.click('#file-request button[type=submit]');
    const requestId = await shownRequest(officer, 'pending');
    expect(await officer.locator('#file-request').isHidden()).toBe(true);
    await officer.locator(`#my-requests [data-open="${requestId}"]`).waitFor();
    // An officer is never offered a decision, not even on its own request.
    expect(await officer.locator('[data-decision]').count()).toBe(0);
    await checkView(officer, 'officer-pending');

    const head = await signedIn('head');
    const card = head.locator(`#queue [data-request="${requestId}"]`);
    await card.waitFor();
    await expect(head.locator('#queue-count').textContent()).resolves.toMatch(/\(\d+\)/);
    await expect(card.textContent()).resolves.toContain('Olga Officer');
    await checkView(head, 'manager-queue');
    await card.locator('textarea').fill('ticket CS-4711 checked');
    await card.locator('button[data-decision=approve]').click();
    await head.locator('#confirm-decision').waitFor({ state: 'visible' });
    await checkView(head, 'manager-confirm');
    const confirmation = (await head.locator('#confirm-decision').textContent()) ?? '';
    for (const said of [visit.orderId, 'dispute', 'Olga Officer', 'CS-4711', 'ticket CS-4711 checked'])
      expect(confirmation).toContain(said);
    await head.click('#confirm-yes');
    await head.locator('#manager-errors .notice.ok', { hasText: 'now pending' }).waitFor();
    await card.waitFor({ state: 'detached' });

    const security = await signedIn('security');
    await decide(security, requestId, 'approve', 'legitimate dispute');
    await expect(security.locator('#manager-errors').textContent()).resolves.toContain('now approved');

    // Both sign-offs are signatures by keys made in the heads' browsers, which cannot give the private half away.
    const signed = await request(vault.server).get(`/v1/access-requests/${requestId}`).set(bearer(token.auditor));
    for (const [who, id] of [
      ['head', 'head-hana'],
      ['security', 'security-sam'],
    ] as const) {
      const me = await request(vault.server).get('/v1/me').set(bearer(token[who]));
      expect(me.body.signingKeyId).toEqual(expect.any(String));
      const decision = (
        signed.body.decisions as { deciderId: string; signature?: string; signerKeyId?: string }[]
      ).find((d) => d.deciderId === id);
      expect(decision?.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(decision?.signerKeyId).toBe(me.body.signingKeyId);
    }
    expect(await head.evaluate(storedKeyFacts, 'head-hana')).toEqual({
      algorithm: 'Ed25519',
      extractable: false,
      usages: ['sign'],
      exported: 'refused',
    });

    // The officer's page re-reads the request by itself: approved, with what to play, and the list row too.
    await shownRequest(officer, 'approved');
    const panel = officer.locator('#request-panel');
    await expect(panel.textContent()).resolves.toContain('Hana Head');
    await expect(panel.textContent()).resolves.toMatch(/Playable until.*CET/);
    await officer.locator(`#my-requests tr:has([data-open="${requestId}"]) [data-status=approved]`).waitFor();
    await officer.click(`#request-panel button[data-recording="${recordingId}"]`);
    await audioLoaded(officer);
    const loaded = await audioState(officer);
    // Streamed from the vault's own URL (the service worker adds the token), not a downloaded blob.
    expect(new URL(loaded.src).pathname).toBe(`/v1/access-requests/${requestId}/recordings/${recordingId}/audio`);
    expect(loaded.duration).toBeGreaterThan(SECONDS - 0.1);
    expect(loaded.duration).toBeLessThan(SECONDS + 0.1);
    await officer.locator('#player').evaluate((a) => {
      if (!(a instanceof HTMLAudioElement)) throw new Error('#player is not an <audio> element');
      a.currentTime = 2.5;
    });
    await officer.waitForFunction(() => {
      const a = document.querySelector('audio');
      return a !== null && !a.seeking && Math.abs(a.currentTime - 2.5) < 0.05;
    });
    await expect(officer.locator('#player-status').textContent()).resolves.toContain('4 s of audio');
    await checkView(officer, 'officer-playing');

    // The vault served the audio to <audio> by Range requests, under the officer's own token.
    const trail = await request(vault.server)
      .get('/v1/audit')
      .query({ orderId: visit.orderId })
      .set(bearer(token.auditor));
    const plays = (trail.body.entries as { action: string; actorId: string; details: { status?: number } }[]).filter(
      (e) => e.action === 'playback.started',
    );
    expect(plays.length).toBeGreaterThan(0);
    expect(plays.every((e) => e.actorId === 'officer-olga')).toBe(true);
    expect(plays.some((e) => e.details.status === 206)).toBe(true);

    // The auditor reads the story as sentences, with names, and verifies the log.
    const auditor = await signedIn('auditor');
    await auditor.fill('#audit-order-id', visit.orderId);
    await auditor.click('#audit-order button[type=submit]');
    const sentences = auditor.locator('#audit-trail');
    await sentences.locator('li[data-action="access_request.decided"]').first().waitFor();
    await expect(sentences.textContent()).resolves.toContain('Hana Head approved');
    await expect(sentences.textContent()).resolves.toContain('as department head');
    await expect(sentences.textContent()).resolves.toContain('Olga Officer played recording');
    await auditor.click('#verify-chain');
    await auditor.locator('#verify-result .notice.ok', { hasText: 'The log verifies' }).waitFor();
    await checkView(auditor, 'auditor-trail');
  });

  it('lets a keyboard alone sign in, file, approve in a confirmation dialog, and play', async () => {
    const officer = await openConsole('officer');
    await tabTo(officer, '#token');
    await officer.keyboard.type(token.officer);
    await officer.keyboard.press('Enter');
    await officer.locator('#who').waitFor({ state: 'visible' });
    await tabTo(officer, '#officer-order');
    await officer.keyboard.type(visit.orderId);
    await officer.keyboard.press('Enter');
    await officer.locator('#file-request').waitFor({ state: 'visible' });
    await tabTo(officer, '#reason');
    await officer.keyboard.type('the customer asked for a refund');
    await tabTo(officer, '#ticket');
    await officer.keyboard.type('KB-1');
    await officer.keyboard.press('Enter');
    const requestId = await shownRequest(officer, 'pending');

    for (const [who, comment] of [
      ['head', 'refund ticket checked'],
      ['security', 'fine by security'],
    ] as const) {
      const page = await openConsole(who);
      await tabTo(page, '#token');
      await page.keyboard.type(token[who]);
      await page.keyboard.press('Enter');
      await page.locator(`#queue [data-request="${requestId}"]`).waitFor();
      await tabTo(page, `#queue [data-request="${requestId}"] textarea`);
      await page.keyboard.type(comment);
      await tabTo(page, `#queue [data-request="${requestId}"] button[data-decision=approve]`);
      await page.keyboard.press('Enter');
      await page.locator('#confirm-decision').waitFor({ state: 'visible' });
      // The dialog takes the focus on its Sign button; Escape would cancel.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm-yes');
      await page.keyboard.press('Enter');
      await page.locator('#manager-errors .notice.ok').waitFor();
    }

    await shownRequest(officer, 'approved');
    await tabTo(officer, `#request-panel button[data-recording="${recordingId}"]`);
    await officer.keyboard.press('Enter');
    await audioLoaded(officer);
    expect((await audioState(officer)).duration).toBeGreaterThan(SECONDS - 0.1);
  });

  it('cancels a decision in the dialog without deciding, and shows a rejection to the officer', async () => {
    const officer = await signedIn('officer');
    const requestId = await fileRequest(officer, 'CS-5000');
    const head = await signedIn('head');
    const card = head.locator(`#queue [data-request="${requestId}"]`);
    await card.waitFor();
    await card.locator('textarea').fill('no ticket of that number');
    await card.locator('button[data-decision=reject]').click();
    await head.click('#confirm-no');
    const untouched = await request(vault.server).get(`/v1/access-requests/${requestId}`).set(bearer(token.head));
    expect(untouched.body.decisions).toEqual([]);
    await decide(head, requestId, 'reject', 'no ticket of that number');
    const panel = officer.locator('#request-panel');
    await shownRequest(officer, 'rejected');
    await expect(panel.textContent()).resolves.toContain('no ticket of that number');
    expect(await panel.locator('button[data-recording]').count()).toBe(0);
    await checkView(officer, 'officer-rejected');
  });

  it("pages the officer's requests and filters them by status", async () => {
    const officer = await signedIn('officer');
    await officer.locator('#my-requests table').waitFor();
    const caption = (await officer.locator('#my-requests caption').textContent()) ?? '';
    const total = Number(/of (\d+)/.exec(caption)?.[1]);
    expect(total).toBeGreaterThan(0);
    await officer.selectOption('#my-status', 'rejected');
    await officer.locator('#my-requests caption', { hasText: /^Requests 1–1 of 1$/ }).waitFor();
    expect(await officer.locator('#my-requests [data-status]').evaluateAll((s) => s.map((b) => b.textContent))).toEqual(
      ['rejected'],
    );
    await officer.selectOption('#my-status', '');
    // Enough requests for a second page: eleven more, filed through the API.
    for (let i = 0; i < 11; i++) {
      const res = await request(vault.server)
        .post('/v1/access-requests')
        .set(bearer(token.officer))
        .send({ orderId: visit.orderId, purpose: 'safety', reason: 'paging', ticketRef: `PAGE-${i}` });
      expect(res.status).toBe(201);
    }
    await officer.selectOption('#my-status', 'pending');
    await officer.selectOption('#my-status', '');
    // The caption names the new total only once the newest listing is on screen.
    await officer.locator('#my-requests caption', { hasText: `Requests 1–10 of ${total + 11}` }).waitFor();
    await officer.locator('#my-older').waitFor({ state: 'visible' });
    const firstPage = await officer
      .locator('#my-requests [data-open]')
      .evaluateAll((b) => b.map((x) => x.getAttribute('data-open')));
    expect(firstPage).toHaveLength(10);
    await officer.click('#my-older');
    await officer.locator('#my-newer').waitFor({ state: 'visible' });
    await officer.locator('#my-requests caption', { hasText: /^Requests 11–/ }).waitFor();
    const secondPage = await officer
      .locator('#my-requests [data-open]')
      .evaluateAll((b) => b.map((x) => x.getAttribute('data-open')));
    expect(secondPage.some((id) => firstPage.includes(id))).toBe(false);
    await checkView(officer, 'officer-my-requests');
  });

  it('fits a 390 px wide phone: nothing scrolls sideways in any workspace', async () => {
    const pages: [string, Page][] = [
      ['officer', await signedIn('officer', 390)],
      ['manager', await signedIn('security', 390)],
      ['auditor', await signedIn('auditor', 390)],
    ];
    const [, officer] = pages[0]!;
    await findOrder(officer);
    await officer.locator('#my-requests table').waitFor();
    const [, manager] = pages[1]!;
    await manager.locator('#queue .card').first().waitFor();
    const [, auditor] = pages[2]!;
    await auditor.fill('#audit-order-id', visit.orderId);
    await auditor.click('#audit-order button[type=submit]');
    await auditor.locator('#audit-trail li').first().waitFor();
    for (const [name, page] of pages) {
      const { scroll, client } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      expect(scroll, `${name} at 390 px`).toBeLessThanOrEqual(client);
      await checkView(page, `${name}-390px`);
    }
  });

  it('tells a head whose registered key is not in this browser to have an admin clear it, and signs nothing', async () => {
    // Hugo registered a key file (the CLI's way); his browser holds no key.
    await signerFor(vault.baseUrl, token.hugo);
    await fileRequest(await signedIn('officer'), 'CS-7000');
    const hugo = await signedIn('hugo');
    await hugo.locator('#signing-key-status [role=alert]', { hasText: 'ask an administrator to clear it' }).waitFor();
    // Earlier tests left requests in his department's queue; he tries the one nearest its deadline.
    const card = hugo.locator('#queue [data-request]').first();
    await card.waitFor();
    const requestId = await card.getAttribute('data-request');
    const before = await request(vault.server).get(`/v1/access-requests/${requestId}`).set(bearer(token.hugo));
    await card.locator('textarea').fill('looks fine');
    await card.locator('button[data-decision=approve]').click();
    await hugo.click('#confirm-yes');
    await card.locator('[role=alert]', { hasText: 'Ask an administrator to clear your old signing key' }).waitFor();
    await checkView(hugo, 'manager-key-mismatch');
    const after = await request(vault.server).get(`/v1/access-requests/${requestId}`).set(bearer(token.hugo));
    expect(after.body).toEqual(before.body);
    expect(after.body.status).toBe('pending');
  });

  it('signs out: sessionStorage emptied, back to the sign-in form, nothing in the address', async () => {
    const page = await signedIn('officer');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(new URL(page.url()).pathname).toBe('/console');
    expect(await page.locator('#views').isHidden()).toBe(true);
    await checkView(page, 'sign-in');
  });

  it('shows the vault errors: an unknown token, an unknown order, an expired grant', async () => {
    const page = await openConsole();
    await page.fill('#token', 'vv_not-a-real-token-000000000000000000');
    await page.click('#sign-in-form button[type=submit]');
    await expect(page.locator('#sign-in-errors [role=alert]').textContent()).resolves.toContain(
      'did not accept this token',
    );
    await checkView(page, 'sign-in-error');

    const officer = await signedIn('officer');
    await officer.fill('#officer-order', 'no-such-order');
    await officer.click('#find-order button[type=submit]');
    await expect(officer.locator('#order-errors [role=alert]').textContent()).resolves.toMatch(/HTTP 404/);

    const requestId = await fileRequest(officer, 'CS-6000');
    for (const t of [token.hugo, token.sid]) {
      const res = await decideSigned(vault.baseUrl, t, requestId, 'approve', 'ok');
      expect(res.status).toBe(200);
    }
    await shownRequest(officer, 'approved');
    vault.clock.advance(vault.config.grantTtlMs + 60_000);
    await officer.click(`#request-panel button[data-recording="${recordingId}"]`);
    await expect(officer.locator('#player-status [role=alert]').textContent()).resolves.toMatch(/grant expired/i);
  });

  it('never put a token in any URL, answered /favicon.ico, and no page logged an error', async () => {
    expect(urls.length).toBeGreaterThan(20);
    for (const secret of Object.values(token)) expect(urls.filter((u) => u.includes(secret))).toEqual([]);
    expect(pageErrors.filter((e) => !/status of (401|404|410) /.test(e))).toEqual([]);
    const icon = await request(vault.server).get('/favicon.ico');
    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(shots.length).toBeGreaterThanOrEqual(12);
  });
});

/** In the page: what IndexedDB holds for this head, and whether WebCrypto lets the private key out. */
async function storedKeyFacts(principalId: string) {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open('visit-vault');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const stored = await new Promise<{ privateKey: CryptoKey }>((resolve, reject) => {
    const req = db.transaction('signing-keys').objectStore('signing-keys').get(principalId);
    req.onsuccess = () => resolve(req.result as { privateKey: CryptoKey });
    req.onerror = () => reject(req.error);
  });
  db.close();
  const key = stored.privateKey;
  const exported = await crypto.subtle.exportKey('pkcs8', key).then(
    () => 'exported',
    () => 'refused',
  );
  return { algorithm: key.algorithm.name, extractable: key.extractable, usages: key.usages, exported };
}

interface AxeResults {
  violations: { id: string; nodes: { target: string[] }[] }[];
}
