/**
 * Documentation per ECE release (checklist.md, "Documentation per release"): which Cisco admin
 * guide covers the OAuth mail set-up, and where the external URL setting lives. No URL of the
 * guides themselves was verified (o365-facts.md §4), so the guide is named, the technote linked,
 * and, for the releases whose documentation page on cisco.com Cisco's own guides link to
 * (./links.ts), that page too.
 */
import type { Link } from '../model';
import { LINKS } from './links';
import { compareRelease, parseRelease, type EceRelease } from './versions';

/** One Cisco administration guide, by name. */
export interface AdminGuide {
  /** The guide's name as the technote gives it. */
  name: string;
  /** Which deployments it is written for. */
  deployment: 'UCCE and PCCE' | 'UCCE' | 'PCCE';
}

/** What to read for one release. */
export interface ReleaseDocs {
  version: string;
  /** The admin guides for the release; empty when ecebot does not know them. */
  guides: AdminGuide[];
  /** Links to show: the technote (titled with the guide to follow) and release-specific extras. */
  links: Link[];
  /** Where "External URL of the application" is set in this release (checklist item 2). */
  externalUrlSetting: string;
}

const SETTING_OLD =
  'the partition-level setting "Web server URL or Load balancer URL" (ECE 11.5 to 12.5)';
const SETTING_NEW =
  'Partition > Apps > General Settings > "External URL of the application" (ECE 12.6 and later)';

const at = (text: string): EceRelease => parseRelease(text) as EceRelease;

/** The guides per release (checklist.md), and the release's documentation page where verified. */
const GUIDES: { release: string; guides: AdminGuide[]; page?: Link }[] = [
  {
    release: '11.6(1)',
    guides: [{ name: 'Email Resources admin guide', deployment: 'UCCE and PCCE' }],
  },
  {
    release: '12.0(1)',
    guides: [
      { name: 'Email Resources admin guide', deployment: 'UCCE' },
      { name: 'Chat and Email Resources admin guide', deployment: 'PCCE' },
    ],
  },
  {
    release: '12.5(1)',
    guides: [
      { name: 'Email Resources admin guide', deployment: 'UCCE' },
      { name: 'Chat and Email Resources admin guide', deployment: 'PCCE' },
    ],
    page: LINKS.ece1251Docs,
  },
  {
    release: '12.6(1)',
    guides: [{ name: 'Email and Routing Resources admin guide', deployment: 'UCCE and PCCE' }],
    page: LINKS.ece1261Docs,
  },
];

/** Where the external URL is set for a release; both names when the release is unreadable. */
export function externalUrlSetting(version: string): string {
  const r = parseRelease(version);
  if (!r) return `${SETTING_NEW}, or ${SETTING_OLD}`;
  return compareRelease(r, at('12.6(1)')) >= 0 ? SETTING_NEW : SETTING_OLD;
}

/** `ECE 12.6(1) Email and Routing Resources admin guide (UCCE and PCCE)`, joined with "or". */
export function guideNames(docs: Pick<ReleaseDocs, 'version' | 'guides'>): string {
  return docs.guides.map(g => `ECE ${docs.version} ${g.name} (${g.deployment})`).join(', or ');
}

/** The documentation for an installed release. */
export function docsFor(version: string): ReleaseDocs {
  const r = parseRelease(version);
  const known = r ? GUIDES.find(g => compareRelease(at(g.release), r) === 0) : undefined;
  const guides = known?.guides ?? [];
  const named = guides.length ? guideNames({ version, guides }) : undefined;
  const technote: Link = {
    title: named
      ? `${LINKS.technote.title}, with the ${named}`
      : `${LINKS.technote.title}, with the admin guide for ECE ${version}`,
    url: LINKS.technote.url,
  };
  const links = [technote];
  if (known?.page) links.push({ title: `${known.page.title} (${named})`, url: known.page.url });
  // The only public walkthrough seen covers 11.6 with ES12 + ES12_ET1 (o365-facts.md §0).
  if (known?.release === '11.6(1)') links.push(LINKS.communityEce116);
  return { version, guides, links, externalUrlSetting: externalUrlSetting(version) };
}
