// Browser test (make test-browser): Debian's headless Chromium driven by playwright-core.
// Starts the system as `make run` does (scripts/run-local.sh, the attendance-to-escalation
// scenario) in its own temp dir and ports, logs in at the school, opens the scenario's case,
// records a decision, logs in at social care, raises a disagreement with that decision, and
// watches the disagreement and then the broker's escalation with its stage deadline appear live
// on the school's open case page (no reload), and the case's row patched in place on an open
// My cases page. Then a lead's day at social care (consent, a meeting
// asked for, scheduled and held with an action, the action ticked done, the lead handed over),
// each told as a sentence on the case page. Runs axe-core on the inbox, the case page, a form and
// My cases (no serious or critical violation). Saves screenshots under build/browser/ and fails
// on any console error.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const { ROOT, BASE, url, startSystem, stopSystem } = require('./system');
const SHOTS = path.join(ROOT, 'build/browser');
const CASE = 'LA7-2026-000123';
// Today (UTC) as YYYY-MM-DD: a meeting is recorded as held on a date that has come.
const TODAY = new Date().toISOString().slice(0, 10);
const PASSWORD = 'browser-demo-2026';

function fail(msg) { throw new Error(msg); }

// axe-core's accessibility rules on the page as it stands: any serious or critical violation
// fails the test. The script is evaluated through the DevTools protocol, which the pages' CSP
// (no inline script) does not govern.
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const audited = [];
async function audit(page, name) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) fail(`axe on ${name}: ` + bad.map((v) => `${v.id} (${v.impact}, ${v.nodes} nodes): ${v.help}`).join('; '));
  audited.push(`${name}: ${found.length} minor`);
}

async function login(page, agency, initials) {
  await page.goto(url(agency, '/'));
  if (!page.url().endsWith('/login')) fail(`${agency}: no redirect to the log-in page`);
  await page.getByLabel('Initials').fill(initials);
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL(url(agency, '/')), page.getByRole('button', { name: 'Log in' }).click()]);
  await page.getByRole('heading', { name: 'My cases' }).waitFor();
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tacnet-browser-run-'));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tacnet-browser-profile-'));
  let sys = null, ctx = null;
  const errors = [];
  try {
    // The scenario up to the school's challenge: the disagreement this test raises then opens a
    // new escalation (rather than joining the scenario's), so its deadline must appear live.
    const full = fs.readFileSync(path.join(ROOT, 'deploy/scenarios/attendance-to-escalation.txt'), 'utf8');
    const cut = full.indexOf('# --- The school disagrees');
    if (cut < 0) fail('the scenario no longer has the "The school disagrees" section');
    const scenario = path.join(runDir, 'scenario.txt');
    fs.writeFileSync(scenario, full.slice(0, cut));
    sys = await startSystem(runDir, scenario, PASSWORD);
    console.log('browser: system up; dashboards from port', BASE + 1);
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    const watch = (page, who) => {
      page.on('console', (m) => { if (m.type() === 'error') errors.push(`${who}: ${m.text()}`); });
      page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`));
    };
    const school = ctx.pages()[0] || await ctx.newPage();
    watch(school, 'school');

    // The school: log in, open the scenario's case, record a decision.
    await login(school, 'school', 'DL');
    await school.screenshot({ path: path.join(SHOTS, '01-school-my-cases.png'), fullPage: true });
    await school.getByRole('link', { name: CASE }).click();
    await school.getByRole('heading', { name: new RegExp(CASE) }).waitFor();
    await school.screenshot({ path: path.join(SHOTS, '02-school-case.png'), fullPage: true });
    await school.getByRole('link', { name: 'Record a decision' }).click();
    await school.getByLabel('Topic').fill('Breakfast club');
    await school.getByLabel('Options considered (one per line)').fill('Breakfast club daily\nBreakfast club on Mondays');
    await school.getByLabel('What was decided').fill('Breakfast club place every school day');
    await school.getByLabel('Rationale').fill('Mornings are the hardest part of the week.');
    await school.getByLabel("The child's view").fill('Would like to eat with friends.');
    await school.getByLabel("The family's view").fill('Mother agrees.');
    await Promise.all([school.waitForURL(/published=/), school.getByRole('button', { name: 'Record a decision' }).click()]);
    // The form waited for the broker: the case page says it was shared, and with whom.
    await school.getByText(/Shared: the broker accepted your event and it goes to .*Social care/).waitFor();
    await school.screenshot({ path: path.join(SHOTS, '03-school-decision-sent.png'), fullPage: true });
    // Stay on the case page: it is live.
    await school.evaluate(() => { window.__notReloaded = true; });
    // The stream is open once the status says so (or already reports the decision coming back).
    await school.locator('#live-status', { hasText: /Live: new events|New on .*School recorded a decision/ }).waitFor({ timeout: 15000 });

    // A second school tab on My cases: what social care publishes next must patch the case's
    // row in place (fetched by reference), leaving the rest of the table and the page alone.
    const schoolCases = await ctx.newPage();
    watch(schoolCases, 'school my cases');
    await schoolCases.goto(url('school', '/'));
    await schoolCases.getByRole('heading', { name: 'My cases' }).waitFor();
    await schoolCases.locator('#live-status', { hasText: /Live: new events/ }).waitFor({ timeout: 15000 });
    const otherRows = await schoolCases.evaluate((ref) => {
      window.__notReloaded = true;
      document.querySelector('table[data-rows] thead').setAttribute('data-kept', '');
      let n = 0;
      document.querySelectorAll('table[data-rows] tbody tr').forEach((tr) => {
        if (tr.getAttribute('data-ref') === ref) tr.setAttribute('data-before', '');
        else { tr.setAttribute('data-kept', ''); n++; }
      });
      return n;
    }, CASE);

    // Social care: log in (another page, the same browser), raise a disagreement.
    const social = await ctx.newPage();
    watch(social, 'social_care');
    await login(social, 'social_care', 'AW');
    await social.goto(url('social_care', `/cases/${CASE}/forms/disagreement`));
    const option = social.locator('select[name="refers_to"] option', { hasText: 'Breakfast club (School)' });
    for (let i = 0; i < 40 && (await option.count()) === 0; i++) {
      await social.waitForTimeout(500); // the decision is still on its way to social care
      await social.reload();
    }
    if ((await option.count()) === 0) fail('the school decision never reached social care');
    await social.getByLabel('Decision challenged').selectOption({ label: 'Breakfast club (School)' });
    await social.getByLabel('Urgent (the child may be at risk now)').check();
    await social.getByLabel('Topic').fill('Breakfast club');
    await social.getByLabel('What was decided or assessed').fill('Breakfast club every day');
    await social.getByLabel('What you propose').fill('A family support worker for mornings');
    await social.getByLabel(/^Why/).fill('The problem is at home before school.');
    await social.getByLabel('Is the child safe now?').fill('Yes, in school today.');
    // The child's and the family's views, or why each is absent: here the child is not yet asked.
    await social.locator('select[name="body.disagreement.child_view_absent.reason"]').selectOption('not_yet_asked');
    await social.locator('input[name="body.disagreement.child_view_absent.ask_by_date"]').fill('2027-01-08');
    await social.getByLabel("The family's view").fill('Mother says mornings are the hardest.');
    await Promise.all([social.waitForURL(/published=/), social.getByRole('button', { name: 'Raise a disagreement' }).click()]);
    await social.getByText(/Shared: the broker accepted your event/).waitFor();
    await social.screenshot({ path: path.join(SHOTS, '04-social-care-disagreement-sent.png'), fullPage: true });
    // AW is the lead professional and social care's practitioner: stage 1 (practitioners) of an
    // escalation social care is a party to is marked theirs in the inbox.
    const inbox = await ctx.newPage();
    watch(inbox, 'social_care');
    const yours = inbox.locator('table[data-rows] tbody tr', { hasText: 'yours' });
    for (let i = 0; i < 40 && (await yours.count()) === 0; i++) {
      await inbox.goto(url('social_care', '/inbox'));
      if ((await yours.count()) === 0) await inbox.waitForTimeout(500); // the notice is on its way
    }
    if ((await yours.count()) === 0) fail("the lead professional's inbox marks nothing theirs");
    await inbox.close();

    // The school's My cases tab: the case's row was replaced in place, nothing else was.
    await schoolCases.locator(`table[data-rows] tbody tr[data-ref="${CASE}"][data-live-updated]`).waitFor({ timeout: 30000 });
    const patched = await schoolCases.evaluate((ref) => ({
      reloaded: window.__notReloaded !== true,
      head: !!document.querySelector('table[data-rows] thead[data-kept]'),
      kept: document.querySelectorAll('table[data-rows] tbody tr[data-kept]').length,
      stale: document.querySelectorAll(`tr[data-ref="${ref}"][data-before]`).length,
      rows: document.querySelectorAll(`tr[data-ref="${ref}"]`).length,
    }), CASE);
    if (patched.reloaded || !patched.head) fail('My cases was reloaded or redrawn, not patched');
    if (patched.kept !== otherRows || patched.stale !== 0 || patched.rows !== 1)
      fail(`My cases: not exactly one row patched: ${JSON.stringify(patched)} (other rows before: ${otherRows})`);
    // Announced, as news from social care (or the broker's notice that follows it at once).
    await schoolCases.locator('#live-status', { hasText: /New on .*: (Social care raised an urgent disagreement about Breakfast club|Escalation opened)/ }).waitFor({ timeout: 15000 });
    await schoolCases.bringToFront(); // a background tab renders no frame to capture
    await schoolCases.screenshot({ path: path.join(SHOTS, '04b-school-my-cases-row-patched.png'), fullPage: true });
    console.log(`browser: My cases patched one row live (${otherRows} other row(s) untouched)`);
    await schoolCases.close();

    // Back at the school: the challenge arrives without a reload.
    await school.bringToFront();
    await school.locator('#escalations', { hasText: /Raised by\s*Social care/ }).waitFor({ timeout: 30000 });
    // The status line tells the newest event in words: the disagreement, or the broker's notice
    // that follows it within milliseconds now that escalation is live.
    await school.locator('#live-status', { hasText: /New on .*: (Social care raised an urgent disagreement about Breakfast club|Escalation opened)/ }).waitFor({ timeout: 15000 });
    if (!(await school.evaluate(() => window.__notReloaded === true))) fail('the school page reloaded');
    // The broker's OPENED notice: stage 1 with its deadline, still without a reload.
    await school.locator('#escalations [data-deadline]').first().waitFor({ timeout: 30000 });
    if (!(await school.evaluate(() => window.__notReloaded === true))) fail('the school page reloaded');
    const deadline = await school.locator('#escalations [data-deadline]').count();
    console.log(`browser: escalation live at the school with ${deadline} deadline(s) shown`);
    await school.screenshot({ path: path.join(SHOTS, '05-school-live-escalation.png'), fullPage: true });
    // Inbox and a tablet-sized view.
    await school.setViewportSize({ width: 820, height: 1180 });
    await school.goto(url('school', '/inbox'));
    await school.getByRole('heading', { name: 'Escalations inbox' }).waitFor();
    // The school is a party: its DSL sees the escalation, with a way to respond.
    await school.getByRole('link', { name: 'Respond' }).first().waitFor();
    // Each row says what it is about, how urgent it is and who must act.
    await school.locator('tbody tr', { hasText: /Breakfast club.*Urgent.*1 of 4.* at (School|Social care)/ }).first().waitFor();
    await school.screenshot({ path: path.join(SHOTS, '06-school-inbox-tablet.png'), fullPage: true });
    await audit(school, 'inbox');
    // My cases filtered to open escalations (answered from the index's escalation facts) lists
    // the case, with its deadline ticking.
    await school.goto(url('school', '/?esc=1'));
    await school.locator(`table[data-rows] tbody tr[data-ref="${CASE}"] [data-deadline]`).first().waitFor();
    // The outbox: nothing waiting, every event accepted.
    await school.goto(url('school', '/outbox'));
    await school.getByText('Nothing waiting: the broker accepted every event this agency sent.').waitFor();

    // A lead's day at social care: record consent, ask for and schedule a meeting, record its
    // outcome with an action, tick the action done, hand the lead to the school. Each form goes
    // through the publish path and the case page tells the event as a sentence.
    await social.bringToFront();
    const caseUrl = url('social_care', `/cases/${CASE}`);
    async function send(page, form, fill, button, sentence) {
      await page.goto(url('social_care', `/cases/${CASE}/forms/${form}`));
      await fill(page);
      await Promise.all([page.waitForURL(/published=/), page.getByRole('button', { name: button }).click()]);
      await page.getByText(/Shared: the broker accepted your event/).waitFor();
      await page.locator('#timeline', { hasText: sentence }).waitFor({ timeout: 15000 });
    }
    const field = (page, name) => page.locator(`[name="${name}"]`);
    await send(social, 'consent_recorded', async (p) => {
      await field(p, 'body.consent_recorded.state').selectOption('given');
      await field(p, 'body.consent_recorded.given_by').selectOption('mother');
      await field(p, 'body.consent_recorded.scope[0]').selectOption('routine');
      await field(p, 'body.consent_recorded.recorded_date').fill('2026-12-01');
    }, 'Record consent', /Social care recorded that consent was given by the mother/);
    await social.screenshot({ path: path.join(SHOTS, '07-social-care-consent.png'), fullPage: true });
    await audit(social, 'case page');
    await send(social, 'meeting_requested', async (p) => {
      await field(p, 'body.meeting_requested.purpose').fill('Review of the morning routine');
    }, 'Request a network meeting', /Social care asked for a meeting about Review of the morning routine/);
    await social.goto(caseUrl);
    await social.locator('article.meeting', { hasText: 'Review of the morning routine' })
      .getByRole('link', { name: 'Schedule it' }).click();
    await field(social, 'body.meeting_scheduled.starts_at_ms').fill(`${TODAY}T09:00`);
    await field(social, 'body.meeting_scheduled.mode').selectOption('in_person');
    await Promise.all([social.waitForURL(/published=/), social.getByRole('button', { name: 'Schedule a meeting' }).click()]);
    await social.locator('#timeline', { hasText: /Social care scheduled a meeting in person/ }).waitFor({ timeout: 15000 });
    await social.locator('article.meeting', { hasText: 'Review of the morning routine' })
      .getByRole('link', { name: 'Record the outcome' }).click();
    await field(social, 'body.meeting_outcome.held_date').fill(TODAY); // not in the future
    await field(social, 'body.meeting_outcome.actions[0].description').fill('Walk to school together on Mondays');
    await field(social, 'body.meeting_outcome.actions[0].owner_agency').selectOption('school');
    await field(social, 'body.meeting_outcome.actions[0].owner_initials').fill('DL');
    await field(social, 'body.meeting_outcome.actions[0].due_date').fill('2026-12-20');
    await field(social, 'body.meeting_outcome.child_view_absent.reason').selectOption('too_young');
    await field(social, 'body.meeting_outcome.family_view').fill('Mornings are easier with a plan');
    await Promise.all([social.waitForURL(/published=/), social.getByRole('button', { name: 'Record a meeting' }).click()]);
    await social.locator('#timeline', { hasText: /Social care recorded what a meeting decided: 0 decisions, 1 action/ }).waitFor({ timeout: 15000 });
    await social.screenshot({ path: path.join(SHOTS, '08-social-care-meeting.png'), fullPage: true });
    await social.locator('#meetings li', { hasText: 'Walk to school together on Mondays' })
      .getByRole('link', { name: 'Update' }).last().click();
    await field(social, 'body.action_update.status').selectOption('done');
    await Promise.all([social.waitForURL(/published=/), social.getByRole('button', { name: 'Update an action' }).click()]);
    await social.locator('#timeline', { hasText: /Social care marked an action done/ }).waitFor({ timeout: 15000 });
    // The meeting's own list and All actions agree once it is done.
    await social.locator('#meetings li', { hasText: /Walk to school together on Mondays.*done/ }).first().waitFor();
    await send(social, 'lead_handover', async (p) => {
      await field(p, 'subject_agency').selectOption('school');
      await field(p, 'body.lead_handover.new_lead.initials').fill('DL');
      await field(p, 'body.lead_handover.reason').fill('The school sees the child every day.');
    }, 'Hand over the lead', /Social care offered the lead professional role to the school/);
    await social.screenshot({ path: path.join(SHOTS, '09-social-care-handover.png'), fullPage: true });
    await social.goto(url('social_care', `/cases/${CASE}/forms/meeting_outcome`));
    await audit(social, 'meeting outcome form');
    await social.goto(url('social_care', '/'));
    await audit(social, 'my cases');
    console.log('browser: axe-core, no serious or critical violations on ' + audited.join(', '));
    console.log('browser: a lead\'s day recorded: consent, meeting scheduled and held, action done, lead handed over');

    if (errors.length) fail('console errors:\n' + errors.join('\n'));
    console.log(`browser: passed; screenshots in ${SHOTS}`);
  } catch (e) {
    if (errors.length) e.message += '\nconsole errors:\n' + errors.join('\n');
    if (ctx) {
      for (const [i, p] of ctx.pages().entries())
        await p.screenshot({ path: path.join(SHOTS, `failed-page-${i}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  } finally {
    if (ctx) await ctx.close();
    await stopSystem(sys);
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error('browser: FAILED:', e.message); process.exit(1); });
