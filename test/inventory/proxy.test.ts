/**
 * The HTTP proxy setting: the inventory's endpoints.proxy with credentials by reference, or the
 * standard HTTPS_PROXY / NO_PROXY variables. Bad values are clear errors that never repeat a
 * password; credentials are masked by every context made from the setting.
 */
import { InputError } from '../../src/inventory/errors';
import { EndpointsSchema } from '../../src/inventory/schema';
import type { Environment } from '../../src/inventory/types';
import { deadlinesOf, probeContext, proxyOf } from '../../src/tenant/context';
import { Redactor } from '../../src/util/redact';

function env(endpoints: Environment['endpoints'] = undefined): Environment {
  return {
    name: 'prod',
    file: '/inventory/prod.yaml',
    ...(endpoints ? { endpoints } : {}),
  } as Environment;
}

test('endpoints.proxy with proxyCredentials from the environment', () => {
  const p = proxyOf(
    env({ proxy: 'http://proxy.corp:3128', proxyCredentials: 'env:PROXY_CREDS' }),
    undefined,
    { PROXY_CREDS: 'CORP\\svc-ece:Pr0xy-Secret', NO_PROXY: 'ece.example.com,.corp' },
  );
  expect(p).toMatchObject({
    origin: 'http://proxy.corp:3128',
    source: 'inventory',
    credentials: { user: 'CORP\\svc-ece', password: 'Pr0xy-Secret' },
    noProxy: ['ece.example.com', '.corp'],
  });
  const e = env({ proxy: 'http://proxy.corp:3128' });
  const ctx = probeContext(
    {
      env: e,
      deadlines: deadlinesOf({ ...e, budget: undefined } as Environment),
      proxy: p!,
      redactor: new Redactor(),
    },
    'services-1',
  );
  expect(ctx.proxy).toBe(p);
  expect(ctx.redactor.text('password Pr0xy-Secret')).not.toContain('Pr0xy-Secret');
});

test('without endpoints.proxy, HTTPS_PROXY (with credentials) applies; nothing set, no proxy', () => {
  const p = proxyOf(env(), undefined, { HTTPS_PROXY: 'http://u:p4ssw0rd@10.0.0.8:8080' });
  expect(p).toMatchObject({ origin: 'http://10.0.0.8:8080', source: 'environment', port: 8080 });
  expect(p?.credentials).toEqual({ user: 'u', password: 'p4ssw0rd' });
  expect(proxyOf(env(), undefined, { https_proxy: 'proxy.corp:3128' })?.origin).toBe(
    'http://proxy.corp:3128',
  );
  expect(proxyOf(env(), undefined, {})).toBeUndefined();
});

test('a bad HTTPS_PROXY is an InputError that names the variable and never repeats the password', () => {
  let err: unknown;
  try {
    proxyOf(env(), undefined, { HTTPS_PROXY: 'https://u:p4ssw0rd@proxy.corp:3128' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  expect((err as Error).message).toContain('HTTPS_PROXY');
  expect(JSON.stringify(err) + String((err as Error).message)).not.toContain('p4ssw0rd');
});

test('proxy credentials without a colon are refused, naming the field', () => {
  expect(() =>
    proxyOf(
      env({ proxy: 'http://proxy.corp:3128', proxyCredentials: 'env:PROXY_CREDS' }),
      undefined,
      { PROXY_CREDS: 'just-a-password' },
    ),
  ).toThrow(/user:password/);
});

test('the inventory refuses credentials written into endpoints.proxy (secret values stay out)', () => {
  const r = EndpointsSchema.safeParse({ proxy: 'http://svc:secret@proxy.corp:3128' });
  expect(r.success).toBe(false);
  expect(EndpointsSchema.safeParse({ proxy: 'http://proxy.corp:3128' }).success).toBe(true);
});
