// Preloaded (`node --import`) into a server under study by bench/profile-gateway.ts.
// Each SIGUSR2 toggles a window: at its start the V8 CPU profiler starts and the
// SQLite statement counter resets; at its end the profile and the counts are written
// to $BENCH_PROBE_DIR as window-<n>.cpuprofile and window-<n>.queries.json, then
// window-<n>.done. Nothing is recorded outside a window.
import fs from 'node:fs';
import inspector from 'node:inspector';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.BENCH_PROBE_DIR;
if (!dir) throw new Error('probe: BENCH_PROBE_DIR is not set');

// Every SQL statement the app runs goes through Database#prepare (Kysely's SQLite driver prepares each query).
const Database = createRequire(path.join(process.cwd(), 'package.json'))('better-sqlite3');
const prepare = Database.prototype.prepare;
let counting = false;
let statements = new Map();
Database.prototype.prepare = function (sql, ...rest) {
  if (counting) statements.set(sql, (statements.get(sql) ?? 0) + 1);
  return prepare.call(this, sql, ...rest);
};

const session = new inspector.Session();
session.connect();
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));

let window = 0;
let open = false;
let busy = Promise.resolve();

async function toggle() {
  if (!open) {
    window++;
    statements = new Map();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 250 });
    await post('Profiler.start');
    counting = true;
    open = true;
    fs.writeFileSync(path.join(dir, `window-${window}.started`), '');
  } else {
    counting = false;
    open = false;
    const { profile } = await post('Profiler.stop');
    await post('Profiler.disable');
    fs.writeFileSync(path.join(dir, `window-${window}.cpuprofile`), JSON.stringify(profile));
    fs.writeFileSync(path.join(dir, `window-${window}.queries.json`), JSON.stringify(Object.fromEntries(statements)));
    fs.writeFileSync(path.join(dir, `window-${window}.done`), '');
  }
}

process.on('SIGUSR2', () => {
  busy = busy.then(toggle, toggle).catch((err) => process.stderr.write(`probe: ${err?.stack ?? err}\n`));
});
