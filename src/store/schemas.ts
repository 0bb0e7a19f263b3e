/**
 * The shapes of what ecebot reads back from Redis (../redis/stored.ts): a finished run, its
 * summary, a card reference. Objects are parsed strictly enough that a card or a bundle made
 * from the value cannot fail on it (known item ids, statuses and codes; bounded text), and zod
 * builds new objects with the known keys only, so nothing extra rides along.
 */
import { z } from 'zod';
import { isItemId } from '../checklist/items';
import { CODE_TABLE } from '../knowledge/codes';
import type { Code, ItemId, Run } from '../model';
import type { CardRef, RunSummary } from './types';

/** Longest text field accepted back (a finding's summary, a transcript line, a fix). */
const TEXT_MAX = 100_000;
const text = z.string().max(TEXT_MAX);
const itemId = z
  .string()
  .refine(isItemId, 'not a checklist item')
  .transform(v => v as ItemId);
const code = z
  .string()
  .refine(c => Object.hasOwn(CODE_TABLE, c), 'not an ecebot code')
  .transform(v => v as Code);
const status = z.enum(['pass', 'warn', 'fail', 'skip', 'error']);
const runStatus = z.enum(['pass', 'warn', 'fail']);
const iso = z.string().max(40);

const evidenceSchema = z.object({
  vantage: z.string().max(200),
  target: text,
  text,
  code,
  ok: z.boolean(),
  durationMs: z.number().optional(),
  server: text.optional(),
  transcript: z.array(text).max(10_000).optional(),
});

const remediationSchema = z.object({
  code,
  text,
  fix: text.optional(),
  textNl: text.optional(),
  fixNl: text.optional(),
  links: z.array(z.object({ title: text, url: z.string().max(2000) })).max(100),
});

const findingSchema = z.object({
  item: itemId,
  title: text,
  status,
  summary: text,
  summaryNl: text.optional(),
  code,
  codes: z.array(code).max(1000),
  evidence: z.array(evidenceSchema).max(10_000),
  remediation: z.array(remediationSchema).max(1000),
  failedOn: z.array(z.string().max(200)).max(1000),
  vantages: z.array(z.string().max(200)).max(1000),
  vantage: z.string().max(10_000).optional(),
  rootCause: itemId.optional(),
  durationMs: z.number(),
});

/** A finished run as the store and the result key hold it. */
export const runSchema = z
  .object({
    id: z.string().min(1).max(200),
    environment: z.string().min(1).max(200),
    startedAt: iso,
    finishedAt: iso,
    status: runStatus,
    ece: z.object({ version: z.string().max(100).optional(), es: z.number().optional() }),
    findings: z.array(findingSchema).max(100),
  })
  // Optional fields come back as absent, never as `undefined` (exactOptionalPropertyTypes).
  .transform(v => v as Run);

/** A run's summary (history and search lists). */
export const summarySchema = z
  .object({
    id: z.string().min(1).max(200),
    environment: z.string().min(1).max(200),
    status: runStatus,
    startedAt: iso,
    finishedAt: iso,
    problems: z.array(z.object({ item: z.string().max(100), status })).max(100),
  })
  .transform(v => v as RunSummary);

/** Where a run's card was posted. */
export const cardRefSchema = z.object({
  conversation: z.string().min(1).max(2000),
  activityId: z.string().min(1).max(2000),
}) satisfies z.ZodType<CardRef>;
