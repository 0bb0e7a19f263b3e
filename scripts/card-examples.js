#!/usr/bin/env node
'use strict';
// Writes cards/examples/*.data.json from the code that builds the bot's cards
// (src/teams/card-examples.ts, compiled by `npm run build`).
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { cardExamples, exampleText, EXAMPLES_DIR } = require('../dist/teams/card-examples.js');

for (const [name, data] of Object.entries(cardExamples())) {
  writeFileSync(join(EXAMPLES_DIR, name), exampleText(data));
  console.log(`wrote cards/examples/${name}`);
}
