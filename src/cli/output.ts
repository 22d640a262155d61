/** Prints a result as JSON (for scripts) or as aligned `key  value` lines (for people). */
export function print(result: Record<string, unknown>, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    out.write(JSON.stringify(result, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
    return;
  }
  const entries = Object.entries(result).filter(([, v]) => v !== undefined);
  const width = Math.max(...entries.map(([k]) => k.length));
  for (const [key, value] of entries) {
    // An empty list says so: `applied` followed by nothing read like a cut-off line.
    const shown = Array.isArray(value) ? (value.length > 0 ? value.join(',') : '(none)') : String(value);
    out.write(`${key.padEnd(width)}  ${shown}\n`);
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
