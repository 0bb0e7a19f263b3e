/**
 * Wire line → code, one table per protocol, with Exchange Online's exact lines
 * (o365-facts.md §1.2–§1.4). The probes' tests check the same codes end to end.
 */
import {
  imapCode,
  imapflowErrorCode,
  nodemailerErrorCode,
  parseImapStatus,
  parseSmtpReply,
  pop3Code,
  smtpCode,
  tlsFailureCode,
} from '../../src/probes/mail-codes';

describe('IMAP', () => {
  test.each([
    ['AUTHENTICATE', 'A01 OK AUTHENTICATE completed.', 'OK'],
    ['AUTHENTICATE', 'A01 NO AUTHENTICATE failed.', 'AUTH_FAILED'],
    ['AUTHENTICATE', '3 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)', 'AUTH_FAILED'],
    ['SELECT', 'A02 BAD User is authenticated but not connected.', 'AUTHENTICATED_NOT_CONNECTED'],
    ['NAMESPACE', '6 BAD User is authenticated but not connected.', 'AUTHENTICATED_NOT_CONNECTED'],
    ['LIST', '* BYE Session invalidated - AccessTokenExpired', 'TOKEN_EXPIRED_SESSION'],
    ['LOGOUT', '* BYE Microsoft Exchange Server 2016 IMAP4 server signing off.', 'OK'],
    ['LIST', 'A03 BAD Command Argument Error. 12', 'PROTOCOL_ERROR'],
    ['LIST', '* LIST (\\HasNoChildren) "/" INBOX', 'OK'],
    // RFC 5530 response codes decide before the command: only two are about the credentials.
    ['AUTHENTICATE', "A01 NO [UNAVAILABLE] User's backend down for maintenance", 'MAIL_TEMPORARY'],
    ['AUTHENTICATE', "A01 NO [EXPIRED] That password isn't valid any more", 'AUTH_FAILED'],
    [
      'AUTHENTICATE',
      'A01 NO [AUTHORIZATIONFAILED] No such authorization-ID',
      'MAILBOX_ACCESS_DENIED',
    ],
    ['AUTHENTICATE', 'A01 NO [PRIVACYREQUIRED] Connection offers no privacy', 'MAIL_TLS_REQUIRED'],
    ['AUTHENTICATE', 'A01 NO [CONTACTADMIN]', 'MAIL_CONTACT_ADMIN'],
    ['EXAMINE', 'A02 NO [NOPERM] Access denied', 'MAILBOX_ACCESS_DENIED'],
    ['EXAMINE', 'A02 NO [INUSE] Mailbox in use', 'MAILBOX_IN_USE'],
    ['LIST', 'A03 NO [SERVERBUG] This should not happen', 'MAIL_SERVER_FAILURE'],
    ['AUTHENTICATE', 'A01 NO [CLIENTBUG] Bad base64', 'PROTOCOL_ERROR'],
    ['GREETING', '* BYE [UNAVAILABLE] Server shutting down', 'MAIL_TEMPORARY'],
  ])('%s answered %j is %s', (command, line, code) => {
    expect(imapCode(command, line)).toBe(code);
  });

  test('parses tag, status, response code and text', () => {
    expect(parseImapStatus('A1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)')).toEqual({
      tag: 'A1',
      status: 'NO',
      responseCode: 'AUTHENTICATIONFAILED',
      text: 'Invalid credentials (Failure)',
    });
  });

  test.each([
    [{ code: 'CONNECT_TIMEOUT' }, 'CONNECT_TIMEOUT'],
    [{ code: 'GREETING_TIMEOUT' }, 'GREETING_TIMEOUT'],
    [{ code: 'ETIMEOUT' }, 'TIMEOUT'],
    [{ code: 'ECONNREFUSED' }, 'CONNECT_REFUSED'],
    [
      { code: 'NoConnection', reason: 'Session invalidated - AccessTokenExpired' },
      'TOKEN_EXPIRED_SESSION',
    ],
    [
      {
        authenticationFailed: true,
        response: '3 NO AUTHENTICATE failed.',
        executedCommand: '3 AUTHENTICATE XOAUTH2 "(* value hidden *)"',
      },
      'AUTH_FAILED',
    ],
    [{ response: 'User is authenticated but not connected.' }, 'AUTHENTICATED_NOT_CONNECTED'],
  ])('imapflow error %j is %s', (err, code) => {
    expect(imapflowErrorCode(err)).toBe(code);
  });
});

describe('POP3', () => {
  test.each([
    ['greeting', '+OK The Microsoft Exchange POP3 service is ready. []', 'OK'],
    ['auth-start', '+ ', 'OK'],
    ['auth-start', '-ERR Protocol error. 14', 'XOAUTH2_NOT_OFFERED'],
    ['auth', '+OK User successfully authenticated.', 'OK'],
    ['auth', '-ERR Authentication failure: unknown user name or bad password.', 'AUTH_FAILED'],
    ['stat', '-ERR [AUTH] not logged in', 'AUTH_FAILED'],
    ['stat', '-ERR Command is not valid in this state.', 'PROTOCOL_ERROR'],
    ['capa', 'HELLO', 'PROTOCOL_ERROR'],
    // RFC 2449 §8 and RFC 3206 response codes decide whatever the phase.
    ['auth', '-ERR [SYS/TEMP] Temporary authentication failure', 'MAIL_TEMPORARY'],
    ['auth', '-ERR [SYS/PERM] Permanent system failure', 'MAIL_SERVER_FAILURE'],
    ['auth', '-ERR [IN-USE] Do you have another POP session running?', 'MAILBOX_IN_USE'],
    ['auth', '-ERR [LOGIN-DELAY] wait longer between logins', 'MAIL_TEMPORARY'],
    ['auth-start', '-ERR [SYS/TEMP/DB] database down', 'MAIL_TEMPORARY'],
  ] as const)('%s answered %j is %s', (phase, line, code) => {
    expect(pop3Code(phase, line)).toBe(code);
  });
});

describe('SMTP', () => {
  test.each([
    ['AUTH', '235 2.7.0 Authentication successful', 'OK'],
    [
      'AUTH',
      '535 5.7.3 Authentication unsuccessful [SN4PR0201CA0068.namprd02.prod.outlook.com]',
      'AUTH_FAILED',
    ],
    [
      'AUTH',
      '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
      'SMTP_AUTH_DISABLED_TENANT',
    ],
    [
      'AUTH',
      '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.',
      'SMTP_AUTH_DISABLED',
    ],
    [
      'AUTH',
      "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
      'SMTP_SECURITY_DEFAULTS',
    ],
    // RFC 4954 §6: a temporary failure of AUTH is not a verdict on the token.
    ['AUTH', '454 4.7.0 Temporary authentication failure', 'MAIL_TEMPORARY'],
    [
      'AUTH',
      '421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support TLS 1.2. Visit https://aka.ms/smtp_auth_tls. [SA9P221CA0019.NAMP221.PROD.OUTLOOK.COM]',
      'MAIL_TLS_VERSION_REFUSED',
    ],
    ['CONNECT', '421 4.3.2 Service not available, closing transmission channel', 'MAIL_TEMPORARY'],
    [
      'DATA',
      '430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed',
      'MAILBOX_ACCESS_DENIED',
    ],
    ['MAIL', '530 5.7.57 Client not authenticated to send mail.', 'SMTP_NOT_AUTHENTICATED'],
    ['MAIL', '530 5.7.0 Must issue a STARTTLS command first', 'MAIL_TLS_REQUIRED'],
    ['AUTH', '535 5.7.8 Authentication credentials invalid', 'AUTH_FAILED'],
    [
      'AUTH',
      '535 5.7.139 Authentication unsuccessful, basic authentication is disabled.',
      'SMTP_BASIC_AUTH_DISABLED',
    ],
    [
      'AUTH',
      '535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.',
      'SMTP_BLOCKED_BY_POLICY',
    ],
    [
      'AUTH',
      '535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.',
      'AUTH_FAILED',
    ],
    ['AUTH', '504 5.7.4 Unrecognized authentication type', 'XOAUTH2_NOT_OFFERED'],
    [
      'AUTH',
      '550 5.7.30 Basic authentication is not supported for Client Submission.',
      'SMTP_BASIC_AUTH_DISABLED',
    ],
    [
      'DATA',
      '554 5.2.252 SendAsDenied; a@example.com not allowed to send as b@example.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied',
      'SEND_AS_DENIED',
    ],
    [
      'DATA',
      '554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied',
      'SEND_AS_DENIED',
    ],
    [
      'MAIL',
      '550 5.7.60 SMTP; Client does not have permissions to send as this sender',
      'SEND_AS_DENIED',
    ],
    ['RCPT', '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found', 'SEND_REJECTED'],
    ['STARTTLS', '454 4.7.0 TLS not available due to local problem', 'STARTTLS_UNAVAILABLE'],
    ['CONNECT', 'hello there', 'PROTOCOL_ERROR'],
  ] as const)('%s answered %j is %s', (command, reply, code) => {
    expect(smtpCode(command, reply)).toBe(code);
  });

  test('splits status, enhanced code and text, over several lines', () => {
    expect(parseSmtpReply('250-a.example Hello [1.2.3.4]\n250 2.0.0 SMTPUTF8')).toEqual({
      status: 250,
      text: 'a.example Hello [1.2.3.4] SMTPUTF8',
    });
    expect(parseSmtpReply('535 5.7.3 Authentication unsuccessful')).toEqual({
      status: 535,
      enhanced: '5.7.3',
      text: 'Authentication unsuccessful',
    });
  });

  test.each([
    [{ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT' }, false, 'GREETING_TIMEOUT'],
    [{ code: 'ETIMEDOUT', timeoutType: 'UPGRADE_TIMEOUT' }, true, 'TIMEOUT'],
    [{ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }, false, 'CONNECT_REFUSED'],
    [
      { code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED', command: 'CONN' },
      true,
      'TLS_CERT_EXPIRED',
    ],
    [
      { code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN' },
      true,
      'TLS_HANDSHAKE_FAILED',
    ],
    [
      { code: 'EAUTH', response: '535 5.7.3 Authentication unsuccessful', command: 'AUTH XOAUTH2' },
      false,
      'AUTH_FAILED',
    ],
    [{ code: 'ECONNECTION', command: 'CONN' }, false, 'CONNECT_RESET'],
  ])('nodemailer error %j (TLS started: %s) is %s', (err, tlsStarted, code) => {
    expect(nodemailerErrorCode(err, tlsStarted)).toBe(code);
  });
});

describe('TLS', () => {
  test.each([
    ['CERT_HAS_EXPIRED', 'TLS_CERT_EXPIRED'],
    ['CERT_NOT_YET_VALID', 'TLS_CERT_EXPIRED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS_CERT_INVALID'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'TLS_CERT_INVALID'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS_CERT_INVALID'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'TLS_HANDSHAKE_FAILED'],
    ['ECONNRESET', 'TLS_HANDSHAKE_FAILED'],
    [undefined, 'TLS_HANDSHAKE_FAILED'],
  ])('%s is %s', (sysCode, code) => {
    expect(tlsFailureCode(sysCode)).toBe(code);
  });
});
