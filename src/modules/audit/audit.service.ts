import type { Db } from '../../platform/db/database.ts';
import { newId } from '../../platform/ids.ts';

export interface AuditEntry {
  /** Who: `cli:<user>`, `operator:<name>`, `merchant:<appId>`, `system`. */
  actor: string;
  action: string;
  subject: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

/** Appends an audit fact; callers pass their transaction so it commits with the action. */
export async function recordAudit(db: Db, now: number, entry: AuditEntry): Promise<void> {
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
