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
import {
  appPath,
  externalHostOr,
  hostPortOr,
  mbx,
  ownToken,
  scopeList,
  signInAs,
  type RemediationContext,
} from './codes';
import { PROBE_PERMISSIONS } from './permissions';
import { checkVersion, formatEs, LAST_ES_RELEASE, newestKnownEs } from './versions';

/** A code's remediation in Dutch: the sentence, and the fix where the English one has prose. */
export interface AdviceNl {
  text: string;
  fix?: string;
}

/** A code's Dutch remediation, filled in for one environment (and mailbox, server, …). */
export type RemedyNl = (ctx: RemediationContext) => AdviceNl;

// Small fill-ins: the language-neutral ones are ./codes.ts's own; these say their words in Dutch.
const from = (ctx: RemediationContext): string => (ctx.vantage ? ` vanaf ${ctx.vantage}` : '');
const hostPort = (ctx: RemediationContext): string => hostPortOr(ctx, 'het Microsoft 365-eindpunt');
const externalHost = (ctx: RemediationContext): string =>
  externalHostOr(ctx, '<externe host van ECE>');
const firewall = (ctx: RemediationContext): string =>
  `Sta uitgaand TCP ${ctx.port ?? '<poort>'}${from(ctx)} toe naar ${ctx.host ?? '<host>'}${
    ctx.probedPort ? ` (bereikt op poort ${ctx.probedPort})` : ''
  }`;

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

/** A stored refresh token that is damaged or not this app's (as `tokenDamaged` in ./codes.ts). */
const tokenDamaged =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Het vernieuwingstoken voor ${mbx(ctx)} is beschadigd of niet door deze app uitgegeven: meestal is het bij het kopiëren afgekapt of gewijzigd (een regeleinde, een ontbrekend einde), of het hoort bij een andere app-registratie. Kopieer het token opnieuw volledig naar de plek waar het is geplakt, of genereer het token opnieuw in ECE in een InPrivate-venster, aangemeld als ${signInAs(ctx)}.`,
    fix: `Kopieer het vernieuwingstoken voor ${mbx(ctx)} opnieuw volledig, of E-mailaccount in ECE voor ${mbx(ctx)} > Generate token (InPrivate-venster, aangemeld als ${signInAs(ctx)})`,
  });

/** Multi-factor authentication demanded of the mail account (as `mfaRequired` in ./codes.ts). */
const mfaRequired =
  (why: string): RemedyNl =>
  ctx => ({
    text: `${why} Genereer het token in ECE opnieuw voor ${mbx(ctx)} (InPrivate-venster, aangemeld als ${signInAs(ctx)}) en rond tijdens die aanmelding de meervoudige verificatie (MFA) af. Het aanmeldlogboek toont welk beleid erom vroeg: onder de standaardinstellingen voor beveiliging (security defaults) kan geen enkel account worden uitgesloten, dus als de eis niet voor het mailaccount mag gelden, vervang de security defaults dan door Conditional Access-beleid (bijvoorbeeld een beleid dat de aanmelding vanaf het netwerk van de ECE-servers toestaat); MFA per gebruiker of een Conditional Access-beleid wordt gewijzigd waar het is ingesteld.`,
    fix: `E-mailaccount in ECE voor ${mbx(ctx)} > Generate token, en rond MFA af als ${signInAs(ctx)}`,
  });

/** No tenant by the id or domain the request named (as `tenantNotFound` in ./codes.ts). */
const tenantNotFound: RemedyNl = ctx => ({
  text: `Entra heeft geen tenant met de id of het domein uit het verzoek${ctx.server ? ` ("${ctx.server}")` : ''}. Vergelijk de tenant-id of het domein in de instellingen van het e-mailaccount in ECE (en in de inventaris van ecebot) teken voor teken met "Tenant ID" op de pagina Overview van Microsoft Entra ID: meestal is het een typefout, een domein dat niet in de tenant is geverifieerd, of een tijdelijke aanduiding; een tenant in een andere cloud (US Government, China) meldt zich aan op de aanmeldhost van die cloud, niet op login.microsoftonline.com.`,
  fix: 'Entra admin center > Overview > Tenant ID: kopieer die naar het veld voor de tenant-id van het e-mailaccount in ECE',
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

  // TLS versions, legacy endpoints and the HTTP proxy (network item).
  TLS_VERSION_REFUSED: ctx => ({
    text: `${hostPort(ctx)} weigerde TLS 1.2 en hoger${from(ctx)}: Exchange Online en Entra spreken TLS 1.2+, dus wat hier antwoordde is een apparaat onderweg (een firewall of proxy die TLS inspecteert) dat alleen TLS 1.0/1.1 kan. Laat TLS 1.2 en 1.3 ongewijzigd door, of zonder de Microsoft 365-eindpunten uit van inspectie.`,
    fix: `Sta TLS 1.2 en 1.3 toe${from(ctx)} naar ${ctx.host ?? '<host>'}:${ctx.port ?? '<poort>'} (geen TLS-downgrade of inspectie voor Microsoft 365-eindpunten)`,
  }),
  TLS_LEGACY_ENDPOINT: ctx => ({
    text: `${ctx.host ?? 'Een *-legacy.office365.com-host'} is het opt-in-eindpunt van Microsoft voor clients die alleen TLS 1.0/1.1 spreken; Microsoft verwijdert legacy TLS voor POP3 en IMAP4 (juli–december 2026). Laat ECE (en de inventaris) naar outlook.office365.com (IMAP 993, POP3 995) of smtp.office365.com:587 wijzen met TLS 1.2, en zet daarna de opt-in uit.`,
    fix: 'ECE-e-mailaccount: server outlook.office365.com (IMAP 993 / POP3 995) of smtp.office365.com:587; daarna Set-TransportConfig -AllowLegacyTLSClients $false',
  }),
  PROXY_UNREACHABLE: ctx => ({
    text: `De HTTP-proxy die voor HTTPS is ingesteld, was niet bereikbaar${from(ctx)}: controleer het adres en de poort van de proxy (inventaris endpoints.proxy of HTTPS_PROXY) en of de proxy draait, of zet NO_PROXY voor hosts die direct bereikt worden.`,
    fix: `Test${ctx.vantage ? ` op ${ctx.vantage}` : ''}: Test-NetConnection <proxyhost> -Port <proxypoort>`,
  }),
  PROXY_AUTH_REQUIRED: ctx => ({
    text: `De proxy weigerde de tunnel naar ${hostPort(ctx)}${from(ctx)} met 407 Proxy Authentication Required: geef ecebot proxy-inloggegevens (HTTPS_PROXY=http://gebruiker:wachtwoord@proxy:poort, of endpoints.proxyCredentials: env:NAAM) — alleen Basic-authenticatie — of laat de proxybeheerders de ECE-servers de Microsoft 365-eindpunten zonder authenticatie bereiken.`,
    fix: 'Zet endpoints.proxyCredentials: env:PROXY_CREDENTIALS (waarde gebruiker:wachtwoord), of een toestaanregel op de proxy voor de ECE-servers',
  }),
  PROXY_REFUSED: ctx => ({
    text: `De proxy weigerde de tunnel naar ${hostPort(ctx)}${from(ctx)} (zie de status in het bewijs): het beleid van de proxy staat CONNECT naar deze host en poort niet toe. Vraag de proxybeheerders de Microsoft 365-eindpunten (login.microsoftonline.com, login.microsoft.com, *.office365.com) op 443 toe te staan voor de ECE-servers.`,
    fix: `Toestaanregel op de proxy: CONNECT ${ctx.host ?? '<host>'}:${ctx.port ?? 443}${ctx.vantage ? ` voor ${ctx.vantage}` : ''}`,
  }),

  // Mail protocol authentication.
  AUTH_FAILED: ctx => ({
    text: `Exchange Online wees het token voor ${mbx(ctx)} af: de audience of de scopes kloppen niet, het is verlopen, of het protocol staat uit voor de mailbox. Zie de items token en mailbox-protocols.`,
  }),
  AUTHENTICATED_NOT_CONNECTED: ctx =>
    ownToken(ctx)
      ? {
          // The English fix is a Get-Mailbox line: the same in both languages.
          text: `Het token is van ${mbx(ctx)} zelf en Exchange accepteerde het, dus het opnieuw genereren als ${mbx(ctx)} verandert niets. Controleer of ${mbx(ctx)} een gebruikersmailbox is in Exchange Online (een gedeelde mailbox wordt geopend door een ander account met Full Access, niet door zich als die mailbox aan te melden) en of het adres waarmee ECE zich aanmeldt (user= in XOAUTH2) een adres van de gebruiker van het token is.`,
        }
      : ctx.account
        ? {
            text: `Het token is geldig, maar ${ctx.account} kan ${mbx(ctx)} niet openen: geef ${ctx.account} Full Access op de mailbox (en geen Deny-regel).`,
          }
        : {
            text: `Het token is geldig, maar de gebruiker ervan kan ${mbx(ctx)} niet openen: het is als een andere gebruiker gegenereerd (vaak de gebruiker van het werkstation via Kerberos-SSO), of dat account heeft geen Full Access.`,
            fix: `Genereer het token voor ${mbx(ctx)} opnieuw in een InPrivate-venster, aangemeld als ${mbx(ctx)}`,
          },
  SMTP_AUTH_DISABLED: ctx => ({
    text: `Exchange Online weigert SMTP AUTH voor ${mbx(ctx)}. Schakel Authenticated SMTP in voor de mailbox (dat gaat boven de tenantinstelling); staat de mailboxinstelling al aan, dan blokkeren de standaardinstellingen voor beveiliging (security defaults) of een verificatiebeleid het.`,
  }),
  SMTP_BASIC_AUTH_DISABLED: ctx => ({
    text: `Het ECE-account voor ${mbx(ctx)} stuurt nog een wachtwoord; Exchange Online accepteert alleen OAuth 2.0. Zet het account om naar OAuth 2.0 en genereer het token ervan.`,
  }),
  SMTP_BLOCKED_BY_POLICY: () => ({
    text: 'Een Conditional Access-beleid (vaak "Block legacy authentication", of een beleid dat MFA of een compliant apparaat eist) blokkeert SMTP AUTH voor dit account vanaf deze server; de schakelaars voor SMTP AUTH op de mailbox en de tenant gaan daar niet boven. De aanmeldlogboeken tonen welk beleid van toepassing was: sluit het ECE-account ervan uit of sta de aanmelding ervan vanaf de ECE-servers toe.',
  }),
  SEND_AS_DENIED: ctx =>
    ownToken(ctx)
      ? {
          // The English fix is a Get-Mailbox line: the same in both languages.
          text: `ECE meldde zich bij SMTP aan als ${mbx(ctx)} zelf, dus het geweigerde From-adres is geen adres van ${mbx(ctx)}: verzend vanaf ${mbx(ctx)} (of voeg het adres eraan toe als alias), of geef ${mbx(ctx)} Send As op de mailbox waar dat adres bij hoort.`,
        }
      : ctx.account
        ? {
            text: `${ctx.account} mag niet verzenden als ${mbx(ctx)}: geef ${ctx.account} Send As op de mailbox.`,
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

  // Mail replies read by reply code, enhanced status and response code: the refusals that are
  // not a verdict on the token.
  MAIL_TLS_VERSION_REFUSED: ctx => ({
    text: `${hostPort(ctx)} weigerde de sessie${from(ctx)} omdat die via TLS 1.0 of 1.1 binnenkwam; Exchange Online vereist TLS 1.2 of nieuwer. ecebot zelf onderhandelt TLS 1.2 of nieuwer, dus als ecebot dit ziet, versleutelt een apparaat onderweg dat TLS inspecteert opnieuw met een oude versie; als ECE het ziet, biedt de Java-runtime van ECE of het besturingssysteem van de server alleen TLS 1.0/1.1 aan. Schakel daar TLS 1.2 in. De *-legacy.office365.com-eindpunten zijn geen oplossing: Microsoft schaft verouderde TLS voor POP3 en IMAP4 helemaal af.`,
    fix: `Schakel TLS 1.2 in${from(ctx)} voor de Java-runtime van ECE en het besturingssysteem (en op elke proxy die TLS inspecteert naar ${ctx.host ?? 'de Microsoft 365-eindpunten'})`,
  }),
  MAIL_TLS_REQUIRED: ctx => ({
    text: `${hostPort(ctx)} zegt${from(ctx)} dat de sessie niet versleuteld is: iets onderweg beëindigt TLS (een proxy die TLS afsluit en daarna onversleuteld verder praat), of de client is ingesteld om zonder TLS te verbinden. Exchange Online vereist impliciete TLS op 993/995 en STARTTLS op 587 vóór AUTH.`,
    fix: `Gebruik TLS naar ${ctx.host ?? 'het Microsoft 365-eindpunt'}: IMAP 993 en POP3 995 met SSL/TLS, SMTP 587 met STARTTLS; zonder de eindpunten uit van elke proxy die TLS beëindigt${from(ctx)}`,
  }),
  MAIL_TEMPORARY: ctx => ({
    text: `${hostPort(ctx)} antwoordde${from(ctx)} met een tijdelijke fout: de server, niet het token of de mailboxinstellingen, weigerde voorlopig. Over ${mbx(ctx)} is niets vastgesteld; voer de controle over een paar minuten opnieuw uit. Blijft het zo, dan zeggen de woorden van de server in het bewijs welke limiet of storing het is (de servicestatus van Microsoft 365, service health, toont storingen van Exchange Online).`,
    fix: `Voer de controle later opnieuw uit voor ${mbx(ctx)}`,
  }),
  MAIL_SERVER_FAILURE: ctx => ({
    text: `${hostPort(ctx)} meldde${from(ctx)} een eigen storing die niet verdwijnt door het opnieuw te proberen: de woorden van de server in het bewijs zeggen wat. Dit is een fout van de mailserver, niet van het token of de instellingen van ECE; controleer de servicestatus van Microsoft 365 (service health) en open een case bij Microsoft met het bewijs.`,
  }),
  MAILBOX_IN_USE: ctx => ({
    text: `Het token voor ${mbx(ctx)} werd geaccepteerd, maar een andere sessie houdt de mailbox vast: een POP3-maildrop wordt door één sessie tegelijk geopend. Meestal is dat de eigen retriever van ECE (of een tweede ECE-instantie of mailclient die dezelfde mailbox leest). Voer de controle opnieuw uit wanneer de retriever niets doet; zorg dat maar één ECE-instantie ${mbx(ctx)} leest.`,
    fix: `Laat ${mbx(ctx)} door één lezer tegelijk gebruiken (stop andere clients die de mailbox pollen) en voer daarna de controle opnieuw uit`,
  }),
  MAILBOX_ACCESS_DENIED: ctx => ({
    text: `Exchange Online accepteerde de aanmelding, maar ${ctx.account ?? 'het account van het token'} heeft geen rechten op ${mbx(ctx)}: het kan zich niet bij de mailbox aanmelden. Geef het account Full Access op de mailbox, en Send As wanneer ECE ervandaan verzendt.`,
    // With an account the English fix is two cmdlet lines, the same in both languages.
    ...(ctx.account
      ? {}
      : {
          fix: `Add-MailboxPermission -Identity ${mbx(ctx)} -User <account dat zich aanmeldt> -AccessRights FullAccess -InheritanceType All`,
        }),
  }),
  MAIL_CONTACT_ADMIN: ctx => ({
    text: `${hostPort(ctx)} weigerde ${signInAs(ctx)} en vraagt contact op te nemen met de beheerder: het account is aan de kant van de mailserver geblokkeerd of uitgeschakeld, het is geen tokenprobleem. Controleer het account in het Microsoft 365 admin center (aanmelden geblokkeerd, mailbox uitgeschakeld of on hold) en de woorden van de server in het bewijs.`,
  }),
  SMTP_AUTH_DISABLED_TENANT: ctx => ({
    text: `Exchange Online weigert SMTP AUTH voor de hele tenant (uitgeschakeld voor de tenant), dus ${mbx(ctx)} kan niet verzenden, welk token het ook heeft. Schakel Authenticated SMTP in voor het account dat zich aanmeldt (de mailboxinstelling gaat boven die van de tenant; kleinste wijziging), of zet SMTP AUTH aan voor de tenant.`,
    fix: `Set-CASMailbox -Identity ${mbx(ctx)} -SmtpClientAuthenticationDisabled $false\nof, voor de hele tenant: Set-TransportConfig -SmtpClientAuthenticationDisabled $false`,
  }),
  SMTP_SECURITY_DEFAULTS: () => ({
    text: 'De standaardinstellingen voor beveiliging (security defaults) van Entra ID staan aan voor de tenant, en daarmee weigert Exchange Online SMTP AUTH voor elk account, wat de schakelaars van Set-CASMailbox en Set-TransportConfig ook zeggen. Een tenantbeheerder zet de security defaults uit en vervangt ze door Conditional Access-beleid dat MFA voor mensen behoudt en SMTP AUTH voor het ECE-account toestaat.',
    fix: 'Entra admin center > Identity > Overview > Properties > Manage security defaults: Disabled (nadat het gelijkwaardige Conditional Access-beleid is aangemaakt)',
  }),
  SMTP_NOT_AUTHENTICATED: ctx => ({
    text: `${hostPort(ctx)} werd gevraagd te verzenden vóór een geslaagde AUTH: de client stuurde MAIL FROM zonder zich aan te melden (authenticatie uitgeschakeld in het account, of AUTH mislukte eerder en de client ging door), of hij praat met een poort of host die geen verzending door clients (client submission) aanneemt. Het account in ECE moet smtp.office365.com poort 587 gebruiken, met STARTTLS en OAuth 2.0-authenticatie; de weigering daarvóór, als die er is, is de echte oorzaak.`,
    fix: `E-mailaccount in ECE voor ${mbx(ctx)}: uitgaande server smtp.office365.com, poort 587, STARTTLS, authenticatie OAuth 2.0`,
  }),

  // Entra ID (AADSTS codes).
  AADSTS50011: ctx => ({
    text: `De redirect-URI die ECE meestuurt, is niet geregistreerd bij de app: registreer hem exact (schema, host, poort, pad) op de host van de externe URL, ${externalHost(ctx)}.`,
    fix: `${appPath(ctx)} > Authentication > Web > Redirect URIs: voeg de ECE-callback toe op https://${externalHost(ctx)}`,
  }),
  AADSTS90002: tenantNotFound,
  AADSTS700016: ctx => ({
    text: `Entra heeft in deze tenant geen applicatie met de client-id uit het verzoek: vergelijk de Application (client) ID in de instellingen van het e-mailaccount in ECE met die op de pagina Overview van de app-registratie (niet de Object ID of een geheim), en controleer of de app is geregistreerd in de tenant waarin de mailboxen staan (inventaris: ${ctx.env.app.clientId} in ${ctx.env.tenantId}).`,
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
    text: `Entra vond in deze tenant geen resource met de naam uit de scope${ctx.server ? ` ("${ctx.server}")` : ''}. Controleer de tenant-id in ECE aan de hand van "Tenant ID" op de pagina Overview van Entra (het verzoek ging naar de verkeerde tenant), en of de scopes exact https://outlook.office.com/ noemen (geen typefout, geen dubbele https://); pas als beide kloppen, ontbreekt Exchange Online in de tenant.`,
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
  AADSTS50057: accountProblem(
    'Het account is uitgeschakeld (aanmelden geblokkeerd): schakel het in (Entra admin center > Users > het account > Account enabled, of hef de aanmeldblokkering op in het Microsoft 365 admin center).',
  ),
  AADSTS50053: accountProblem('Het account is vergrendeld.'),
  AADSTS50055: accountProblem(
    'Het wachtwoord van het account is verlopen: stel het opnieuw in (of laat het bij de volgende aanmelding wijzigen).',
  ),
  AADSTS50076: mfaRequired(
    'Een beleid (MFA per gebruiker, Conditional Access of security defaults) vereist nu meervoudige verificatie (MFA) die de opgeslagen toekenning niet bevat.',
  ),
  AADSTS50079: ctx => ({
    text: `${signInAs(ctx)} moet zich registreren voor meervoudige verificatie (MFA) voordat Entra er tokens voor uitgeeft: meld je eenmaal aan als ${signInAs(ctx)} en registreer de beveiligingsgegevens (security info, MFA-registratie), en genereer daarna het token in ECE opnieuw voor ${mbx(ctx)} in een InPrivate-venster.`,
    fix: `Registreer MFA voor ${signInAs(ctx)}, daarna E-mailaccount in ECE voor ${mbx(ctx)} > Generate token`,
  }),
  AADSTS50074: regenerate('De meervoudige verificatie (MFA) is niet afgerond.'),
  AADSTS53003: conditionalAccess('Conditional Access blokkeerde de aanmelding.'),
  AADSTS530035: () => ({
    text: 'De standaardinstellingen voor beveiliging (security defaults) blokkeerden de aanmelding (verouderde verificatie, of een aanmelding die ze onveilig achten). Security defaults kunnen geen account uitsluiten: als het mailaccount zich op deze manier moet aanmelden, vervang de security defaults dan door Conditional Access-beleid; het aanmeldlogboek toont de geblokkeerde aanmelding.',
  }),
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
  AADSTS9002313: tokenDamaged(
    'Entra antwoordde "Request is malformed or invalid" op het vernieuwen van het token.',
  ),
  AADSTS900144: requestBug,
  AADSTS90014: requestBug,
  AADSTS70016: () => ({
    text: 'De aanmelding met apparaatcode wacht nog: rond de aanmelding af op de pagina van Microsoft.',
  }),
  AADSTS70000: tokenDamaged(
    'Entra accepteert het vernieuwingstoken niet (onjuist opgebouwd of ongeldig).',
  ),
  AADSTS70003: requestBug,
  AADSTS70019: restartSignIn,
  AADSTS50059: ctx => ({
    text: `Gebruik de tenantspecifieke authority https://login.microsoftonline.com/${ctx.env.tenantId} in plaats van /common.`,
  }),
  AADSTS900561: requestBug,
  AADSTS1002012: requestBug,

  // Entra: codes seen in real mail-client reports.
  AADSTS700084: ctx => ({
    text: `Het token is gegenereerd via een redirect-URI die onder het platform Single-page application is geregistreerd, dus Entra gaf het een vaste levensduur van 24 uur die niet kan worden verlengd. Registreer de redirect-URI van ECE in plaats daarvan onder het platform Web (en verwijder hem bij Single-page application), en genereer daarna het token in ECE opnieuw voor ${mbx(ctx)}.`,
    fix: `${appPath(ctx)} > Authentication: verplaats de ECE-redirect-URI van "Single-page application" naar "Web"; daarna E-mailaccount in ECE voor ${mbx(ctx)} > Generate token`,
  }),
  AADSTS7000112: () => ({
    // The English fix is a bare portal path, the same in both languages.
    text: 'De ECE-applicatie is uitgeschakeld in de tenant: schakel de enterprise-applicatie ervan in ("Enabled for users to sign in" = Yes). Heeft Microsoft haar uitgeschakeld (de app-registratie toont dat), dan kan alleen Microsoft-ondersteuning dat opheffen; een nieuwe app-registratie is de andere uitweg.',
  }),
  AADSTS50078: mfaRequired(
    'De meervoudige verificatie (MFA) in de toekenning is verlopen volgens een beleid van de beheerder (aanmeldingsfrequentie van Conditional Access of de geldigheidsduur van MFA).',
  ),
  AADSTS900023: tenantNotFound,
  ENTRA_ERROR: ctx =>
    ctx.aadsts !== undefined
      ? {
          text: `Entra ID weigerde het verzoek met AADSTS${ctx.aadsts}${ctx.server ? `: "${ctx.server}"` : ''}. ecebot heeft geen beschrijving voor dit nummer; de pagina van Microsoft voor AADSTS${ctx.aadsts} legt de oorzaak en de oplossing uit.`,
        }
      : {
          text: `Entra ID weigerde het verzoek${ctx.server ? `: "${ctx.server}"` : ''}, zonder een AADSTS-nummer dat ecebot kent; de AADSTS-naslag legt de fout in het bewijs uit.`,
        },
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
  ECE_ES_NOT_LATEST: ctx => {
    const newest = newestKnownEs(ctx.env.ece.version);
    const at = newest ? `${formatEs(newest.es)} of later` : 'de nieuwste Engineering Special';
    return {
      text: `Installeer ${at} voor ECE ${ctx.env.ece.version}: OAuth werkt vanaf het minimum, maar Cisco raadt de nieuwste ES voor de release aan (technote 218453, item 1).`,
      fix: `Installeer ECE ${ctx.env.ece.version} ${at}`,
    };
  },
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
  ECE_EXTERNAL_URL_CA_UNKNOWN: ctx => ({
    text: `Het certificaat voor ${externalHost(ctx)} is geldig en noemt de host, maar de keten eindigt bij een CA die ecebot niet kent${from(ctx)}. Is dat uw eigen bedrijfs-CA, voeg dan uw CA-certificaat (PEM) toe aan endpoints.caFile in de inventaris; het certificaat van de webserver zelf hoeft niet te veranderen.`,
    fix: 'Inventaris: endpoints.caFile: <pad naar uw CA-certificaat, PEM>',
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
    text: `Exchange Online antwoordde traag${from(ctx)}${ctx.mailbox ? ` voor ${ctx.mailbox}` : ''}: controleer proxy's, TLS-inspectie en de route naar Microsoft 365. De Remote Connectivity Analyzer van Microsoft vergelijkt de route van buitenaf, maar alleen met zijn SMTP-test: de POP- en IMAP-tests ervan melden zich aan met een wachtwoord, wat Exchange Online weigert, dus die mislukken altijd.`,
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
