// Where the language server reads imported files from: an open document
// wins over the file on disk (the editor's unsaved text is what the user
// sees). Paths and URIs are told apart here and nowhere else.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { normalizePath } from '../check/modules.js';

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
  return (path) => {
    const want = normalizePath(path);
    for (const d of docs.all()) if (pathOf(d.uri) === want) return d.getText();
    if (statSync(path).size > MAX_BYTES) throw new Error('too large for a .net file');
    return readFileSync(path, 'utf8');
  };
}
