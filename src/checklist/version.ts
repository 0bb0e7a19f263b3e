/**
 * Checklist item 1, minimum version: the ECE release and Engineering Special carry OAuth for
 * Office 365 (CSCvr86493; 11.6(1) ES12 + ES12 ET1, 12.0(1) ES6, 12.5(1) ES3, 12.6(1) ES1).
 * Judged from the inventory alone; an unknown release warns, it never passes silently.
 */
import { checkVersion } from '../knowledge/versions';
import { fact } from './evidence';
import { judge, part, type Rule } from './rule';
import type { Text } from '../model/items';
import type { ItemDeclaration } from './item';

const TITLE: Text = { en: 'Minimum ECE version', nl: 'Minimale ECE-versie' };

export const version: Rule = ({ env }) => {
  const v = checkVersion(env.ece.version, env.ece.es, env.ece.et);
  const evidence = [
    fact('ece.version', `Inventory: ECE ${v.installed}`, v.status === 'pass', v.code),
  ];
  return judge('version', TITLE.en, env, [part(v.status, v.code, v.reason, evidence)]);
};

/** Checklist item: Minimum ECE version. */
export const item: ItemDeclaration = {
  id: 'version',
  title: TITLE,
  reads: [],
  rule: version,
};
