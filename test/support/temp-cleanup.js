/**
 * Every temporary folder a test file makes with mkdtempSync (inventories, secrets, CA files,
 * browser profiles, Dovecot instances) is removed when that file's tests are done, so a test run
 * leaves no `/tmp/ecebot-*` folder behind, secrets included. Only the folders this file's own
 * calls made are removed: test files run in parallel workers, and another's folders stay.
 */
/* global afterAll */
const fs = require('node:fs');

const made = [];
const original = fs.mkdtempSync;
fs.mkdtempSync = function mkdtempSyncRecorded(...args) {
  const dir = original.apply(this, args);
  made.push(dir);
  return dir;
};

afterAll(() => {
  fs.mkdtempSync = original;
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
