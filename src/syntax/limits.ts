// Nesting limits. The parser, the AST builder and every walk after them
// recurse once per level, so these are what keep a pathological file (ten
// thousand `(`, a sum of ten thousand terms) from exhausting the stack. Real
// specs nest a handful of levels; past a limit the file gets E403 and is not
// checked further.

/** How deep brackets, braces and prefix signs may nest. */
export const MAX_NESTING = 100;

/** How deep an expression tree may be (a flat sum of n terms is n deep: it is left-associative). */
export const MAX_EXPR_DEPTH = 256;

/**
 * How many tokens a file may hold. Parsing costs 4–7 µs a token on a shared
 * 2-core machine (Chevrotain's concrete syntax tree, most of it garbage
 * collection), so this keeps any file checkable in about a second; the
 * largest shipped spec has 632.
 */
export const MAX_TOKENS = 100_000;

/**
 * Syntax errors after which parsing stops: error recovery costs more the
 * more there is to recover from, and past a hundred the file is most likely
 * not a .net file at all.
 */
export const MAX_SYNTAX_ERRORS = 100;
