import { version } from '../../src/checklist/version';
import { edit, facts } from './fixtures';

// The version item is judged from the inventory alone, which always carries a version (the
// schema requires it), so it has no skip case: an unreadable version warns instead.
describe('version rule', () => {
  test.each`
    ece                                      | status    | code                         | summary
    ${{ version: '12.6(1)', es: 10 }}        | ${'pass'} | ${'OK'}                      | ${'meets the OAuth minimum 12.6(1) ES1'}
    ${{ version: '12.6(1)', es: 1 }}         | ${'warn'} | ${'ECE_ES_NOT_LATEST'}       | ${'ES10 or later'}
    ${{ version: '12.5(1)', es: 3 }}         | ${'pass'} | ${'OK'}                      | ${'knows no newer ES'}
    ${{ version: '11.6(1)', es: 12, et: 1 }} | ${'pass'} | ${'OK'}                      | ${'11.6(1) ES12 ET1'}
    ${{ version: '13.0(1)', es: 0 }}         | ${'pass'} | ${'OK'}                      | ${'later than 12.6(1)'}
    ${{ version: '12.6(1)', es: 0 }}         | ${'fail'} | ${'ECE_ES_TOO_OLD'}          | ${'below the OAuth minimum 12.6(1) ES1'}
    ${{ version: '11.6(1)', es: 12 }}        | ${'fail'} | ${'ECE_ES_TOO_OLD'}          | ${'11.6(1) ES12 ET1'}
    ${{ version: '11.5(1)', es: 4 }}         | ${'fail'} | ${'ECE_VERSION_UNSUPPORTED'} | ${'predates OAuth'}
    ${{ version: '12.1(1)', es: 3 }}         | ${'warn'} | ${'ECE_VERSION_UNKNOWN'}     | ${'12.1(1)'}
  `('$ece.version ES$ece.es → $status $code', ({ ece, status, code, summary }) => {
    const f = version(edit(undefined, facts({ ece })));
    expect(f).toMatchObject({ item: 'version', status, code });
    expect(f.summary).toContain(summary);
    expect(f.codes).toEqual(code === 'OK' ? [] : [code]);
    expect(f.remediation.map(r => r.code)).toEqual(f.codes);
  });

  // Cisco's UCCE 15.0(1) Features Guide: "ECE ES10 or later on ECE 12.6(1)"; the technote's best
  // practice is the newest ES for the release.
  test('an ES below the newest Cisco names says which one, as a warning that still meets the minimum', () => {
    const f = version(edit(undefined, facts({ ece: { version: '12.6(1)', es: 3 } })));
    expect(f.status).toBe('warn');
    expect(f.remediation[0]?.fix).toBe('Install ECE 12.6(1) ES10 or later');
  });

  test('an ES too old says which ES to install', () => {
    const f = version(edit(undefined, facts({ ece: { version: '12.5(1)', es: 2 } })));
    expect(f.remediation[0]?.fix).toBe('Install ECE 12.5(1) ES3 (or the newest ES for 12.5(1))');
  });
});
