import { checkVersion, compareRelease, formatEs, parseRelease } from '../../src/knowledge/versions';

describe('checkVersion: the OAuth minimum per ECE release (CSCvr86493)', () => {
  test.each`
    version      | es    | et           | status    | code
    ${'11.6(1)'} | ${12} | ${1}         | ${'pass'} | ${'OK'}
    ${'11.6(1)'} | ${12} | ${undefined} | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'11.6(1)'} | ${12} | ${0}         | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'11.6(1)'} | ${11} | ${1}         | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'11.6(1)'} | ${13} | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.0(1)'} | ${6}  | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.0(1)'} | ${5}  | ${undefined} | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'12.5(1)'} | ${3}  | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.5(1)'} | ${2}  | ${undefined} | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'12.6(1)'} | ${1}  | ${undefined} | ${'warn'} | ${'ECE_ES_NOT_LATEST'}
    ${'12.6(1)'} | ${9}  | ${undefined} | ${'warn'} | ${'ECE_ES_NOT_LATEST'}
    ${'12.6(1)'} | ${10} | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.6(1)'} | ${12} | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.6(1)'} | ${0}  | ${undefined} | ${'fail'} | ${'ECE_ES_TOO_OLD'}
    ${'12.6(2)'} | ${0}  | ${undefined} | ${'pass'} | ${'OK'}
    ${'12.7(1)'} | ${0}  | ${undefined} | ${'pass'} | ${'OK'}
    ${'13.0(1)'} | ${0}  | ${undefined} | ${'pass'} | ${'OK'}
    ${'11.5(1)'} | ${99} | ${undefined} | ${'fail'} | ${'ECE_VERSION_UNSUPPORTED'}
    ${'10.0(1)'} | ${0}  | ${undefined} | ${'fail'} | ${'ECE_VERSION_UNSUPPORTED'}
    ${'12.1(1)'} | ${9}  | ${undefined} | ${'warn'} | ${'ECE_VERSION_UNKNOWN'}
    ${'11.6(2)'} | ${12} | ${1}         | ${'warn'} | ${'ECE_VERSION_UNKNOWN'}
    ${'12.6'}    | ${1}  | ${undefined} | ${'warn'} | ${'ECE_VERSION_UNKNOWN'}
    ${'latest'}  | ${1}  | ${undefined} | ${'warn'} | ${'ECE_VERSION_UNKNOWN'}
  `('$version ES$es ET$et → $status $code', ({ version, es, et, status, code }) => {
    const v = checkVersion(version, es, et);
    expect(v.status).toBe(status);
    expect(v.code).toBe(code);
    expect(v.reason).toContain(version);
  });

  test('an ES that is too old names the minimum it needs', () => {
    const v = checkVersion('11.6(1)', 12);
    expect(v.minimum).toEqual({ release: '11.6(1)', es: 12, et: 1 });
    expect(v.reason).toContain('11.6(1) ES12 ET1');
  });

  test('releases parse and order like Cisco numbers them', () => {
    const a = parseRelease('12.5(1)');
    const b = parseRelease('12.10(1)');
    expect(a && b && compareRelease(a, b)).toBeLessThan(0);
    expect(parseRelease('12.6')).toBeUndefined();
    expect(formatEs(0)).toBe('no ES');
    expect(formatEs(12, 1)).toBe('ES12 ET1');
  });
});
