import { externalUrl } from '../../src/checklist/external-url';
import type { EnvironmentFacts } from '../../src/model';
import { drop, edit, facts, https, is, swap } from './fixtures';

const withUrl = (ece: Partial<EnvironmentFacts['ece']>) =>
  facts({ ece: { version: '12.6(1)', es: 1, ...ece } });

describe('external-url rule', () => {
  test.each`
    name                       | env                                                                                                                                        | status    | code
    ${'set, https, FQDN'}      | ${facts()}                                                                                                                                 | ${'pass'} | ${'OK'}
    ${'same admin host'}       | ${withUrl({ externalUrl: 'https://ece.example.com', adminUrl: 'https://ECE.example.com/system/web/view/platform/common/login/root.jsp' })} | ${'pass'} | ${'OK'}
    ${'not set'}               | ${withUrl({})}                                                                                                                             | ${'fail'} | ${'ECE_EXTERNAL_URL_MISSING'}
    ${'http'}                  | ${withUrl({ externalUrl: 'http://ece.example.com' })}                                                                                      | ${'fail'} | ${'ECE_EXTERNAL_URL_NOT_HTTPS'}
    ${'no scheme'}             | ${withUrl({ externalUrl: 'ece.example.com' })}                                                                                             | ${'fail'} | ${'ECE_EXTERNAL_URL_NOT_HTTPS'}
    ${'short name'}            | ${withUrl({ externalUrl: 'https://ece' })}                                                                                                 | ${'fail'} | ${'ECE_EXTERNAL_URL_NOT_FQDN'}
    ${'IP address'}            | ${withUrl({ externalUrl: 'https://10.0.0.5' })}                                                                                            | ${'fail'} | ${'ECE_EXTERNAL_URL_NOT_FQDN'}
    ${'admin on another host'} | ${withUrl({ externalUrl: 'https://ece.example.com', adminUrl: 'https://ecead.example.com' })}                                              | ${'fail'} | ${'ECE_EXTERNAL_URL_ADMIN_MISMATCH'}
  `('$name → $status $code', ({ env, status, code }) => {
    const f = externalUrl(edit(undefined, env));
    expect(f).toMatchObject({ item: 'external-url', status, code });
    if (status === 'fail') {
      expect(f.remediation[0]?.fix).toContain(
        'Partition > Apps > General Settings > "External URL of the application"',
      );
    }
  });

  test.each`
    vantage         | obsCode               | code
    ${'app-1'}      | ${'TLS_CERT_EXPIRED'} | ${'ECE_EXTERNAL_URL_CERT'}
    ${'services-1'} | ${'TLS_CERT_INVALID'} | ${'ECE_EXTERNAL_URL_CERT'}
    ${'services-1'} | ${'CONNECT_REFUSED'}  | ${'ECE_EXTERNAL_URL_UNREACHABLE'}
    ${'app-1'}      | ${'TIMEOUT'}          | ${'ECE_EXTERNAL_URL_UNREACHABLE'}
  `(
    '$obsCode from $vantage → fail $code, failed on that server only',
    ({ vantage, obsCode, code }) => {
      const f = externalUrl(
        edit(obs =>
          swap(obs, is.https(vantage), o => https(o.vantage, o.url, { code: obsCode, ok: false })),
        ),
      );
      expect(f).toMatchObject({
        status: 'fail',
        code,
        failedOn: [vantage],
        vantages: ['services-1', 'app-1'],
      });
      expect(f.summary).toContain(vantage);
      expect(f.evidence.find(e => e.vantage === vantage && !e.ok)?.code).toBe(obsCode);
    },
  );

  test('a certificate Node did not trust fails even when the request completed', () => {
    const f = externalUrl(
      edit(obs =>
        swap(obs, is.https('app-1'), o => ({
          ...o,
          cert: {
            subject: '',
            issuer: '',
            altNames: [],
            validFrom: '',
            validTo: '',
            fingerprint256: '',
            trusted: false,
          },
        })),
      ),
    );
    expect(f).toMatchObject({ status: 'fail', code: 'ECE_EXTERNAL_URL_CERT', failedOn: ['app-1'] });
  });

  test('a server that was not observed is named as not checked', () => {
    const f = externalUrl(edit(obs => drop(obs, is.https('app-1'))));
    expect(f.status).toBe('skip');
    expect(f.summary).toContain('not observed from app-1; established:');
    expect(f.codes).toEqual(['NO_WORKER']);
    expect(f.remediation[0]?.fix).toBe('ecebot worker --vantage prod/app-1');
  });

  test('a crashed probe is an error, not a verdict on the URL', () => {
    const f = externalUrl(
      edit(obs =>
        swap(obs, is.https('app-1'), o =>
          https(o.vantage, o.url, { code: 'CHECK_CRASHED', ok: false }),
        ),
      ),
    );
    expect(f).toMatchObject({ status: 'error', code: 'CHECK_CRASHED' });
  });
});
