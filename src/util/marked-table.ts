// Generated tables inside hand-written Markdown: the text between
// `<!-- NAME table: … -->` and `<!-- end of the NAME table -->` belongs to a
// generator (`npm run grammar`); everything around it to the writer.

/** `md` with the text between its `name` table markers replaced by `table`; throws when the markers are missing or out of order. */
export function withMarkedTable(md: string, name: string, table: string): string {
  const start = new RegExp(`<!-- ${name} table: [^\\n]*-->\\n`).exec(md);
  const endMarker = `<!-- end of the ${name} table -->`;
  const end = md.indexOf(endMarker);
  if (!start || end < start.index + start[0].length) throw new Error(`no ${name} table markers (<!-- ${name} table: … --> … ${endMarker})`);
  return md.slice(0, start.index + start[0].length) + table + md.slice(end);
}
