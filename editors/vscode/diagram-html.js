// The diagram webview's page, and the choice of network for a cursor: plain
// functions with no `vscode` in them, so that Node tests (and a headless
// browser) can run them.
//
// The page is a shell: the extension posts each diagram to it as a message
// ({ type: 'show', svg, network, expanded, boxes } or { type: 'error', message }),
// so a refresh keeps the zoom and the scroll position. The SVG comes from the
// language server (src/inspect/draw escapes every text it prints); the page
// still treats it as untrusted: it is parsed as XML, never as HTML, and the
// Content-Security-Policy lets nothing run or load but the page's own nonce'd
// script and style (no network, no inline handlers, no scripts in the SVG).
'use strict';

/** the Content-Security-Policy of the page */
function contentSecurityPolicy(nonce) {
  return [`default-src 'none'`, `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`, `base-uri 'none'`, `form-action 'none'`].join('; ');
}

const STYLE = `
  body { margin: 0; padding: 0; font-family: var(--vscode-font-family, sans-serif); font-size: var(--vscode-font-size, 13px);
         color: var(--vscode-foreground, #222); background: var(--vscode-editor-background, #fff); }
  #bar { position: sticky; top: 0; z-index: 1; display: flex; gap: 0.6em; align-items: center; padding: 4px 8px;
         background: var(--vscode-editorWidget-background, #f3f3f3); border-bottom: 1px solid var(--vscode-widget-border, #ccc); }
  #bar .name { font-weight: bold; }
  #bar .info { opacity: 0.75; }
  #bar .spacer { flex: 1; }
  #bar button { font: inherit; padding: 1px 8px; color: var(--vscode-button-secondaryForeground, inherit);
                background: var(--vscode-button-secondaryBackground, #ddd); border: none; border-radius: 2px; cursor: pointer; }
  #error { display: none; padding: 6px 10px; white-space: pre-wrap; color: var(--vscode-errorForeground, #a1260d);
           background: var(--vscode-inputValidation-errorBackground, #fde7e9); border-bottom: 1px solid var(--vscode-inputValidation-errorBorder, #be1100); }
  #error.shown { display: block; }
  #view { padding: 8px; overflow: auto; }
  #view.stale { opacity: 0.45; }
  #view svg { display: block; }
  #view.fit svg { width: 100%; height: auto; }
  #empty { padding: 12px; opacity: 0.75; }
`;

/** the page's script: receives diagrams, zooms, asks the extension for the expanded view */
function pageScript() {
  const vscode = acquireVsCodeApi();
  const view = document.getElementById('view');
  const error = document.getElementById('error');
  const name = document.getElementById('name');
  const info = document.getElementById('info');
  const expand = document.getElementById('expand');
  let zoom = 1;
  let fit = true;

  function applyZoom() {
    const svg = view.querySelector('svg');
    view.classList.toggle('fit', fit);
    const saved = vscode.getState();
    if (saved && saved.diagram) vscode.setState({ diagram: saved.diagram, zoom, fit });
    if (!svg) return;
    const w = Number(svg.getAttribute('width'));
    const h = Number(svg.getAttribute('height'));
    svg.style.width = fit ? '' : `${w * zoom}px`;
    svg.style.height = fit ? '' : `${h * zoom}px`;
  }

  function show(m) {
    // XML, not HTML: no HTML parsing of server text; scripts parsed here never run (and the CSP forbids them)
    const doc = new DOMParser().parseFromString(m.svg, 'image/svg+xml');
    const root = doc.documentElement;
    if (root.localName !== 'svg' || doc.getElementsByTagName('parsererror').length) {
      fail({ message: 'the server sent a diagram that is not SVG' });
      return false;
    }
    view.replaceChildren(document.importNode(root, true));
    view.classList.remove('stale');
    error.classList.remove('shown');
    name.textContent = m.network;
    info.textContent = `${m.boxes} boxes${m.expanded ? ', expanded' : ''}`;
    expand.checked = m.expanded;
    applyZoom();
    return true;
  }

  function fail(m) {
    error.textContent = m.message;
    error.classList.add('shown');
    // the last good diagram stays, dimmed: a file being edited is often broken for a moment
    view.classList.add('stale');
  }

  window.addEventListener('message', (e) => {
    const m = e.data;
    if (!m || typeof m !== 'object') return;
    // only a diagram that showed is kept for a reload
    if (m.type === 'show' && typeof m.svg === 'string') {
      if (show(m)) vscode.setState({ diagram: m, zoom, fit });
    } else if (m.type === 'error' && typeof m.message === 'string') fail(m);
  });
  expand.addEventListener('change', () => vscode.postMessage({ type: 'expand', value: expand.checked }));
  document.getElementById('fit').addEventListener('click', () => {
    fit = true;
    applyZoom();
  });
  document.getElementById('actual').addEventListener('click', () => {
    fit = false;
    zoom = 1;
    applyZoom();
  });
  document.getElementById('in').addEventListener('click', () => {
    fit = false;
    zoom = Math.min(8, zoom * 1.25);
    applyZoom();
  });
  document.getElementById('out').addEventListener('click', () => {
    fit = false;
    zoom = Math.max(0.1, zoom / 1.25);
    applyZoom();
  });
  // a webview hidden and shown again is reloaded: show the last diagram at once
  const saved = vscode.getState();
  if (saved && saved.diagram) {
    zoom = saved.zoom || 1;
    fit = saved.fit !== false;
    show(saved.diagram);
  }
  vscode.postMessage({ type: 'ready' });
}

const escapeHtml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The page. `nonce`: a fresh random string per page (base64 or hex), the only
 * key to its script and style.
 */
function diagramHtml({ nonce, title = 'alexnet diagram' }) {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(String(nonce))) throw new Error('diagramHtml: the nonce must be a random string of at least 16 characters');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<div id="bar">
  <span class="name" id="name"></span><span class="info" id="info"></span>
  <span class="spacer"></span>
  <label><input type="checkbox" id="expand"> expand blocks</label>
  <button id="fit" title="fit the width of the panel">Fit</button>
  <button id="actual" title="100 %">1:1</button>
  <button id="out" title="zoom out">−</button>
  <button id="in" title="zoom in">+</button>
</div>
<div id="error" role="alert"></div>
<div id="view" class="fit"><div id="empty">Drawing…</div></div>
<script nonce="${nonce}">(${pageScript.toString()})();</script>
</body>
</html>
`;
}

/** does an LSP range ({ start, end } of { line, character }) contain a position */
function rangeContains(r, p) {
  const before = (a, b) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(r.start, p) && before(p, r.end);
}

/**
 * The network to show for a cursor, from the server's document symbols (LSP
 * DocumentSymbol[]; networks are SymbolKind.Class = 5): the network whose
 * declaration contains the position, else undefined (in a block, or between
 * declarations: the diagram shown stays).
 */
function networkAtCursor(symbols, position) {
  for (const s of symbols || []) if (s && s.kind === 5 && s.range && rangeContains(s.range, position)) return s.name;
  return undefined;
}

module.exports = { contentSecurityPolicy, diagramHtml, networkAtCursor, rangeContains };
