// Python source inside layer files (their PyTorch lowerings): a template tag
// that strips the common indentation and the blank first/last lines, so a
// snippet can sit indented in TypeScript and come out at column 0. Escapes
// are TypeScript's (\` is a backtick): write a Python backslash as \\.
export function py(strings: TemplateStringsArray, ...values: unknown[]): string {
  let text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  text = text.replace(/^[ \t]*\n/, '').replace(/\n[ \t]*$/, '');
  const lines = text.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent).trimEnd()).join('\n');
}
