import type { Db } from '../../platform/db/database.ts';
import { badRequest } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import { NOT_ONE_LINE, PILED_MARKS, showsNothing } from '../../platform/text.ts';

export interface AuditEntry {
  /** Who: `cli:<user>`, `operator:<name>`, `merchant:<appId>`, `system`. */
  actor: string;
  action: string;
  subject: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

export const MAX_REASON_CHARS = 500;

/**
 * A reason is a line of text for people: bounded, and without control
 * characters (it is printed in terminals and written into CSV statements).
 */
export function checkReason(reason: string | undefined): void {
  if (reason === undefined) return;
  if (showsNothing(reason)) throw badRequest('reason: must not be blank (leave it out instead)');
  if (Array.from(reason).length > MAX_REASON_CHARS) throw badRequest(`reason: at most ${MAX_REASON_CHARS} characters`);
  if (NOT_ONE_LINE.test(reason)) throw badRequest('reason: must not contain control characters (line breaks, tabs, escapes, bidi overrides)');
  if (PILED_MARKS.test(reason)) throw badRequest('reason: must not pile combining marks on one character');
}

/**
 * Appends an audit fact; callers pass their transaction so it commits with the
 * action (and a reason `checkReason` refuses rolls the action back).
 */
export async function recordAudit(db: Db, now: number, entry: AuditEntry): Promise<void> {
  checkReason(entry.reason);
  await db
    .insertInto('audit_log')
    .values({
      id: newId('au_', now),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      reason: entry.reason ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
      created_at: now,
    })
    .execute();
}
