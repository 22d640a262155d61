import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Files the gateway writes into its data directory (the master key, its TLS
 * pair, the demo credentials) appear whole or not at all: a disk that fills
 * during a first start must not leave an empty file that every later start
 * reads as a broken one.
 */

/** Writes `content` to a new file beside `file`, flushed to disk; removed again if any step fails. */
function writeTemp(file: string, content: string, mode: number): string {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'wx', mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  return temp;
}

/**
 * Creates `file` with `content` unless it exists: true when this call created it, false when
 * another process had (theirs is kept). The name is linked to a complete file, never to a partial one.
 */
export function createFileOnce(file: string, content: string, mode: number): boolean {
  const temp = writeTemp(file, content, mode);
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Replaces `file` with `content` in one step: a reader sees the old file or the new one. */
export function replaceFile(file: string, content: string, mode: number): void {
  const temp = writeTemp(file, content, mode);
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/**
 * `mkdir -p`: makes `dir` and its missing parents. Node's own recursive mkdir
 * never returns where mkdir answers ENOENT under a parent that exists (a path
 * in /proc): it tries the parent again, finds it there, and starts over.
 */
export function makeDirectories(dir: string, mode = 0o777): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.existsSync(at); at = path.dirname(at)) {
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const each of missing.reverse()) {
    try {
      fs.mkdirSync(each, { mode });
    } catch (err) {
      // Another process made it meanwhile.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
