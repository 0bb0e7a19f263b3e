/**
 * Type-level checks that a schema yields exactly a declared type: the observation types stay
 * plain TypeScript (they will move to a module that imports nothing), and the schemas that
 * fill them must not drift from them.
 */

/** `true` when A and B are the same type (not merely assignable either way). */
export type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when T is `true`. */
export type Assert<T extends true> = T;
