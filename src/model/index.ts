/**
 * The shared vocabulary of every layer: item ids and read names, codes, observations, findings
 * and runs, inventory facts. The files of this folder import only each other.
 */
export * from './codes';
export * from './facts';
export * from './findings';
export * from './items';
export * from './observations';
