/** Prints a result as JSON (for scripts) or as aligned `key  value` lines (for people). */
export function print(result: Record<string, unknown>, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    out.write(JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    return;
  }
  const entries = Object.entries(result).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  for (const [key, value] of entries) {
    out.write(`${key.padEnd(width)}  ${Array.isArray(value) ? value.join(',') : String(value)}\n`);
  }
}

/** Rows as one JSON array (for scripts), or each as `print` shows it, a blank line between them (for people). */
export function printRows(rows: ReadonlyArray<Record<string, unknown>>, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    out.write(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    return;
  }
  rows.forEach((row, i) => {
    if (i > 0) out.write('\n');
    print(row, false, out);
  });
}
