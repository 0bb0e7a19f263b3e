import { X509Certificate } from 'node:crypto';
import { createCa } from '../src/lab/ca';

test('lab CA issues leaves that verify against it, with the names asked for', () => {
  const ca = createCa();
  const leaf = ca.issue({ names: ['outlook.office365.com', '127.0.0.1'] });
  const x = new X509Certificate(leaf.certPem);
  const caX = new X509Certificate(ca.certPem);
  expect(x.verify(caX.publicKey)).toBe(true);
  expect(x.checkHost('outlook.office365.com')).toBe('outlook.office365.com');
  expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
  expect(x.checkHost('evil.example')).toBeUndefined();
});
