/** Resolves with the first SIGINT or SIGTERM, for long-running commands (lab, serve, worker). */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise(resolve => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
