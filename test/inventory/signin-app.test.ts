/**
 * The inventory settings for ecebot's own sign-in app (`signin.clientId`) and ECE's certificate
 * credential (`app.certificate`): a sign-in app that is ECE's own is refused where it is written
 * (ecebot's sign-in needs a public client; ECE's Web app is refused the device flow with
 * AADSTS7000218, o365-facts.md §2.3), and a certificate that cannot be used stops the run before
 * any probe, saying what is wrong and never the key.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '../../src/lab/ca';
import { InputError } from '../../src/inventory/errors';
import { loadInventory, pickEnvironment } from '../../src/inventory/load';
import { prepareRun } from '../../src/runner/prepare';

const APP = '11111111-1111-1111-1111-111111111111';
const SIGNIN = '22222222-2222-2222-2222-222222222222';

function inventory(appLine: string, extra = ''): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-signin-'));
  const path = join(dir, 'inv.yaml');
  writeFileSync(
    path,
    `environments:
  prod:
    ece: { version: "12.6(1)", es: 1 }
    servers:
      - { name: services-1, role: services }
    tenant: { id: 00000000-0000-0000-0000-000000000000 }
${appLine}
${extra}    mailboxes:
      - { address: support@example.com, access: mailbox, retrieve: imap }
`,
  );
  return { dir, path };
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

test('signin.clientId is read, and ECE’s own app id is refused there with the reason', () => {
  const ok = inventory(
    `    app: { clientId: ${APP}, secret: env:S }`,
    `    signin: { clientId: ${SIGNIN} }\n`,
  );
  expect(pickEnvironment(loadInventory(ok.path), 'prod', ok.path).signin).toEqual({
    clientId: SIGNIN,
  });
  const same = inventory(
    `    app: { clientId: ${APP}, secret: env:S }`,
    `    signin: { clientId: ${APP.toUpperCase()} }\n`,
  );
  const err = errorOf(() => loadInventory(same.path));
  expect(err.field).toBe('environments.prod.signin.clientId');
  expect(err.message).toMatch(/ECE's own app.*public-client app registration/);
  expect(err.line).toBe(8);
  const secret = inventory(
    `    app: { clientId: ${APP}, secret: env:S }`,
    `    signin: { clientId: ${SIGNIN}, secret: env:X }\n`,
  );
  // A public client has no secret: the field does not exist.
  expect(errorOf(() => loadInventory(secret.path)).message).toMatch(/unknown field secret/);
});

test('app.certificate is resolved and checked before a run; a mismatched key is a clear error', () => {
  const ca = createCa();
  const mine = ca.issue({ names: ['ece-client.example.com'] });
  const other = ca.issue({ names: ['other.example.com'] });
  const { dir, path } = inventory(
    `    app: { clientId: ${APP}, certificate: { cert: file:cert.pem, key: file:key.pem } }`,
  );
  writeFileSync(join(dir, 'cert.pem'), mine.certPem);
  writeFileSync(join(dir, 'key.pem'), mine.keyPem);
  const inv = loadInventory(path);
  const run = prepareRun(pickEnvironment(inv, 'prod', path), inv, { vars: {} });
  expect(run.secrets.appCertificate?.x5tS256).toMatch(/^[A-Za-z0-9_-]{43}$/);
  // The key is a secret of the run: redacted wherever it could appear.
  expect(run.redactor.text(mine.keyPem)).not.toContain(mine.keyPem.split('\n')[1]);

  writeFileSync(join(dir, 'key.pem'), other.keyPem);
  const err = errorOf(() => prepareRun(pickEnvironment(inv, 'prod', path), inv, { vars: {} }));
  expect(err.message).toBe(
    'app.certificate cannot be used: the key does not belong to the certificate',
  );
  expect(err.field).toBe('environments.prod.app.certificate');
  expect(err.describe()).not.toContain(other.keyPem.split('\n')[1]!);

  writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
  expect(
    errorOf(() => prepareRun(pickEnvironment(inv, 'prod', path), inv, { vars: {} })).message,
  ).toMatch(/not a PEM X.509 certificate/);
});
