// The language server's hover Markdown as DOM: code blocks, inline code, bold,
// tables, lists and line breaks — all it writes. Text is only ever set as
// textContent, never parsed as HTML.

function inline(parent: HTMLElement, text: string): void {
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|_([^_]+)_/g;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > at) parent.append(text.slice(at, m.index));
    const el = document.createElement(m[1] !== undefined ? 'code' : m[2] !== undefined ? 'b' : 'i');
    el.textContent = m[1] ?? m[2] ?? m[3]!;
    parent.append(el);
    at = m.index + m[0].length;
  }
  if (at < text.length) parent.append(text.slice(at));
}

export function renderMarkdown(md: string): HTMLElement {
  const root = document.createElement('div');
  root.className = 'hover-md';
  const lines = md.split('\n');
  let para: HTMLElement | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      const pre = document.createElement('pre');
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
      pre.textContent = body.join('\n');
      root.append(pre);
      para = undefined;
    } else if (line.startsWith('|')) {
      const table = document.createElement('table');
      for (; i < lines.length && lines[i]!.startsWith('|'); i++) {
        if (/^\|[-:| ]+\|$/.test(lines[i]!)) continue;
        const tr = table.insertRow();
        for (const cell of lines[i]!.slice(1, -1).split('|')) inline(tr.insertCell(), cell.trim());
      }
      i--;
      root.append(table);
      para = undefined;
    } else if (line.startsWith('- ')) {
      const li = document.createElement('div');
      inline(li, `• ${line.slice(2)}`);
      root.append(li);
      para = undefined;
    } else if (line.trim() === '' || line === '---') {
      para = undefined;
      if (line === '---') root.append(document.createElement('hr'));
    } else {
      if (!para) {
        para = document.createElement('p');
        para.style.margin = '4px 0';
        root.append(para);
      } else para.append(document.createElement('br'));
      inline(para, line.replace(/ {2}$/, ''));
    }
  }
  return root;
}
