import { aadstsCode, codeNames, CODE_TABLE, isCode } from '../../src/knowledge/codes';

// That every code has an entry with every field is the compiler's job (`satisfies` in
// src/knowledge/codes.ts); these hold the entries' contents to what the cards need.
describe('code table', () => {
  test.each(codeNames())('%s has an English and a Dutch meaning, the Dutch translated', code => {
    const { en, nl } = CODE_TABLE[code].meaning;
    expect(en.trim()).not.toBe('');
    expect(nl.trim()).not.toBe('');
    expect(nl).not.toBe(en);
  });

  test.each(codeNames())('%s has a phrase, and a generic phrase names its own code', code => {
    const phrase = CODE_TABLE[code].phrase;
    expect(phrase.trim()).not.toBe('');
    const named = /^failed \((.+)\)$/.exec(phrase)?.[1];
    if (named !== undefined) expect(named).toBe(code);
  });

  test('an AADSTS number maps to its own code, an unknown one to ENTRA_ERROR', () => {
    expect(aadstsCode(700082)).toBe('AADSTS700082');
    expect(aadstsCode(50058)).toBe('AADSTS50058');
    expect(aadstsCode(12345)).toBe('ENTRA_ERROR');
  });

  test('only table keys are codes, not words inherited from Object', () => {
    expect(isCode('SEND_AS_DENIED')).toBe(true);
    expect(isCode('toString')).toBe(false);
    expect(isCode('constructor')).toBe(false);
    expect(isCode('send_as_denied')).toBe(false);
  });
});
