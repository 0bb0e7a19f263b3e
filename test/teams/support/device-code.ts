/**
 * The lab's stand-in for a person entering a device code at the verification URL (RFC 8628
 * §3.3): POST the code and the account to the lab's Entra page, as its form would.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';

/** Approve `userCode` as `upn` at the lab's verification `url`; resolves to the HTTP status. */
export function approveDeviceCode(
  url: string,
  userCode: string,
  upn: string,
  caFile: string,
): Promise<number> {
  const u = new URL(url);
  const body = new URLSearchParams({ user_code: userCode, upn, action: 'approve' }).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: Number(u.port),
        servername: u.hostname,
        ca: readFileSync(caFile, 'utf8'),
        method: 'POST',
        path: u.pathname,
        agent: false,
        headers: {
          host: u.host,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
