// The AST parser's lookahead table (lookahead.ts). Here none: the parser
// computes its lookahead as Chevrotain does. scripts/bundle-cli.mjs puts in
// the bundles, in this module's place, the table computed from the built
// grammar at build time.
import type { LookaheadTable } from './lookahead.js';

export const LOOKAHEAD_TABLE: LookaheadTable | undefined = undefined;
