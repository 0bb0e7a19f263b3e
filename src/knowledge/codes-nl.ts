/**
 * What to do about each code, in Dutch: the parallel of each `remediation` in ./codes.ts
 * (`CODE_TABLE`), for readers whose Teams client speaks Dutch. `satisfies Record<Code, …>` makes
 * the compiler refuse a code without a Dutch entry, so a code added to the table cannot reach a
 * Dutch card in English.
 *
 * Each entry is a faithful translation of the English one, filled in from the same
 * RemediationContext (the same mailbox, account, server, host and port). Product names, cmdlets,
 * scopes and the labels of Microsoft's and Cisco's consoles stay in English, as the reader sees
 * them on screen (o365-facts.md §3.1–3.2 portal paths). `fix` is given only where the English fix
 * holds prose; a PowerShell line or a bare portal path is the same in both languages, and
 * ./remediation.ts then keeps the English one. Links are the English entry's (Microsoft's pages
 * are chosen by the reader's browser locale). Permission names are those of ./permissions.ts;
 * where its text holds English prose (`signIns`, `exchange`) the names are written out here, and
 * test/knowledge/codes-nl.test.ts holds both texts to naming the same permissions.
 */
import type { Code } from '../model/codes';
import type { RemediationContext } from './codes';
import { PROBE_PERMISSIONS } from './permissions';
import { checkVersion, formatEs, LAST_ES_RELEASE } from './versions';

/** A code's remediation in Dutch: the sentence, and the fix where the English one has prose. */
export interface AdviceNl {
  text: string;
  fix?: string;
}

/** A code's Dutch remediation, filled in for one environment (and mailbox, server, …). */
export type RemedyNl = (ctx: RemediationContext) => AdviceNl;

// Small fill-ins, as in ./codes.ts. Placeholders in angle brackets where the inventory cannot know.
const mbx = (ctx: RemediationContext): string => ctx.mailbox ?? '<mailbox>';
const signInAs = (ctx: RemediationContext): string => ctx.account ?? ctx.mailbox ?? '<account>';
const from = (ctx: RemediationContext): string => (ctx.vantage ? ` vanaf ${ctx.vantage}` : '');
const hostPort = (ctx: RemediationContext): string =>
  ctx.host ? (ctx.port ? `${ctx.host}:${ctx.port}` : ctx.host) : 'het Microsoft 365-eindpunt';
const appPath = (ctx: RemediationContext): string =>
  `Entra admin center > App registrations > ${ctx.env.app.clientId}`;
const scopeList = (ctx: RemediationContext, fallback: string): string =>
  ctx.scopes?.length ? ctx.scopes.join(', ') : fallback;
const externalHost = (ctx: RemediationContext): string => {
  try {
    return ctx.env.ece.externalUrl
      ? new URL(ctx.env.ece.externalUrl).host
      : '<externe host van ECE>';
  } catch {
    return '<externe host van ECE>';
  }
};
const firewall = (ctx: RemediationContext): string =>
  `Sta uitgaand TCP ${ctx.port ?? '<poort>'}${from(ctx)} toe naar ${ctx.host ?? '<host>'}`;

/** Regenerate the ECE token for a mailbox: the technote's InPrivate advice (checklist item 4). */
const regenerate =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Genereer het token in ECE opnieuw voor ${mbx(ctx)}: open de ECE-console in een InPrivate-/incognitovenster, zodat de browser om aanmeldgegevens vraagt, en meld je aan als ${signInAs(ctx)}.`,
    fix: `E-mailaccount in ECE voor ${mbx(ctx)} > Generate token, in een InPrivate-venster, aangemeld als ${signInAs(ctx)}`,
  });

const grantConsent: RemedyNl = () => ({
  text: 'Geef admin consent aan de ECE-applicatie voor haar gedelegeerde mailmachtigingen (of laat elke tokengebruiker bij het aanmelden zelf toestemming geven).',
});

const addPermissions: RemedyNl = ctx => ({
  text: `Voeg de gedelegeerde machtigingen die ECE nodig heeft toe aan de app-registratie en geef daarna toestemming (consent): ${scopeList(ctx, 'IMAP.AccessAsUser.All of POP.AccessAsUser.All, SMTP.Send, offline_access')}.`,
  fix: `${appPath(ctx)} > API permissions > Add a permission > Office 365 Exchange Online (of Microsoft Graph) > Delegated: ${scopeList(ctx, 'IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send, offline_access')}`,
});

const newSecret =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Maak een nieuw clientgeheim (of een certificaat) voor de ECE-app en vul de Value ervan in bij de instellingen van het e-mailaccount in ECE.`,
    fix: `${appPath(ctx)} > Certificates & secrets > New client secret; plak de Value (niet de Secret ID) in ECE`,
  });

const conditionalAccess =
  (why: string): RemedyNl =>
  () => ({
    text: `${why} De aanmeldlogboeken (sign-in logs) van de ECE-app tonen welk beleid van toepassing was; sluit het mailaccount uit of sta de aanmelding vanaf de ECE-servers toe.`,
  });

const accountProblem =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Herstel het account ${signInAs(ctx)} in Entra ID en genereer daarna het token in ECE opnieuw (InPrivate-venster, aangemeld als ${signInAs(ctx)}).`,
  });

/** ecebot's own test token: signing in again fixes it (DESIGN.md "Two kinds of token evidence"). */
const signInAgain =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Dit is het eigen testtoken van ecebot, niet dat van ECE: het token van ECE is niet geraakt. Voer \`signin ${ctx.env.name} ${mbx(ctx)}\` opnieuw uit en meld je in een privévenster van de browser aan als ${signInAs(ctx)}.`,
  });

const requestBug: RemedyNl = () => ({
  text: 'Entra wees het verzoek af als onjuist opgebouwd: dit is een fout aan de clientkant (ECE of ecebot); meld die met het transcript uit Details.',
});

const probeAccess: RemedyNl = () => ({
  text: `Geef de alleen-lezen-app van ecebot (inventaris \`probe\`) haar machtigingen: Graph ${PROBE_PERMISSIONS.application}, ${PROBE_PERMISSIONS.grants}, ${PROBE_PERMISSIONS.licenseDetails} (application, met admin consent), en Exchange.ManageAsApp en de rol Global Reader (of Exchange Administrator) voor het uitlezen van Exchange.`,
});

const restartSignIn: RemedyNl = () => ({
  text: 'Niemand heeft zich aangemeld voordat de apparaatcode verliep; start de aanmelding opnieuw.',
});

const sameResourceOnly: RemedyNl = () => ({
  text: 'De scopes noemen meer dan één resource: vraag alleen Outlook-scopes aan, nooit Graph en Outlook in één tokenaanvraag.',
});

/** Every code's remediation in Dutch, in the order of CODE_TABLE. */
export const REMEDY_NL = {
  OK: () => ({ text: 'Werkte zoals verwacht.' }),

  // Transport (any probe).
  DNS_NOT_FOUND: ctx => ({
    text: `${ctx.host ?? 'De host'} wordt${from(ctx)} niet omgezet: herstel de DNS (of proxy) van de server, zodat namen van Microsoft 365 worden omgezet.`,
    fix: `Zorg dat ${ctx.host ?? '<host>'}${from(ctx)} wordt omgezet (test daar: Resolve-DnsName ${ctx.host ?? '<host>'})`,
  }),
  DNS_TIMEOUT: ctx => ({
    text: `De DNS-server die${from(ctx)} wordt gebruikt, antwoordde niet op tijd voor ${ctx.host ?? 'de host'}.`,
    fix: `Controleer de ingestelde DNS-servers${from(ctx)} (test daar: Resolve-DnsName ${ctx.host ?? '<host>'})`,
  }),
  DNS_SERVER_FAILURE: ctx => ({
    text: `De DNS-server die${from(ctx)} wordt gebruikt, antwoordde met een fout (SERVFAIL of REFUSED) voor ${ctx.host ?? 'de host'}: hij kan voor deze server geen namen van Microsoft 365 omzetten.`,
    fix: `Controleer de ingestelde DNS-servers${from(ctx)} en hun forwarders (test daar: Resolve-DnsName ${ctx.host ?? '<host>'})`,
  }),
  CONNECT_REFUSED: ctx => ({
    text: `${hostPort(ctx)} weigerde de verbinding${from(ctx)}: een firewall wijst die af. Open de poort naar de Microsoft 365-eindpunten (checklist-item 8).`,
    fix: firewall(ctx),
  }),
  CONNECT_TIMEOUT: ctx => ({
    text: `De verbinding met ${hostPort(ctx)}${from(ctx)} kwam nooit tot stand: een firewall laat de pakketten vallen.`,
    fix: firewall(ctx),
  }),
  CONNECT_RESET: ctx => ({
    text: `De verbinding met ${hostPort(ctx)}${from(ctx)} werd verbroken (reset) door een firewall of proxy.`,
    fix: firewall(ctx),
  }),
  TLS_CERT_INVALID: ctx => ({
    text: `${hostPort(ctx)} toonde${from(ctx)} een certificaat dat de server niet vertrouwt: meestal een proxy die TLS inspecteert. Zonder de Microsoft 365-eindpunten uit van inspectie (of laat de server de CA van de proxy vertrouwen).`,
  }),
  TLS_CERT_EXPIRED: ctx => ({
    text: `${hostPort(ctx)} toonde${from(ctx)} een verlopen (of nog niet geldig) certificaat: controleer de klok van de server en elke proxy onderweg die TLS inspecteert.`,
  }),
  TLS_HANDSHAKE_FAILED: ctx => ({
    text: `De TLS-handshake met ${hostPort(ctx)} mislukte${from(ctx)}: iets onderweg laat TLS niet ongewijzigd door.`,
  }),
  STARTTLS_UNAVAILABLE: ctx => ({
    text: `STARTTLS naar ${hostPort(ctx)} werd geweigerd${from(ctx)}: een firewall die SMTP inspecteert, haalt het weg. Exchange Online eist STARTTLS vóór AUTH op poort 587.`,
    fix: `Schakel SMTP-inspectie uit voor ${ctx.host ?? 'smtp.office365.com'}:587${from(ctx)}`,
  }),
  GREETING_TIMEOUT: ctx => ({
    text: `${hostPort(ctx)} nam de verbinding aan maar zei niets${from(ctx)}: een proxy of firewall houdt het verkeer tegen.`,
    fix: firewall(ctx),
  }),
  TIMEOUT: ctx => ({
    text: `${hostPort(ctx)} antwoordde niet meer${from(ctx)}: een firewall laat het verkeer stilletjes verdwijnen, of de route is erg traag.`,
    fix: firewall(ctx),
  }),
  PROTOCOL_ERROR: ctx => ({
    text: `${hostPort(ctx)} antwoordde iets wat het protocol niet toestaat${from(ctx)}: controleer of de host echt Exchange Online is en of geen proxy het gesprek herschrijft.`,
  }),
  REPLY_TOO_LONG: ctx => ({
    text: `${hostPort(ctx)} stuurde${from(ctx)} een antwoord dat veel langer is dan het protocol toestaat; ecebot stopte na 64 KiB met lezen. Exchange Online doet dit nooit: controleer of de host echt Exchange Online is en of geen proxy of inspectieapparaat in zijn plaats antwoordt.`,
  }),
  HTTP_ERROR: ctx => ({
    text: `De HTTPS-server antwoordde met een foutstatus${from(ctx)}; zie de status en de woorden van de server in het bewijs.`,
  }),

  // Mail protocol authentication.
  AUTH_FAILED: ctx => ({
    text: `Exchange Online wees het token voor ${mbx(ctx)} af: de audience of de scopes kloppen niet, het is verlopen, of het protocol staat uit voor de mailbox. Zie de items token en mailbox-protocols.`,
  }),
  AUTHENTICATED_NOT_CONNECTED: ctx => ({
    text: `Het token is geldig, maar de gebruiker ervan kan ${mbx(ctx)} niet openen: het is als een andere gebruiker gegenereerd (vaak de gebruiker van het werkstation via Kerberos-SSO), of dat account heeft geen Full Access.`,
    ...(ctx.account
      ? {}
      : {
          fix: `Genereer het token voor ${mbx(ctx)} opnieuw in een InPrivate-venster, aangemeld als ${mbx(ctx)}`,
        }),
  }),
  SMTP_AUTH_DISABLED: ctx => ({
    text: `Exchange Online weigert SMTP AUTH voor ${mbx(ctx)}. Schakel Authenticated SMTP in voor de mailbox (dat gaat boven de tenantinstelling); staat de mailboxinstelling al aan, dan blokkeren de standaardinstellingen voor beveiliging (security defaults) of een verificatiebeleid het.`,
  }),
  SMTP_BASIC_AUTH_DISABLED: ctx => ({
    text: `Het ECE-account voor ${mbx(ctx)} stuurt nog een wachtwoord; Exchange Online accepteert alleen OAuth 2.0. Zet het account om naar OAuth 2.0 en genereer het token ervan.`,
  }),
  SMTP_BLOCKED_BY_POLICY: () => ({
    text: 'Conditional Access of de standaardinstellingen voor beveiliging (security defaults) blokkeren SMTP AUTH voor dit account; de aanmeldlogboeken tonen welk beleid van toepassing was.',
  }),
  SEND_AS_DENIED: ctx =>
    ctx.account
      ? {
          text: `${ctx.account} mag niet verzenden als ${mbx(ctx)}: geef het gedeelde account Send As op de mailbox.`,
        }
      : {
          text: `De gebruiker van het token mag niet verzenden als ${mbx(ctx)}: het token is als een andere gebruiker gegenereerd. Genereer het opnieuw en meld je aan als ${mbx(ctx)}.`,
          fix: `Genereer het token voor ${mbx(ctx)} opnieuw in een InPrivate-venster, aangemeld als ${mbx(ctx)}`,
        },
  TOKEN_EXPIRED_SESSION: () => ({
    text: 'Het toegangstoken verliep tijdens de sessie: houd de levensduur van toegangstokens op 60 minuten of meer en laat ECE vernieuwen voordat het verloopt.',
  }),
  XOAUTH2_NOT_OFFERED: ctx => ({
    text: `${hostPort(ctx)} biedt geen XOAUTH2 aan: het is geen Exchange Online, of een proxy herschrijft de capabilities. ECE moet outlook.office365.com (993/995) en smtp.office365.com (587) gebruiken.`,
  }),
  SEND_REJECTED: ctx => ({
    text: `Exchange Online accepteerde de aanmelding voor ${mbx(ctx)}, maar weigerde het testbericht; de woorden van de server in het bewijs zeggen waarom (bijv. 5.7.60 of SendAsDenied: het account mag niet als dit adres verzenden; 5.1.8: de mailbox is geblokkeerd wegens uitgaande spam).`,
  }),

  // Entra ID (AADSTS codes).
  AADSTS50011: ctx => ({
    text: `De redirect-URI die ECE meestuurt, is niet geregistreerd bij de app: registreer hem exact (schema, host, poort, pad) op de host van de externe URL, ${externalHost(ctx)}.`,
    fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: voeg de ECE-callback toe op https://${externalHost(ctx)}`,
  }),
  AADSTS90002: ctx => ({
    text: `De tenant die ECE noemt, werd niet gevonden: gebruik de tenant-id ${ctx.env.tenantId}.`,
  }),
  AADSTS700016: ctx => ({
    text: `Entra kent geen applicatie ${ctx.env.app.clientId} in tenant ${ctx.env.tenantId}: controleer de client-id in ECE en of de app in deze tenant is geregistreerd.`,
  }),
  AADSTS50194: ctx => ({
    text: `De app is single-tenant, dus ECE moet de tenantspecifieke authority gebruiken (tenant ${ctx.env.tenantId}), niet /common.`,
  }),
  AADSTS7000215: newSecret(
    'Entra wees het clientgeheim af; de gebruikelijke oorzaak is dat de Secret ID is geplakt in plaats van de Value.',
  ),
  AADSTS7000222: newSecret('Het clientgeheim dat ECE gebruikt, is verlopen.'),
  AADSTS7000218: ctx => ({
    text: 'De tokenaanvraag bevatte geen clientgeheim: vul de Value van het clientgeheim van de app in bij de instellingen van het e-mailaccount in ECE.',
    fix: `${appPath(ctx)} > Certificates & secrets: kopieer de Value van een geldig geheim naar ECE`,
  }),
  AADSTS700025: ctx => ({
    text: 'De app is geregistreerd als public client, maar ECE stuurt een geheim mee: registreer de redirect-URI onder het platform Web.',
    fix: `${appPath(ctx)} > Authentication: gebruik het platform Web voor de redirect-URI van ECE`,
  }),
  AADSTS700024: () => ({
    text: 'Het tijdvenster van de client assertion is niet geldig: synchroniseer de klok van de server (NTP).',
  }),
  AADSTS700027: ctx => ({
    text: 'Entra kon de client assertion niet verifiëren: upload het certificaat waarmee ECE ondertekent naar de app-registratie (de thumbprint moet erbij staan), of gebruik de bijbehorende privésleutel.',
    fix: `${appPath(ctx)} > Certificates & secrets > Certificates: upload het certificaat`,
  }),
  AADSTS50012: ctx => ({
    text: `De client assertion noemt een andere audience: de aud moet https://login.microsoftonline.com/${ctx.env.tenantId}/oauth2/v2.0/token zijn.`,
  }),
  AADSTS65001: grantConsent,
  AADSTS90094: grantConsent,
  AADSTS90095: grantConsent,
  AADSTS65005: addPermissions,
  AADSTS650056: addPermissions,
  AADSTS650057: addPermissions,
  AADSTS650052: () => ({
    text: 'De tenant heeft geen Exchange Online-dienst (de resource is niet geabonneerd): wijs in deze tenant Exchange Online-licenties toe.',
  }),
  AADSTS500011: ctx => ({
    text: `Exchange Online (de resource) werd niet gevonden in tenant ${ctx.env.tenantId}: controleer de tenant-id en of Exchange Online is ingericht.`,
  }),
  AADSTS70011: () => ({
    text: 'De gevraagde scope is niet geldig: ECE moet https://outlook.office.com/IMAP.AccessAsUser.All (of POP.AccessAsUser.All), https://outlook.office.com/SMTP.Send en offline_access aanvragen.',
  }),
  AADSTS28002: sameResourceOnly,
  AADSTS700022: sameResourceOnly,
  AADSTS54005: regenerate('De autorisatiecode was al ingewisseld.'),
  AADSTS70008: regenerate(
    'De autorisatiecode of het vernieuwingstoken is verlopen of ingetrokken.',
  ),
  AADSTS700082: regenerate(
    'Het vernieuwingstoken is verlopen na 90 dagen zonder gebruik. Elke inwisseling levert een nieuw vernieuwingstoken op en het oude vervalt alsnog 90 dagen na zijn eigen uitgifte; een kopie die nooit door haar nieuwste opvolger wordt vervangen, verloopt dus ook als ze wel wordt ingewisseld.',
  ),
  AADSTS50173: regenerate(
    'De toekenning is ingetrokken (wachtwoordwijziging, of een beheerder heeft de sessies ingetrokken).',
  ),
  AADSTS70043: conditionalAccess(
    'Een Conditional Access-beleid voor aanmeldingsfrequentie heeft het vernieuwingstoken ongeldig gemaakt.',
  ),
  AADSTS50089: regenerate('De aanmelding duurde te lang.'),
  AADSTS50126: accountProblem('De gebruikersnaam of het wachtwoord was onjuist.'),
  AADSTS50034: accountProblem('Het account bestaat niet in deze tenant.'),
  AADSTS50020: accountProblem('Het aangemelde account is een gast- of persoonlijk account.'),
  AADSTS50057: accountProblem('Het account is uitgeschakeld.'),
  AADSTS50053: accountProblem('Het account is vergrendeld.'),
  AADSTS50055: accountProblem('Het wachtwoord is verlopen.'),
  AADSTS50076: regenerate(
    'Meervoudige verificatie (MFA) is vereist: rond die af tijdens de interactieve aanmelding.',
  ),
  AADSTS50079: regenerate(
    'Het account moet zich eerst registreren voor meervoudige verificatie (MFA).',
  ),
  AADSTS50074: regenerate('De meervoudige verificatie (MFA) is niet afgerond.'),
  AADSTS53003: conditionalAccess('Conditional Access blokkeerde de aanmelding.'),
  AADSTS530035: conditionalAccess(
    'De standaardinstellingen voor beveiliging (security defaults) blokkeerden de aanmelding.',
  ),
  AADSTS53000: conditionalAccess('Conditional Access vereist een compliant apparaat.'),
  AADSTS53001: conditionalAccess(
    'Conditional Access vereist een apparaat dat lid is van het domein.',
  ),
  AADSTS50105: ctx => ({
    text: `De app vereist toewijzing van gebruikers en ${signInAs(ctx)} is niet toegewezen: wijs het account toe aan de enterprise-applicatie van ECE.`,
    fix: `Entra admin center > Enterprise applications > ${ctx.env.app.clientId} > Users and groups > Add: ${signInAs(ctx)}`,
  }),
  AADSTS81012: regenerate(
    'De browser meldde zich aan als de gebruiker van het werkstation (Kerberos/Seamless SSO), niet als het gekozen account.',
  ),
  AADSTS50058: regenerate(
    'Er was geen interactieve sessie beschikbaar voor eenmalige aanmelding (SSO).',
  ),
  AADSTS9002313: requestBug,
  AADSTS900144: requestBug,
  AADSTS90014: requestBug,
  AADSTS70016: () => ({
    text: 'De aanmelding met apparaatcode wacht nog: rond de aanmelding af op de pagina van Microsoft.',
  }),
  AADSTS70000: regenerate('Entra accepteert de toekenning (grant) voor deze app niet.'),
  AADSTS70003: requestBug,
  AADSTS70019: restartSignIn,
  AADSTS50059: ctx => ({
    text: `Gebruik de tenantspecifieke authority https://login.microsoftonline.com/${ctx.env.tenantId} in plaats van /common.`,
  }),
  AADSTS900561: requestBug,
  AADSTS1002012: requestBug,
  ENTRA_ERROR: () => ({
    text: 'Entra ID weigerde het verzoek met een fout die ecebot niet kent; de AADSTS-naslag legt de code in het bewijs uit.',
  }),
  ENTRA_UNREACHABLE: ctx => ({
    text: `Entra ID (login.microsoftonline.com:443) was${from(ctx)} niet bereikbaar: het aanmaken en vernieuwen van tokens heeft het nodig.`,
    fix: `Sta uitgaand TCP 443${from(ctx)} toe naar login.microsoftonline.com`,
  }),
  DEVICE_CODE_DECLINED: () => ({
    text: 'Degene die zich aanmeldde, heeft geweigerd; start de aanmelding opnieuw.',
  }),
  DEVICE_CODE_EXPIRED: restartSignIn,

  // Graph and the Exchange admin API (ecebot's own reads).
  GRAPH_FORBIDDEN: probeAccess,
  GRAPH_NO_PREMIUM: () => ({
    text: 'Aanmeldlogboeken vereisen Entra ID P1 of P2; zonder die licentie oordeelt ecebot op grond van de tokens zelf.',
  }),
  GRAPH_NOT_FOUND: ctx => ({
    text: `Graph heeft zo'n object niet${ctx.mailbox ? `: controleer of ${ctx.mailbox} een user principal name is in tenant ${ctx.env.tenantId}` : ''}.`,
  }),
  GRAPH_UNEXPECTED_REPLY: () => ({
    text: 'ecebot kon het antwoord van Microsoft Graph niet lezen, dus er is niets op grond daarvan beoordeeld. Het bewijs bevat de vorm van het antwoord (veldnamen en typen, geen waarden); meld het met de Details.',
  }),
  GRAPH_THROTTLED: () => ({
    text: 'Microsoft Graph heeft ecebot afgeremd (HTTP 429); er is niets op grond van deze uitlezing beoordeeld. Voer de controle later opnieuw uit, of controleer minder vaak.',
  }),
  SIGN_IN_LOG_FORBIDDEN: () => ({
    text: `Geef de alleen-lezen-app van ecebot (inventaris \`probe\`) de Graph-applicatiemachtigingen AuditLog.Read.All en Directory.Read.All (tenant met Entra ID P1), met admin consent. Tot dan ziet ecebot niet wat ECE zelf bij Entra doet en beoordeelt het token alleen op grond van de eigen test.`,
  }),
  EXO_UNAUTHORIZED: () => ({
    text: 'De Exchange-beheer-API weigerde het token van ecebot: geef de app van ecebot de applicatiemachtiging Exchange.ManageAsApp op Office 365 Exchange Online, met admin consent.',
  }),
  EXO_FORBIDDEN: () => ({
    text: 'De Exchange-beheer-API weigerde de cmdlet: wijs de service principal van ecebot de rol Global Reader (of Exchange Administrator) toe.',
  }),
  EXO_THROTTLED: () => ({
    text: 'De Exchange-beheer-API heeft ecebot afgeremd; voer de controle later opnieuw uit.',
  }),
  EXO_UNEXPECTED_REPLY: () => ({
    text: 'ecebot kon het antwoord van de Exchange-beheer-API niet lezen, dus er is niets op grond daarvan beoordeeld. Het bewijs bevat de vorm van het antwoord (namen en typen van eigenschappen, geen waarden); meld het met de Details.',
  }),

  // Checklist-level findings.
  ECE_VERSION_UNSUPPORTED: ctx => ({
    text: `ECE ${ctx.env.ece.version} kan geen OAuth met Office 365 gebruiken: upgrade naar 11.6(1) ES12 ET1 of een latere release (${LAST_ES_RELEASE} ES1 of nieuwer aanbevolen).`,
  }),
  ECE_ES_TOO_OLD: ctx => {
    const min = checkVersion(ctx.env.ece.version, ctx.env.ece.es, ctx.env.ece.et).minimum;
    const need = min ? `${min.release} ${formatEs(min.es, min.et)}` : 'het OAuth-minimum';
    return {
      text: `Installeer ${need} of later (Cisco-bug CSCvr86493); Cisco raadt de nieuwste ES voor de release aan.`,
      fix: `Installeer ECE ${need} (of de nieuwste ES voor ${ctx.env.ece.version})`,
    };
  },
  ECE_VERSION_UNKNOWN: ctx => ({
    text: `ecebot kent geen OAuth-minimum voor ECE ${ctx.env.ece.version}: controleer de versie in de inventaris en de release notes van Cisco voor die release.`,
  }),
  ECE_ES_NOT_LATEST: ctx => ({
    text: `Installeer de nieuwste Engineering Special voor ECE ${ctx.env.ece.version} (best practice van Cisco).`,
  }),
  ECE_EXTERNAL_URL_MISSING: () => ({
    text: 'OAuth heeft de externe URL nodig: stel die in op de https-URL waarmee agents en beheerders zich aanmelden.',
  }),
  ECE_EXTERNAL_URL_NOT_HTTPS: () => ({
    text: 'De externe URL moet een https-URL zijn in de vorm https://ece.example.com.',
  }),
  ECE_EXTERNAL_URL_NOT_FQDN: () => ({
    text: 'De externe URL moet de volledige domeinnaam (FQDN) gebruiken waarmee beheerders de console openen, geen korte naam of IP-adres.',
  }),
  ECE_EXTERNAL_URL_ADMIN_MISMATCH: () => ({
    text: 'De externe URL moet op de FQDN staan waarmee de beheerconsole wordt geopend (en de redirect-URI die in Entra is geregistreerd, moet daarmee overeenkomen).',
  }),
  ECE_EXTERNAL_URL_UNREACHABLE: ctx => ({
    text: `De externe URL ${ctx.env.ece.externalUrl ?? ''} kan${from(ctx)} niet worden geopend: controleer DNS, de firewall en de load balancer voor ${externalHost(ctx)}.`,
  }),
  ECE_EXTERNAL_URL_CERT: ctx => ({
    text: `Het certificaat dat${from(ctx)} voor ${externalHost(ctx)} wordt getoond, is niet geldig: installeer een actueel certificaat met die FQDN op de webserver of load balancer.`,
  }),
  ENTRA_APP_NOT_FOUND: ctx => ({
    text: `Er bestaat geen app-registratie met client-id ${ctx.env.app.clientId} in tenant ${ctx.env.tenantId}: controleer de client-id in ECE en in de inventaris, of registreer de app zoals de beheerdershandleiding beschrijft.`,
  }),
  ENTRA_REDIRECT_MISMATCH: ctx => ({
    text: `Registreer de OAuth-redirect-URI van ECE op de host van de externe URL, ${externalHost(ctx)} (Entra vergelijkt hem byte voor byte, AADSTS50011).`,
    fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: voeg de ECE-callback toe op https://${externalHost(ctx)}`,
  }),
  ENTRA_SECRET_EXPIRED: newSecret(
    'Elk clientgeheim en elk certificaat van de ECE-app is verlopen.',
  ),
  ENTRA_SECRET_EXPIRING: ctx =>
    newSecret(
      `Het clientgeheim van de ECE-app verloopt over ${ctx.days ?? '?'} ${ctx.days === 1 ? 'dag' : 'dagen'}; vervang het vóór die tijd.`,
    )(ctx),
  ENTRA_PERMISSION_MISSING: addPermissions,
  ENTRA_CONSENT_MISSING: ctx => ({
    text: `Geef de ECE-applicatie toestemming (consent) voor ${scopeList(ctx, 'de gedelegeerde mailmachtigingen')} (admin consent geldt voor elk mailboxaccount).`,
  }),
  ENTRA_TOKEN_LIFETIME_SHORT: ctx => ({
    text: 'Toegangstokens moeten minstens 60 minuten geldig zijn (technote-item 3): verwijder of verhoog het beleid voor tokenlevensduur dat aan de ECE-app of de tenant is toegewezen.',
    fix: `Beleid voor tokenlevensduur op ${ctx.env.app.clientId}: AccessTokenLifetime van 01:00:00 of meer`,
  }),
  ECE_TOKEN_MISSING: ctx => ({
    text: `ecebot heeft geen token voor ${mbx(ctx)}: meld je eenmaal aan via ecebot, of geef de inventaris een refreshToken-verwijzing voor de mailbox.`,
    fix: `signin ${ctx.env.name} ${mbx(ctx)} (of zet refreshToken: env:NAME bij de mailbox in de inventaris)`,
  }),
  ECE_TOKEN_WRONG_USER: regenerate(
    'Het token hoort bij een andere gebruiker, meestal de gebruiker van het werkstation wanneer de browser zich aanmeldde met Kerberos/Seamless SSO (amr "wia").',
  ),
  ECE_TOKEN_WRONG_AUDIENCE: () => ({
    text: 'Het token is niet voor Exchange Online (IMAP, POP en SMTP wijzen een Graph-token af): ECE moet de scopes van https://outlook.office.com aanvragen; genereer daarna het token opnieuw.',
  }),
  ECE_TOKEN_SCOPE_MISSING: ctx => ({
    text: `Het token mist ${scopeList(ctx, 'een scope die de mailbox nodig heeft')}: voeg de machtiging toe aan de app, geef toestemming (consent) en genereer het token voor ${mbx(ctx)} opnieuw.`,
    fix: `${appPath(ctx)} > API permissions: ${scopeList(ctx, '<scope>')}; genereer daarna het token in ECE opnieuw voor ${mbx(ctx)}`,
  }),
  ECE_SIGNS_IN_AS_OTHER_USER: regenerate(
    'De eigen aanmeldingen van ECE (aanmeldlogboek van Entra) gebeuren als een andere gebruiker dan het mailboxaccount: het token dat ECE bewaart, is gegenereerd in een browser die zich stil aanmeldde als de ingelogde Windows-gebruiker van het werkstation (Kerberos/SSO, checklist-item 4).',
  ),
  ECE_NOT_SIGNING_IN: ctx => ({
    text: `ECE heeft zich al uren niet bij Entra aangemeld voor ${mbx(ctx)} (als ${signInAs(ctx)}), hoewel het zijn vernieuwingstoken inwisselt zodra het toegangstoken verloopt (standaard na 60–90 minuten): ECE leest deze mailbox niet meer. Controleer in ECE of het e-mailaccount voor ${mbx(ctx)} actief is en of de retriever- en dispatcherservices${from(ctx)} draaien, en zoek in de logboeken van ECE naar tokenfouten; is het token verwijderd of verlopen, genereer het dan opnieuw in een InPrivate-venster, aangemeld als ${signInAs(ctx)}.`,
    fix: `ECE: controleer de retriever- en dispatcherservices en het e-mailaccount voor ${mbx(ctx)}; zo nodig Generate token in een InPrivate-venster, aangemeld als ${signInAs(ctx)}`,
  }),
  EXO_SMTP_AUTH_DISABLED: ctx => ({
    text: `Authenticated SMTP staat uit voor ${mbx(ctx)}; de dispatcher van ECE heeft het nodig om te verzenden.`,
  }),
  EXO_SMTP_AUTH_DISABLED_TENANT: ctx => ({
    text: `SMTP AUTH staat uit voor de tenant en ${mbx(ctx)} volgt de tenantinstelling. Schakel het in voor de mailbox (kleinste wijziging), of voor de hele tenant met Set-TransportConfig -SmtpClientAuthenticationDisabled $false.`,
  }),
  EXO_IMAP_DISABLED: ctx => ({
    text: `IMAP staat uit voor ${mbx(ctx)}, die ECE via IMAP leest.`,
  }),
  EXO_POP_DISABLED: ctx => ({
    text: `POP3 staat uit voor ${mbx(ctx)}, die ECE via POP3 leest.`,
  }),
  EXO_LICENSE_MISSING: ctx => ({
    text: `${mbx(ctx)} heeft geen Exchange Online-abonnement. Cisco vraagt minstens een E3-licentie (Exchange Online Plan 2).`,
    fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: wijs Office 365 E3 toe (of een andere licentie met Exchange Online Plan 2)`,
  }),
  EXO_LICENSE_BELOW_E3: ctx => ({
    text: `${mbx(ctx)} heeft een lager Exchange Online-abonnement dan E3. De checklist van Cisco vraagt E3 of hoger; Microsoft zelf vereist voor IMAP, POP en SMTP alleen een Exchange Online-mailboxabonnement, dus dit is een waarschuwing, geen fout.`,
    fix: `Microsoft 365 admin center > Users > Active users > ${mbx(ctx)} > Licenses and apps: wijs Office 365 E3 (Exchange Online Plan 2) toe om aan de eis van Cisco te voldoen`,
  }),
  EXO_FULL_ACCESS_MISSING: ctx => ({
    text: `${ctx.account ?? 'Het gedeelde account'} heeft Full Access nodig op ${mbx(ctx)} (en geen Deny-regel ervoor; verwijder die met Remove-MailboxPermission … -Deny).`,
  }),
  EXO_SEND_AS_MISSING: ctx => ({
    text: `${ctx.account ?? 'Het account dat zich aanmeldt'} kan ${mbx(ctx)} openen, maar mag niet als die mailbox verzenden: de dispatcher van ECE meldt zich bij SMTP aan als ${ctx.account ?? 'dat account'} en verzendt vanaf ${mbx(ctx)}, en daarvoor is Send As nodig.`,
  }),
  NO_WORKER: ctx => ({
    text: `Geen enkele ecebot-worker antwoordde op tijd voor ${ctx.vantage ?? 'dit meetpunt'}: controleer of de worker op die server draait en de wachtrij bereikt.`,
  }),
  CHECK_CRASHED: () => ({
    text: 'De controle zelf ging mis: dit is een fout in ecebot of een antwoord dat het niet verwachtte. Het bewijs bevat wat het zag; meld het met de Details.',
  }),
  SLOW_RESPONSE: ctx => ({
    text: `Exchange Online antwoordde traag${from(ctx)}${ctx.mailbox ? ` voor ${ctx.mailbox}` : ''}: controleer proxy's, TLS-inspectie en de route naar Microsoft 365; vergelijk met de Remote Connectivity Analyzer van Microsoft.`,
  }),
  PROBE_UNAVAILABLE: probeAccess,
  DEVICE_CODE_CANCELLED: () => ({
    text: 'De aanmelding met apparaatcode werd geannuleerd voordat iemand zich aanmeldde; start haar opnieuw wanneer je klaar bent.',
  }),

  // ecebot's own test token (from `signin ENV MAILBOX`), never ECE's.
  SIGNIN_TOKEN_EXPIRED: signInAgain(
    'Entra weigerde het eigen aanmeldtoken van ecebot voor deze mailbox te vernieuwen.',
  ),
  SIGNIN_APP_REFUSED: ctx => ({
    text: `Entra weigerde de aanmeld-app van ecebot (inventaris \`signin.clientId\`), niet die van ECE. Het moet een app-registratie als public client zijn met "Allow public client flows" en de gedelegeerde machtigingen IMAP.AccessAsUser.All, POP.AccessAsUser.All, SMTP.Send en offline_access (docs/deployment.md); voer daarna \`signin ${ctx.env.name} ${mbx(ctx)}\` opnieuw uit.`,
  }),
} satisfies Record<Code, RemedyNl>;
