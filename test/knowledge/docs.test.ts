import { docsFor, externalUrlSetting } from '../../src/knowledge/docs';
import { isSeenUrl } from '../../src/knowledge/links';

describe('documentation per ECE release (checklist.md)', () => {
  test.each`
    version      | guides
    ${'11.6(1)'} | ${['Email Resources admin guide (UCCE and PCCE)']}
    ${'12.0(1)'} | ${['Email Resources admin guide (UCCE)', 'Chat and Email Resources admin guide (PCCE)']}
    ${'12.5(1)'} | ${['Email Resources admin guide (UCCE)', 'Chat and Email Resources admin guide (PCCE)']}
    ${'12.6(1)'} | ${['Email and Routing Resources admin guide (UCCE and PCCE)']}
  `('$version names its guides and links only seen URLs', ({ version, guides }) => {
    const d = docsFor(version);
    expect(d.guides.map(g => `${g.name} (${g.deployment})`)).toEqual(guides);
    for (const g of guides as string[]) expect(d.links[0]?.title).toContain(g.split(' (')[0]);
    for (const l of d.links) expect(isSeenUrl(l.url)).toBe(true);
  });

  test('only 11.6(1) gets the community ES12 + ET1 walkthrough', () => {
    expect(docsFor('11.6(1)').links.map(l => l.url)).toContain(
      'https://voiptechwikis.com/ece-oauth-config/',
    );
    expect(docsFor('12.6(1)').links.map(l => l.url)).not.toContain(
      'https://voiptechwikis.com/ece-oauth-config/',
    );
  });

  // The technote's English path on cisco.com (o365-facts.md §0: seen on a mirror keeping
  // cisco.com's paths): English cards link the English edition.
  test('the technote linked is the English edition on cisco.com', () => {
    expect(docsFor('12.6(1)').links[0]?.url).toBe(
      'https://www.cisco.com/c/en/us/support/docs/contact-center/enterprise-chat-email-1261/218453-troubleshoot-ece-oauth2-authentication-w.html',
    );
  });

  // Cisco's own Features Guides link the 12.5(1) and 12.6(1) documentation pages; no page for
  // 11.6(1) or 12.0(1) was seen, so none is shown for them.
  test.each`
    version      | page
    ${'12.5(1)'} | ${'https://www.cisco.com/c/en/us/support/contact-center/enterprise-chat-email-12-5-1/model.html'}
    ${'12.6(1)'} | ${'https://www.cisco.com/c/en/us/support/contact-center/enterprise-chat-email-12-6-1/model.html'}
    ${'11.6(1)'} | ${undefined}
    ${'12.0(1)'} | ${undefined}
  `('$version links its release documentation page where one was verified', ({ version, page }) => {
    const urls = docsFor(version).links.map(l => l.url);
    const pages = urls.filter(u => u.includes('/support/contact-center/enterprise-chat-email-'));
    expect(pages).toEqual(page ? [page] : []);
  });

  test('link titles name what to read, not what ecebot could not verify', () => {
    for (const v of ['11.6(1)', '12.0(1)', '12.5(1)', '12.6(1)', '13.0(1)'])
      for (const l of docsFor(v).links) expect(l.title).not.toMatch(/verified|Italian/i);
  });

  test('a release without a known guide still links the technote and says which release', () => {
    const d = docsFor('13.0(1)');
    expect(d.guides).toEqual([]);
    expect(d.links[0]?.title).toContain('13.0(1)');
  });

  test.each`
    version      | setting
    ${'11.6(1)'} | ${'Web server URL or Load balancer URL'}
    ${'12.5(1)'} | ${'Web server URL or Load balancer URL'}
    ${'12.6(1)'} | ${'Partition > Apps > General Settings > "External URL of the application"'}
    ${'13.0(1)'} | ${'Partition > Apps > General Settings > "External URL of the application"'}
  `('the external URL setting in $version is $setting', ({ version, setting }) => {
    expect(externalUrlSetting(version)).toContain(setting);
  });

  test('an unreadable release gets both setting names', () => {
    const s = externalUrlSetting('twelve');
    expect(s).toContain('External URL of the application');
    expect(s).toContain('Web server URL or Load balancer URL');
  });
});
