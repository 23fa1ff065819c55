// FHIR test (make test-browser, after the dashboard test): starts the system as `make run` does
// with the whole attendance-to-escalation scenario, then reads the scenario's case from each
// agency that holds it as GET /api/v1/fhir/Bundle/REF (an API token each) and validates it
// against the FHIR R4 JSON schema with @d4l/js-fhir-validator (AJV validators compiled from the
// official schema): the Bundle with its entries removed by the Bundle validator, each entry's
// resource by its own type's. Also checks that every resource type of the view is there, that
// the subject is the reference and initials only, and that none of the family's registered
// names (the scenario's `school register`) appears. Run by hand with TACNET_FHIR_BREAK=1, it
// spoils one resource first and must fail.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, BIN, url, startSystem, stopSystem } = require('./system');

const CASE = 'LA7-2026-000123';
const PASSWORD = 'browser-demo-2026';
const TYPES = ['CareTeam', 'CarePlan', 'Goal', 'Consent', 'Encounter', 'Observation', 'Communication'];

function fail(msg) { throw new Error(msg); }

function validatorFor(type) {
  return require(`@d4l/js-fhir-validator/r4/js/${type}`);
}

// Every complaint of the validators about BUNDLE, as lines; none when it is valid FHIR R4.
function problems(bundle) {
  const out = [];
  const check = (type, resource, where) => {
    const v = validatorFor(type);
    if (!v(resource)) out.push(`${where} (${type}): ` + JSON.stringify(v.errors.slice(0, 3)));
  };
  const bare = Object.assign({}, bundle);
  delete bare.entry;
  check('Bundle', bare, 'the bundle');
  (bundle.entry || []).forEach((e, i) => {
    if (!e.fullUrl || !/^urn:uuid:[0-9a-f-]{36}$/.test(e.fullUrl)) out.push(`entry ${i}: fullUrl ${e.fullUrl}`);
    const t = e.resource && e.resource.resourceType;
    if (!TYPES.includes(t)) out.push(`entry ${i}: unexpected resource type ${t}`);
    else check(t, e.resource, `entry ${i}`);
  });
  return out;
}

// The family's names as the scenario registers them (each word of each name).
function registeredNames(scenarioText) {
  const names = [];
  for (const line of scenarioText.split('\n')) {
    if (!/^school register /.test(line)) continue;
    for (const m of line.matchAll(/'([^']+)'/g)) names.push(...m[1].split(/\s+/));
  }
  return names;
}

async function main() {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tacnet-fhir-run-'));
  const scenario = path.join(ROOT, 'deploy/scenarios/attendance-to-escalation.txt');
  const names = registeredNames(fs.readFileSync(scenario, 'utf8'));
  if (!names.length) fail('the scenario registers no names: the name check would prove nothing');
  let sys;
  try {
    sys = await startSystem(runDir, scenario, PASSWORD);
    const seen = new Set();
    for (const agency of ['social_care', 'school', 'camhs']) {
      const token = execFileSync(path.join(BIN, 'tacnet'),
        ['token', 'add', '--agency', agency, '--system', 'fhir-test'],
        { env: Object.assign({}, process.env, { TACNET_HOME: runDir }) }).toString().trim();
      const res = await fetch(url(agency, `/api/v1/fhir/Bundle/${CASE}`),
        { headers: { Authorization: `Bearer ${token}` } });
      const text = await res.text();
      if (res.status !== 200) fail(`${agency}: ${res.status} ${text}`);
      if (!/^application\/fhir\+json/.test(res.headers.get('content-type') || '')) fail(`${agency}: content type ${res.headers.get('content-type')}`);
      for (const n of names) if (text.includes(n)) fail(`${agency}: the registered name "${n}" is in the bundle`);
      const bundle = JSON.parse(text);
      if (process.env.TACNET_FHIR_BREAK) bundle.entry[0].resource.status = 'not-a-status';
      const bad = problems(bundle);
      if (bad.length) fail(`${agency}: not valid FHIR R4:\n` + bad.join('\n'));
      if (bundle.type !== 'collection') fail(`${agency}: bundle type ${bundle.type}`);
      for (const e of bundle.entry) {
        const r = e.resource;
        seen.add(r.resourceType);
        const subject = r.subject || r.patient;
        if (subject && !/^LA7-2026-000123 \([A-Z]{2,4}\)$/.test(subject.display)) fail(`${agency}: subject ${JSON.stringify(subject)}`);
      }
      const counts = {};
      for (const e of bundle.entry) counts[e.resource.resourceType] = (counts[e.resource.resourceType] || 0) + 1;
      console.log(`fhir: ${agency}: valid FHIR R4, ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', '));
    }
    for (const t of TYPES) if (!seen.has(t)) fail(`no agency's bundle has a ${t}`);
    console.log('fhir: passed');
  } finally {
    await stopSystem(sys);
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error('fhir: FAILED:', e.message); process.exit(1); });
