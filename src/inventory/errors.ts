/**
 * Inventory errors name the file, the line and the field, say what is wrong and how to fix it
 * (DESIGN.md: "A bad file gets an error that names the file, the line and the field, and
 * nothing runs"). The CLI prints them and exits 2.
 */

/** A problem with the inventory or with the command's input; nothing has run. */
export class InputError extends Error {
  constructor(
    message: string,
    /** How to fix it, in one sentence. */
    readonly hint?: string,
    /** File the problem is in. */
    readonly file?: string,
    /** 1-based line in that file. */
    readonly line?: number,
    /** Dotted path of the field, e.g. `environments.prod.app.secret`. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'InputError';
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /** `FILE:LINE: field: message (hint)` — the form editors and terminals link. */
  describe(): string {
    const where = [this.file, this.line].filter(v => v !== undefined).join(':');
    const parts = [where && `${where}:`, this.field && `${this.field}:`, this.message].filter(
      Boolean,
    );
    return `${parts.join(' ')}${this.hint ? `\n  fix: ${this.hint}` : ''}`;
  }
}
