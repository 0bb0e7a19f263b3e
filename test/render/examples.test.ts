/**
 * cards/examples/ is what the code builds: each example file equals the data the bot's card
 * builders produce from the same inputs (src/teams/card-examples.ts), and every file there is
 * one of them. A change to a card that forgets `npm run cards:examples` fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cardExamples, exampleText, EXAMPLES_DIR } from '../../src/teams/card-examples';

const examples = cardExamples();

test('every example file is generated, and every generated example is a file', () => {
  const files = readdirSync(EXAMPLES_DIR).filter(f => f.endsWith('.data.json'));
  expect(files.sort()).toEqual(Object.keys(examples).sort());
});

test.each(Object.keys(examples))('%s is what the code builds (npm run cards:examples)', name => {
  const file = readFileSync(join(EXAMPLES_DIR, name), 'utf8');
  expect(file).toBe(exampleText(examples[name]));
});
