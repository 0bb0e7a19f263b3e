/**
 * The lab's clock: real time plus an offset a test or scenario can move forward, so what ages
 * over days at Entra (a refresh token unused for 90 days, AADSTS700082) can be seen in seconds.
 * Only the lab's own decisions read it; tokens handed to the mail servers keep real time, since
 * those servers check `exp` against the real clock.
 */
export class LabClock {
  private offsetMs: number;

  constructor(offsetMs = 0) {
    this.offsetMs = offsetMs;
  }

  /** Now on the lab clock. */
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Milliseconds since the epoch on the lab clock. */
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** Move the clock forward (a negative value moves it back). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
