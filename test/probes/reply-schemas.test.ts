/**
 * The reply schemas of every Graph read and Exchange cmdlet, on replies in Microsoft's shape
 * and on replies with a judged field of another type. Graph samples are the response examples
 * of Microsoft's Graph v1.0 reference (microsoft-graph-docs: application-get, user-list-
 * licensedetails, oauth2permissiongrant-list, signin-list; passwordCredential and keyCredential
 * resource pages), shortened as the docs themselves shorten them; Exchange rows are the
 * InvokeCommand rows of o365-facts.md §3.5 as the lab serves them.
 */
import { credentialsOf } from '../../src/checklist/app-registration';
import { EXO_UNDERSTAND } from '../../src/probes/exo';
import { GRAPH_UNDERSTAND, type Understood } from '../../src/probes/graph';
import type { ReplyReading } from '../../src/probes/schemas/reply';
import type { ExoCmdletName, GraphResource } from '../../src/model';

/** application-get, example 1 (shortened), with a secret as passwordCredential documents it. */
const APPLICATION = {
  id: '03ef14b0-ca33-4840-8f4f-d6e91916010e',
  deletedDateTime: null,
  isFallbackPublicClient: null,
  appId: '631a96bc-a705-4eda-9f99-fdaf9f54f6a2',
  identifierUris: [],
  createdDateTime: '2019-09-17T19:10:35.2742618Z',
  displayName: 'Display name',
  signInAudience: 'AzureADandPersonalMicrosoftAccount',
  api: { requestedAccessTokenVersion: 2, oauth2PermissionScopes: [] },
  appRoles: [],
  publicClient: { redirectUris: [] },
  info: { termsOfServiceUrl: null, logoUrl: null },
  keyCredentials: [
    {
      customKeyIdentifier: 'ODNDNjVGRDFBRjMzNkM0NzIyQjYyRTlEQjI4MEY0RDAzN0QwNEVGQw==',
      displayName: 'CN=ece.contoso.com',
      endDateTime: '2027-01-01T00:00:00Z',
      key: null,
      keyId: 'b3a9c2f0-0e0c-4b59-9d7a-0c1b2a3d4e5f',
      startDateTime: '2025-01-01T00:00:00Z',
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
    },
  ],
  passwordCredentials: [
    {
      customKeyIdentifier: null,
      displayName: 'Password friendly name',
      endDateTime: '2021-09-09T19:50:29.3086381Z',
      hint: 'Y~t',
      keyId: '49539d35-c8c1-4e5a-a6a7-ae8d7f1d8d6a',
      secretText: null,
      startDateTime: '2019-09-09T19:50:29.3086381Z',
    },
  ],
  requiredResourceAccess: [],
  web: {
    redirectUris: [],
    homePageUrl: null,
    logoutUrl: null,
    implicitGrantSettings: { enableIdTokenIssuance: false, enableAccessTokenIssuance: false },
  },
};

/** application-get, example 2: `$select=id,appId,displayName,requiredResourceAccess`. */
const APPLICATION_SELECTED = {
  id: '7bec5fd1-a25f-474c-a6ca-5492082c6a9b',
  appId: '46e6adf4-a9cf-4b60-9390-0ba6fb00bf6b',
  displayName: 'PostmanWeb',
  requiredResourceAccess: [
    {
      resourceAppId: '00000003-0000-0000-c000-000000000000',
      resourceAccess: [
        { id: 'ad902697-1014-4ef5-81ef-2b4301988e8c', type: 'Scope' },
        { id: '7e823077-d88e-468f-a337-e18f1f0e6c7c', type: 'Scope' },
      ],
    },
  ],
};

/** A service principal with the properties serviceprincipal documents (shortened). */
const SERVICE_PRINCIPAL = {
  id: '263a5b01-03e5-408e-8557-bab681df104c',
  appId: '631a96bc-a705-4eda-9f99-fdaf9f54f6a2',
  displayName: 'Display name',
  accountEnabled: true,
  appRoleAssignmentRequired: false,
  servicePrincipalType: 'Application',
  replyUrls: [],
};

/** A resource SP with a delegated permission in permissionScope's JSON representation. */
const RESOURCE_SP = {
  id: '1804a6f8-e623-4520-8f40-ba1b0c11c42d',
  appId: '00000003-0000-0000-c000-000000000000',
  displayName: 'Microsoft Graph',
  appRoles: [],
  oauth2PermissionScopes: [
    {
      id: '652390e4-393a-48de-9484-05f9b1212954',
      adminConsentDisplayName: 'Read and write access to mailboxes via IMAP.',
      adminConsentDescription:
        'Allows the app to have the same access to mailboxes as the signed-in user via IMAP protocol.',
      userConsentDisplayName: 'Read and write access to your mailbox via IMAP.',
      userConsentDescription:
        'Allows the app to have the same access to your mailbox as you via IMAP protocol.',
      value: 'IMAP.AccessAsUser.All',
      type: 'User',
      isEnabled: true,
    },
  ],
};

/** oauth2permissiongrant-list response (first grant). */
const GRANTS = [
  {
    '@odata.id':
      'https://graph.microsoft.com/v2/84841066-274d-4ec0-a5c1-276be684bdd3/oauth2PermissionGrants/AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0',
    clientId: '263a5b01-03e5-408e-8557-bab681df104c',
    consentType: 'AllPrincipals',
    id: 'AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0',
    principalId: null,
    resourceId: '1804a6f8-e623-4520-8f40-ba1b0c11c42d',
    scope: 'User.Read Group.ReadWrite.All',
  },
];

/** user-list-licensedetails response (shortened). */
const LICENSES = [
  {
    id: '3RnS3Gi8m0u_C0ozp5a-NWAn38eBLPdOtXhbU5K1cd8',
    skuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df',
    skuPartNumber: 'ENTERPRISEPREMIUM',
    servicePlans: [
      {
        servicePlanId: 'cd31b152-6326-4d1b-ae1b-997b625182e6',
        servicePlanName: 'MIP_S_Exchange',
        provisioningStatus: 'PendingProvisioning',
        appliesTo: 'User',
      },
      {
        servicePlanId: '8e0c0a52-6a6c-4d40-8370-dd62790dcd70',
        servicePlanName: 'THREAT_INTELLIGENCE',
        provisioningStatus: 'Success',
        appliesTo: 'User',
      },
    ],
  },
  {
    id: '3RnS3Gi8m0u_C0ozp5a-Ne0iVHIF4g5Aqwo4mdijmMo',
    skuId: '725422ed-e205-400e-ab0a-3899d8a398ca',
    skuPartNumber: 'SCHOOL_DATA_SYNC_P2',
    servicePlans: [
      {
        servicePlanId: '113feb6c-3fe4-4440-bddc-54d774bf0318',
        servicePlanName: 'EXCHANGE_S_FOUNDATION',
        provisioningStatus: 'Success',
        appliesTo: 'Company',
      },
    ],
  },
];

/** signin-list response, example 1 (shortened). */
const SIGN_INS = [
  {
    id: '66ea54eb-6301-4ee5-be62-ff5a759b0100',
    createdDateTime: '2020-03-13T19:15:41.6195833Z',
    userDisplayName: 'Test Contoso',
    userPrincipalName: 'testaccount1@contoso.com',
    userId: '26be570a-ae82-4189-b4e2-a37c6808512d',
    appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064',
    appDisplayName: 'Graph explorer',
    ipAddress: '131.107.159.37',
    clientAppUsed: 'Browser',
    correlationId: 'd79f5bee-5860-4832-928f-3133e22ae912',
    conditionalAccessStatus: 'notApplied',
    isInteractive: true,
    riskEventTypes: [],
    resourceDisplayName: 'Microsoft Graph',
    resourceId: '00000003-0000-0000-c000-000000000000',
    status: { errorCode: 0, failureReason: null, additionalDetails: null },
    deviceDetail: { deviceId: '', displayName: null, operatingSystem: 'Windows 10' },
    location: { city: 'Redmond', geoCoordinates: { altitude: null, latitude: 47.68 } },
    appliedConditionalAccessPolicies: [],
  },
];

/** A Graph collection reply. */
function collection(context: string, value: unknown, extra: Record<string, unknown> = {}) {
  return {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#${context}`,
    ...extra,
    value,
  };
}

function understood<T>(u: Understood<T>): T {
  if (u.code !== 'OK') throw new Error(`not understood: ${JSON.stringify(u)}`);
  return u.data;
}

describe('Graph replies in Microsoft’s shape are understood', () => {
  test('application: the judged fields, typed; secretText, hint and the rest dropped', () => {
    const app = understood(
      GRAPH_UNDERSTAND.application(collection('applications', [APPLICATION]), ''),
    );
    expect(app).toEqual({
      id: APPLICATION.id,
      appId: APPLICATION.appId,
      web: { redirectUris: [] },
      publicClient: { redirectUris: [] },
      passwordCredentials: [
        {
          displayName: 'Password friendly name',
          keyId: '49539d35-c8c1-4e5a-a6a7-ae8d7f1d8d6a',
          startDateTime: '2019-09-09T19:50:29.3086381Z',
          endDateTime: '2021-09-09T19:50:29.3086381Z',
        },
      ],
      keyCredentials: [
        {
          displayName: 'CN=ece.contoso.com',
          keyId: 'b3a9c2f0-0e0c-4b59-9d7a-0c1b2a3d4e5f',
          startDateTime: '2025-01-01T00:00:00Z',
          endDateTime: '2027-01-01T00:00:00Z',
        },
      ],
      requiredResourceAccess: [],
    });
    // Seven fractional digits, as Graph writes them, still give the right instant.
    expect(credentialsOf(app).map(c => [c.kind, c.end])).toEqual([
      ['secret', Date.UTC(2021, 8, 9, 19, 50, 29, 308)],
      ['certificate', Date.UTC(2027, 0, 1)],
    ]);
  });

  test('application with $select: absent platforms and credentials are fine', () => {
    const app = understood(
      GRAPH_UNDERSTAND.application(collection('applications', [APPLICATION_SELECTED]), ''),
    );
    expect(app.requiredResourceAccess?.[0]?.resourceAccess).toHaveLength(2);
    expect(app.passwordCredentials).toBeUndefined();
    expect(credentialsOf(app)).toEqual([]);
  });

  test('a filtered read that finds nothing is GRAPH_NOT_FOUND', () => {
    expect(GRAPH_UNDERSTAND.application(collection('applications', []), '')).toMatchObject({
      code: 'GRAPH_NOT_FOUND',
    });
  });

  test('service principals, grants, licences and sign-ins', () => {
    expect(
      understood(
        GRAPH_UNDERSTAND.servicePrincipal(collection('servicePrincipals', [SERVICE_PRINCIPAL]), ''),
      ),
    ).toEqual({ id: SERVICE_PRINCIPAL.id, appId: SERVICE_PRINCIPAL.appId });
    expect(
      understood(
        GRAPH_UNDERSTAND.resourceServicePrincipal(
          collection('servicePrincipals', [RESOURCE_SP]),
          '',
        ),
      ),
    ).toEqual({
      appId: RESOURCE_SP.appId,
      oauth2PermissionScopes: [
        { id: '652390e4-393a-48de-9484-05f9b1212954', value: 'IMAP.AccessAsUser.All' },
      ],
    });
    expect(
      understood(GRAPH_UNDERSTAND.grants(collection('oauth2PermissionGrants', GRANTS), '')),
    ).toEqual([
      { consentType: 'AllPrincipals', principalId: null, scope: 'User.Read Group.ReadWrite.All' },
    ]);
    const licences = understood(
      GRAPH_UNDERSTAND.licenseDetails(collection("users('x')/licenseDetails", LICENSES), ''),
    );
    expect(licences.map(l => l.servicePlans.map(p => p.servicePlanName))).toEqual([
      ['MIP_S_Exchange', 'THREAT_INTELLIGENCE'],
      ['EXCHANGE_S_FOUNDATION'],
    ]);
    const signIns = understood(
      GRAPH_UNDERSTAND.signIns(
        collection('auditLogs/signIns', SIGN_INS, {
          '@odata.nextLink':
            'https://graph.microsoft.com/v1.0/auditLogs/signIns?$top=1&$skiptoken=x',
        }),
        '',
      ),
    );
    expect(signIns).toEqual([
      {
        createdDateTime: '2020-03-13T19:15:41.6195833Z',
        userPrincipalName: 'testaccount1@contoso.com',
        appId: 'de8bc8b5-d9f9-48b1-a8ad-b748da725064',
        status: { errorCode: 0, failureReason: null },
        // Kept since the sign-in read tells ECE's redemptions from a person at a prompt.
        isInteractive: true,
        ipAddress: '131.107.159.37',
      },
    ]);
    // A user whose UPN is not its primary SMTP address (user resource: userPrincipalName, mail,
    // proxyAddresses with "SMTP:" for the primary); a user without a mailbox has mail null.
    const users = understood(
      GRAPH_UNDERSTAND.directoryUsers(
        collection('users(id,userPrincipalName,mail,proxyAddresses)', [
          {
            id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
            userPrincipalName: 'AdeleV@contoso.onmicrosoft.com',
            mail: 'Adele.Vance@contoso.com',
            proxyAddresses: ['SMTP:Adele.Vance@contoso.com', 'smtp:AdeleV@contoso.onmicrosoft.com'],
          },
          { id: 'x', userPrincipalName: 'svc@contoso.com', mail: null, proxyAddresses: [] },
        ]),
        '',
      ),
    );
    expect(users.map(u => [u.userPrincipalName, u.mail, u.proxyAddresses?.length])).toEqual([
      ['AdeleV@contoso.onmicrosoft.com', 'Adele.Vance@contoso.com', 2],
      ['svc@contoso.com', null, 0],
    ]);
  });
});

/** A value that must never show up in what a refused reply leaves behind. */
const MARK = 'zz-value-that-must-not-leak-zz';

describe('a judged field of another type is not understood, and says where', () => {
  const app = (over: Record<string, unknown>) =>
    collection('applications', [{ ...APPLICATION, displayName: MARK, ...over }]);
  const cases: [string, GraphResource, unknown, string][] = [
    [
      'a secret ending at a number',
      'application',
      app({ passwordCredentials: [{ ...APPLICATION.passwordCredentials[0], endDateTime: 5 }] }),
      'value[0].passwordCredentials[0].endDateTime: expected string, got number',
    ],
    [
      'a secret ending at no date',
      'application',
      app({ passwordCredentials: [{ displayName: MARK, endDateTime: `${MARK} next year` }] }),
      'value[0].passwordCredentials[0].endDateTime: expected a datetime string',
    ],
    [
      'redirect URIs as one string',
      'application',
      app({ web: { redirectUris: MARK } }),
      'value[0].web.redirectUris: expected array, got string',
    ],
    [
      'a service principal without an id',
      'servicePrincipal',
      collection('servicePrincipals', [{ ...SERVICE_PRINCIPAL, id: 42 }]),
      'value[0].id: expected string, got number',
    ],
    [
      'a permission scope without its id',
      'resourceServicePrincipal',
      collection('servicePrincipals', [
        { ...RESOURCE_SP, oauth2PermissionScopes: [{ id: null, value: MARK }] },
      ]),
      'value[0].oauth2PermissionScopes[0].id: expected string, got null',
    ],
    [
      '`value` an object',
      'grants',
      { value: { scope: MARK } },
      'value: expected array, got object',
    ],
    [
      'service plans missing',
      'licenseDetails',
      collection('licenseDetails', [{ skuPartNumber: MARK, servicePlans: null }]),
      'value[0].servicePlans: expected array, got null',
    ],
    [
      'an AADSTS number as a string',
      'signIns',
      collection('auditLogs/signIns', [{ ...SIGN_INS[0], status: { errorCode: '0' } }]),
      'value[0].status.errorCode: expected number, got string',
    ],
  ];

  test.each(cases)('%s', (_name, resource, body, issue) => {
    const u = GRAPH_UNDERSTAND[resource](body, JSON.stringify(body));
    expect(u.code).toBe('GRAPH_UNEXPECTED_REPLY');
    if (u.code !== 'GRAPH_UNEXPECTED_REPLY') return;
    expect(u.unexpected.issues).toEqual([issue]);
    expect(u.unexpected.shape).toMatch(/^\{ /);
    expect(JSON.stringify(u)).not.toContain(MARK);
  });

  test('a body that is not JSON, and an empty one', () => {
    expect(GRAPH_UNDERSTAND.signIns(undefined, `<html>${MARK}</html>`)).toEqual({
      code: 'GRAPH_UNEXPECTED_REPLY',
      unexpected: { issues: ['the body is not JSON'], shape: 'text of 43 characters' },
    });
    expect(GRAPH_UNDERSTAND.signIns(undefined, '')).toMatchObject({
      unexpected: { shape: 'empty body' },
    });
  });

  test('the shape outline has keys and types only, and stays short', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`k${i}`, { deep: { deeper: [MARK] } }]),
    );
    const u = GRAPH_UNDERSTAND.grants({ value: [wide] }, '');
    if (u.code !== 'GRAPH_UNEXPECTED_REPLY') throw new Error(u.code);
    expect(u.unexpected.shape.length).toBeLessThanOrEqual(600);
    expect(u.unexpected.shape).toContain('…28 more');
    expect(u.unexpected.shape).not.toContain(MARK);
    expect(u.unexpected.issues).toEqual(['value[0].consentType: expected string, got nothing']);
  });
});

/** InvokeCommand rows as o365-facts.md §3.5 lists them (and the lab serves them). */
const EXO_ROWS: Record<ExoCmdletName, unknown[]> = {
  'Get-CASMailbox': [
    {
      Identity: 'support',
      PrimarySmtpAddress: 'support@contoso.com',
      ImapEnabled: true,
      PopEnabled: false,
      SmtpClientAuthenticationDisabled: null,
    },
  ],
  'Get-MailboxPermission': [
    {
      Identity: 'sales',
      User: 'NT AUTHORITY\\SELF',
      AccessRights: ['FullAccess', 'ReadPermission'],
      Deny: false,
      IsInherited: false,
      InheritanceType: 'All',
    },
  ],
  // Get-RecipientPermission's fields (learn.microsoft.com Get-RecipientPermission; the REST
  // model in documentation.voss-solutions.com lists the same).
  'Get-RecipientPermission': [
    {
      Identity: 'sales',
      Trustee: 'svc-ece@contoso.com',
      AccessControlType: 'Allow',
      AccessRights: ['SendAs'],
      IsInherited: false,
      InheritanceType: 'None',
    },
  ],
  'Get-TransportConfig': [{ SmtpClientAuthenticationDisabled: true }],
};

function rows<T>(r: ReplyReading<{ value: T }>): T {
  if (!r.ok) throw new Error(`not understood: ${JSON.stringify(r.unexpected)}`);
  return r.value.value;
}

describe('Exchange admin rows', () => {
  test('each cmdlet’s rows are understood with their judged properties', () => {
    const body = (c: ExoCmdletName) => ({
      '@odata.context': 'https://outlook.office365.com/adminapi/beta/$metadata#Collection',
      value: EXO_ROWS[c],
    });
    expect(rows(EXO_UNDERSTAND['Get-CASMailbox'](body('Get-CASMailbox'), ''))).toEqual([
      { ImapEnabled: true, PopEnabled: false, SmtpClientAuthenticationDisabled: null },
    ]);
    expect(
      rows(EXO_UNDERSTAND['Get-MailboxPermission'](body('Get-MailboxPermission'), '')),
    ).toEqual([
      { User: 'NT AUTHORITY\\SELF', AccessRights: ['FullAccess', 'ReadPermission'], Deny: false },
    ]);
    expect(rows(EXO_UNDERSTAND['Get-TransportConfig'](body('Get-TransportConfig'), ''))).toEqual([
      { SmtpClientAuthenticationDisabled: true },
    ]);
    expect(
      rows(EXO_UNDERSTAND['Get-RecipientPermission'](body('Get-RecipientPermission'), '')),
    ).toEqual([
      { Trustee: 'svc-ece@contoso.com', AccessRights: ['SendAs'], AccessControlType: 'Allow' },
    ]);
  });

  const cases: [ExoCmdletName, unknown, string][] = [
    [
      'Get-CASMailbox',
      { value: [{ ImapEnabled: 1 }] },
      'value[0].ImapEnabled: expected boolean, got number',
    ],
    [
      'Get-MailboxPermission',
      { value: [{ User: null, AccessRights: ['FullAccess'] }] },
      'value[0].User: expected string, got null',
    ],
    [
      'Get-TransportConfig',
      { value: [{ SmtpClientAuthenticationDisabled: MARK }] },
      'value[0].SmtpClientAuthenticationDisabled: expected boolean, got string',
    ],
    ['Get-TransportConfig', { value: {} }, 'value: expected array, got object'],
    [
      'Get-RecipientPermission',
      { value: [{ Trustee: 7, AccessRights: ['SendAs'] }] },
      'value[0].Trustee: expected string, got number',
    ],
  ];
  test.each(cases)(
    '%s: a row of another type is not understood (case %#)',
    (cmdlet, body, issue) => {
      const r = EXO_UNDERSTAND[cmdlet](body, '');
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.unexpected.issues).toEqual([issue]);
      expect(JSON.stringify(r)).not.toContain(MARK);
    },
  );
});
