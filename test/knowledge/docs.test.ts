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
