'use strict';
/**
 * Preloaded (`node -r`) into a child ecebot process: when it exits, writes its peak resident
 * set size in bytes (process.resourceUsage().maxRSS is in kilobytes) to $ECEBOT_MAXRSS_FILE.
 */
const { writeFileSync } = require('fs');

const file = process.env.ECEBOT_MAXRSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
  });
}
