'use strict';
/**
 * Builds dist/ once before the suite, because some tests run the real `ecebot` binary.
 * Type errors do not stop the emit (tsc's default); `npm run typecheck` reports them.
 */
const { spawnSync } = require('child_process');
const path = require('path');

module.exports = async () => {
  const root = path.join(__dirname, '..', '..');
  spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
};
