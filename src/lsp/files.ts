// Where the language server reads imported files from: an open document
// wins over the file on disk (the editor's unsaved text is what the user
// sees). Paths and URIs are told apart here and nowhere else.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { normalizePath } from '../check/modules.js';
import { parse, type ParseResult } from '../syntax/parse.js';

/** the largest imported file read from disk (a .net file is tiny; this guards against a dataset) */
const MAX_BYTES = 16 * 2 ** 20;

/** the normalised path of a `file:` URI; undefined for other schemes (an untitled buffer) */
export function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return normalizePath(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

export function uriOf(path: string): string {
  return pathToFileURL(path).href;
}

export interface OpenDocuments {
  all(): { uri: string; getText(): string }[];
}

/** `readFile` for compile(): the open document with that path if there is one, else the disk. */
export function workspaceReader(docs: OpenDocuments): (path: string) => string {
  return new SourceCache(docs).readFile;
}

/**
 * What the server keeps of imported files between checks: the text of each
 * file read from disk, with the modification time and size it had (a file
 * whose stat is unchanged is not read again; one changed on disk is, with or
 * without a watcher's notice), and the parse of each imported text (the same
 * text parses the same: an unchanged import is not parsed again either).
 */
export class SourceCache {
  /** files read from disk, for tests */
  reads = 0;
  /** imported files parsed, for tests */
  parses = 0;
  private readonly disk = new Map<string, { mtimeMs: number; size: number; text: string }>();
  private readonly parsed = new Map<string, { text: string; result: ParseResult }>();

  constructor(private readonly docs: OpenDocuments) {}

  readonly readFile = (path: string): string => {
    const want = normalizePath(path);
    for (const d of this.docs.all()) if (pathOf(d.uri) === want) return d.getText();
    const st = statSync(path);
    const hit = this.disk.get(want);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.text;
    if (st.size > MAX_BYTES) throw new Error('too large for a .net file');
    const text = readFileSync(path, 'utf8');
    this.reads++;
    this.disk.set(want, { mtimeMs: st.mtimeMs, size: st.size, text });
    return text;
  };

  readonly parseFile = (path: string, text: string): ParseResult => {
    const hit = this.parsed.get(path);
    if (hit && hit.text === text) return hit.result;
    const result = parse(text);
    this.parses++;
    this.parsed.set(path, { text, result });
    return result;
  };

  /** forget a file (deleted or changed on disk, as a watcher says): the next check reads it */
  forget(path: string): void {
    this.disk.delete(path);
  }
}
