// `alexnetc.showDiagram` (workspace/executeCommand): the architecture diagram
// of the network under the cursor, as SVG, drawn by src/inspect/draw from the
// analysis the server already holds for the open document (its unsaved text
// and what it imports). The drawing code (ELK) is imported only here, when a
// diagram is first asked for: checking a document never loads it.
//
// Which network a position shows:
//   - inside (or after) a `network` declaration: that network;
//   - inside a `block`: the first network of the file, in source order, that
//     uses the block (directly or through other blocks); none that checks: an
//     error, not some unrelated network;
//   - before the first declaration (imports, comments): the file's default
//     network, as the command line picks it (the only one, or the one named
//     like the file), else its first network;
//   - `network: NAME` in the arguments overrides the position.
// The network must check; the rest of the file may have errors (the editor
// shows a network while a sibling is being edited), but not syntax errors,
// which leave the text only guessed at.
import type { Position, Range } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Network } from '../check/ir.js';
import type { Diagnostic } from '../diagnostics/index.js';
import type { Decl, NetworkDecl } from '../syntax/ast.js';
import { allStages } from '../syntax/walk.js';
import { UserError } from '../util/errors.js';
import { contains, declAt, indexOf, type Analysis } from './analysis.js';

export const SHOW_DIAGRAM = 'alexnetc.showDiagram';

export interface DiagramArgs {
  uri: string;
  position?: Position;
  /** draw this network of the document, whatever the position */
  network?: string;
  /** show the insides of block calls (default: one box per call) */
  expand: boolean;
}

export interface DiagramResult {
  network: string;
  /** a self-contained SVG document */
  svg: string;
  expanded: boolean;
  /** the SVG's size in diagram units (pixels at 100 %) */
  width: number;
  height: number;
  /** boxes drawn (stages and block calls; input and output not counted) */
  boxes: number;
  /** the drawn network's declaration in the document */
  range: Range;
}

/** a failure the editor shows to the user: `code` is the JSON-RPC error code */
export class DiagramError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid-params' | 'failed',
  ) {
    super(message);
  }
}

const isPosition = (p: unknown): p is Position =>
  typeof p === 'object' && p !== null && Number.isInteger((p as Position).line) && Number.isInteger((p as Position).character) && (p as Position).line >= 0 && (p as Position).character >= 0;

const USAGE = `${SHOW_DIAGRAM} takes one argument { uri, position?, network?, expand? } (or { textDocument: { uri }, position }, or uri, position[, { expand }])`;

/**
 * The command's arguments, in the forms editors find easiest to send:
 * `[{ uri, position, network?, expand? }]`, `[{ textDocument: { uri }, position }]`
 * (Neovim's make_position_params) or `[uri, position, { expand }]`.
 */
export function parseDiagramArgs(args: unknown): DiagramArgs {
  if (!Array.isArray(args) || args.length === 0) throw new DiagramError(USAGE, 'invalid-params');
  let o: Record<string, unknown>;
  if (typeof args[0] === 'string') o = { uri: args[0], position: args[1], ...(typeof args[2] === 'object' && args[2] !== null ? args[2] : {}) };
  else if (typeof args[0] === 'object' && args[0] !== null) o = args[0] as Record<string, unknown>;
  else throw new DiagramError(USAGE, 'invalid-params');
  const td = o.textDocument as { uri?: unknown } | undefined;
  const uri = o.uri ?? td?.uri;
  if (typeof uri !== 'string' || !uri) throw new DiagramError(`${USAGE}: the document's uri is missing`, 'invalid-params');
  if (o.position !== undefined && o.position !== null && !isPosition(o.position)) throw new DiagramError(`${USAGE}: position must be { line, character } (0-based)`, 'invalid-params');
  if (o.network !== undefined && o.network !== null && typeof o.network !== 'string') throw new DiagramError(`${USAGE}: network must be a name`, 'invalid-params');
  if (o.expand !== undefined && o.expand !== null && typeof o.expand !== 'boolean') throw new DiagramError(`${USAGE}: expand must be true or false`, 'invalid-params');
  return { uri, position: (o.position as Position | null) ?? undefined, network: (o.network as string | null) ?? undefined, expand: o.expand === true };
}

const own = (a: Analysis): NetworkDecl[] => (a.program?.decls ?? []).filter((d): d is NetworkDecl => d.kind === 'network');

/** the network the command line compiles without --network: the only one, or the one named like the file */
function defaultNetwork(a: Analysis): NetworkDecl | undefined {
  const nets = own(a);
  if (nets.length === 1) return nets[0];
  const base = a.file?.replace(/^.*[\\/]/, '').replace(/\.net$/i, '').toLowerCase();
  return nets.find((n) => n.name.name.toLowerCase() === base);
}

/** the network a position (or a name) shows, by the rules at the top of this file */
export function networkFor(a: Analysis, offset: number | undefined, name?: string): NetworkDecl {
  const nets = own(a);
  const list = nets.map((n) => n.name.name).join(', ');
  if (name !== undefined) {
    const n = nets.find((x) => x.name.name === name);
    if (!n) throw new DiagramError(`no network \`${name}\` in this file${list ? ` (it has ${list})` : ''}`, 'failed');
    return n;
  }
  if (!nets.length) throw new DiagramError('this file declares no network to draw (only blocks, or nothing yet)', 'failed');
  const decl: Decl | undefined = offset === undefined ? undefined : declAt(a.program, offset);
  if (decl?.kind === 'network') return decl;
  if (decl?.kind === 'block') {
    const users = new Set<string>();
    for (const s of allStages(decl.body)) for (const i of a.info.get(s) ?? []) users.add(i.network);
    const first = nets.find((n) => users.has(n.name.name));
    if (first) return first;
    throw new DiagramError(`block \`${decl.name.name}\` is not used by any network of this file that checks: put the cursor in a network (${list})`, 'failed');
  }
  return defaultNetwork(a) ?? nets[0]!;
}

/** `line 3: message` for a diagnostic of this document or of a file it imports */
function where(a: Analysis, d: Diagnostic): string {
  const file = d.file;
  const ix = file === undefined ? undefined : indexOf(a, file);
  if (file !== undefined) {
    const lc = ix?.position(d.span.start);
    return `${file}${lc ? `:${lc.line}` : ''}: ${d.message}`;
  }
  const line = a.text.slice(0, d.span.start).split('\n').length;
  return `line ${line}: ${d.message}`;
}

/** the checked network a declaration stands for, or why there is none */
export function checkedNetwork(a: Analysis, decl: NetworkDecl): Network {
  const errors = a.result.diagnostics.filter((d) => d.severity === 'error');
  const syntax = errors.find((d) => d.file === undefined && /^E00\d$/.test(d.code));
  if (syntax) throw new DiagramError(`the file has syntax errors (${where(a, syntax)}): fix them to see the diagram`, 'failed');
  const net = a.result.networks.find((n) => n.name === decl.name.name);
  if (net) return net;
  const first = errors.find((d) => d.file === undefined && contains(decl.span, d.span.start)) ?? errors.find((d) => d.file !== undefined) ?? errors[0];
  throw new DiagramError(`network \`${decl.name.name}\` does not check${first ? ` (${where(a, first)})` : ''}: fix it to see the diagram`, 'failed');
}

type Drawn = Omit<DiagramResult, 'range'>;

/** drawings of each analysis (one per document version): asking again, on save or a cursor move, costs nothing */
const drawings = new WeakMap<Analysis, Map<string, Promise<Drawn>>>();

async function draw(a: Analysis, net: Network, expand: boolean): Promise<Drawn> {
  const { drawNetwork } = await import('../inspect/draw/index.js');
  try {
    const d = await drawNetwork(net, { format: 'svg', expand, calls: (await import('../inspect/draw/index.js')).callLabelsIn(a.result, net.name, a.text) });
    return { network: net.name, svg: d.data as string, expanded: d.diagram.expanded, width: d.width!, height: d.height!, boxes: d.diagram.nodes.length - 2 };
  } catch (e) {
    // too many boxes to lay out: the drawing library's own message says what to do instead
    if (e instanceof UserError) throw new DiagramError(e.message, 'failed');
    throw e;
  }
}

export async function showDiagram(doc: TextDocument, a: Analysis, args: DiagramArgs): Promise<DiagramResult> {
  const decl = networkFor(a, args.position ? doc.offsetAt(args.position) : undefined, args.network);
  const net = checkedNetwork(a, decl);
  let cached = drawings.get(a);
  if (!cached) drawings.set(a, (cached = new Map()));
  const key = `${net.name}\n${args.expand}`;
  let p = cached.get(key);
  if (!p) {
    p = draw(a, net, args.expand);
    cached.set(key, p);
    // a failure is not remembered: the next request tries again
    p.catch(() => cached!.delete(key));
  }
  const drawn = await p;
  return { ...drawn, range: { start: doc.positionAt(decl.span.start), end: doc.positionAt(decl.span.end) } };
}
