/** The error a run client reports when no assembler is running (./run-client.ts). */

/** No assembler beat while a client waited: nothing would ever assemble the run. */
export class NoAssemblerError extends Error {
  /** Stable code for callers. */
  readonly code = 'NO_ASSEMBLER';

  constructor(runId: string, where: string, prefix: string, waitedMs: number, seen?: string) {
    super(
      `no assembler is running on the queue at ${where} (prefix ${prefix})${
        seen ? `: none seen since ${seen}` : ''
      }; waited ${Math.round(waitedMs / 1000)} s. Start \`ecebot serve\` (the bot) or \`ecebot assembler\` with the full inventory; run ${runId} stays queued and is assembled once one runs`,
    );
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
