/**
 * The inventory's `alerts` (docs/on-call.md): a bad escalation target, duration, window or
 * time zone is refused at load with the file, the line, the field and how to fix it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/inventory/errors';
import { loadInventory } from '../../src/inventory/load';

const BASE = `environments:
  prod:
    ece: { version: "12.6(1)", es: 1, externalUrl: https://ece.example.com }
    servers:
      - { name: services-1, role: services }
    tenant: { id: 00000000-0000-0000-0000-000000000000 }
    app: { clientId: 11111111-1111-1111-1111-111111111111, secret: env:ECE_APP_SECRET }
    mailboxes:
      - { address: support@example.com, access: mailbox, retrieve: imap }
    alerts:
`;

function write(alerts: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecebot-alerts-'));
  const p = join(dir, 'inv.yaml');
  writeFileSync(p, BASE + alerts);
  return p;
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

describe('alerts in the inventory', () => {
  test('a full on-call block loads', () => {
    const inv = loadInventory(
      write(`      escalateTo: "19:abc123@thread.tacv2"
      escalateAfter: 30m
      reminder: 4h
      maintenance:
        - { days: [sat, sun], from: "22:00", to: "02:00", tz: Europe/Amsterdam }
`),
    );
    expect(inv.environments.get('prod')?.alerts?.maintenance?.[0]?.tz).toBe('Europe/Amsterdam');
  });

  test.each([
    [
      'a conversation name instead of its id',
      '      escalateTo: "Mail Ops > Escalations"\n',
      'environments.prod.alerts.escalateTo',
      /conversation id as Teams sends it/,
    ],
    [
      'escalateAfter without a target',
      '      escalateAfter: 30m\n',
      'environments.prod.alerts.escalateTo',
      /escalateAfter needs escalateTo/,
    ],
    [
      'a duration without a unit',
      '      escalateTo: "19:abc@thread.tacv2"\n      escalateAfter: "30"\n',
      'environments.prod.alerts.escalateAfter',
      /duration like 30m, 4h or 1d/,
    ],
    [
      'a time zone Intl does not know',
      '      maintenance:\n        - { days: [sat], from: "22:00", to: "02:00", tz: CET+1 }\n',
      'environments.prod.alerts.maintenance.0.tz',
      /IANA time zone like Europe\/Amsterdam/,
    ],
    [
      'a window of no length',
      '      maintenance:\n        - { days: [sat], from: "22:00", to: "22:00", tz: UTC }\n',
      'environments.prod.alerts.maintenance.0.to',
      /needs a length/,
    ],
    [
      'a day spelled out',
      '      maintenance:\n        - { days: [saturday], from: "22:00", to: "23:00", tz: UTC }\n',
      'environments.prod.alerts.maintenance.0.days.0',
      /./,
    ],
    [
      'a time past 23:59',
      '      maintenance:\n        - { days: [sat], from: "24:00", to: "01:00", tz: UTC }\n',
      'environments.prod.alerts.maintenance.0.from',
      /time like 22:00/,
    ],
  ])('%s is refused at load, naming the field', (_name, alerts, field, message) => {
    const path = write(alerts);
    const err = errorOf(() => loadInventory(path));
    expect(err.file).toBe(path);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.line).toBeGreaterThan(9);
  });
});
