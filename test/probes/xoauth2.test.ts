import { decodeOauthChallenge, xoauth2 } from '../../src/probes/xoauth2';

describe('xoauth2', () => {
  test("matches Microsoft's test vector (o365-facts.md §1.5)", () => {
    expect(
      xoauth2('test@contoso.onmicrosoft.com', 'EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA'),
    ).toBe(
      'dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ==',
    );
  });

  test('frames user and token with ^A separators and a double ^A end', () => {
    const decoded = Buffer.from(xoauth2('a@b.example', 'tok'), 'base64').toString();
    expect(decoded).toBe('user=a@b.example\x01auth=Bearer tok\x01\x01');
  });
});

describe('decodeOauthChallenge', () => {
  test('decodes the base64 JSON a server sends instead of accepting the token', () => {
    const body = {
      status: '401',
      schemes: 'bearer',
      scope: 'https://outlook.office.com/IMAP.AccessAsUser.All',
    };
    expect(decodeOauthChallenge(Buffer.from(JSON.stringify(body)).toString('base64'))).toEqual(
      body,
    );
  });

  test.each([
    '',
    ' ',
    'not base64!',
    Buffer.from('[1,2]').toString('base64'),
    Buffer.from('plain').toString('base64'),
  ])('gives undefined for %j', text => {
    expect(decodeOauthChallenge(text)).toBeUndefined();
  });
});
