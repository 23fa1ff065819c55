// The system as `make run` starts it (scripts/run-local.sh and a scenario), in its own temp dir
// and on random ports, for the browser tests (dashboard.test.js, fhir.test.js).
'use strict';
const { spawn } = require('child_process');
const path = require('path');

const ROOT = path.resolve(__dirname, '../..');
const BIN = process.env.TACNET_BIN || path.join(ROOT, 'build/default/bin');
const BASE = 8600 + Math.floor(Math.random() * 300) * 5;
const BROKER_PORT = 17000 + Math.floor(Math.random() * 2000);
const PORT = { camhs: 1, school: 2, health_visiting: 3, social_care: 4 };
const url = (agency, p) => `http://127.0.0.1:${BASE + PORT[agency]}${p}`;

// Starts run-local.sh with RUNDIR and SCENARIO (PASSWORD for the demo log-ins); resolves with
// { child, out } once everything is up. Stop it with stopSystem.
function startSystem(runDir, scenario, password) {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'scripts/run-local.sh'), [BIN], {
      cwd: ROOT, detached: true,
      env: Object.assign({}, process.env, {
        TACNET_RUN: runDir, TACNET_HTTP_BASE: String(BASE), TACNET_BROKER_PORT: String(BROKER_PORT),
        TACNET_DEMO_PASSWORD: password, TACNET_SCENARIO: scenario,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error('make run did not come up:\n' + out)), 180000);
    const onData = (d) => {
      out += d;
      if (out.includes('run: everything is up')) { clearTimeout(timer); resolve({ child, out }); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`run-local exited ${code}:\n${out}`)); });
  });
}

async function stopSystem(sys) {
  if (!sys) return;
  try { process.kill(-sys.child.pid, 'SIGTERM'); } catch (e) { /* already gone */ }
  await new Promise((r) => setTimeout(r, 1500));
}

module.exports = { ROOT, BIN, BASE, url, startSystem, stopSystem };
