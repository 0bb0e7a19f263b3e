/**
 * The XOAUTH2 SASL initial response Exchange Online expects for IMAP, POP3 and SMTP
 * (o365-facts.md §1.5, Microsoft's "Authenticate an IMAP, POP or SMTP connection using
 * OAuth"): base64("user=" + user + ^A + "auth=Bearer " + token + ^A + ^A), ^A being 0x01.
 * The result is a secret: it carries the access token. Never log it; Redactor masks it.
 */

const SOH = '\x01';

/** Build the base64 XOAUTH2 initial response for `user` and `accessToken`. */
export function xoauth2(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}${SOH}auth=Bearer ${accessToken}${SOH}${SOH}`, 'utf8').toString(
    'base64',
  );
}

/**
 * Decode the error challenge a server sends instead of accepting the token: base64 JSON such
 * as `{"status":"401","schemes":"bearer","scope":"…"}` (the XOAUTH2 error response, mirroring
 * RFC 7628 §3.2.2). Undefined when the text is empty or not base64 JSON.
 */
export function decodeOauthChallenge(text: string): Record<string, unknown> | undefined {
  const b64 = text.trim();
  if (!b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
