// index.html: one self-contained page (inline CSS, no script, no network)
// that shows the prediction, the saliency, Grad-CAM and every stage's feature
// maps, with relative paths to the PNGs beside it — open it from the
// directory, copy the directory anywhere.

export const GENERATOR = 'alexnetc explain';

export interface PageModel {
  network: string;
  input: string;
  prediction: Array<{ class: string; probability: number; explained: boolean }>;
  label?: string;
  notes: string[];
  images: { input: string; saliency: string; gradcam?: string };
  gradcamNote?: string;
  stages: Array<{ title: string; shape: number[]; file: string }>;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (p: number): string => `${(100 * p).toFixed(2)}%`;
/** a relative URL for a file name (the names explain writes are plain, but stay safe) */
const href = (f: string): string => esc(encodeURIComponent(f));

export function indexHtml(m: PageModel): string {
  const rows = m.prediction
    .map(
      (p) =>
        `<tr${p.explained ? ' class="explained"' : ''}><td>${esc(p.class)}</td><td class="num">${pct(p.probability)}</td>` +
        `<td><div class="bar" style="width:${Math.max(0.5, 100 * p.probability).toFixed(1)}%"></div></td></tr>`,
    )
    .join('\n');
  const stages = m.stages
    .map((s) => `<figure><img src="${href(s.file)}" alt="feature maps of ${esc(s.title)}"><figcaption>${esc(s.title)} [${s.shape.join(', ')}]</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="${GENERATOR}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.network)}: ${esc(m.input)}</title>
<style>
body { font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #222; margin: 2em auto; max-width: 1700px; padding: 0 1.5em; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
.top { display: flex; gap: 2em; align-items: flex-start; flex-wrap: wrap; }
table { border-collapse: collapse; min-width: 24em; } td { padding: 0.15em 0.6em; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.explained td:first-child { font-weight: bold; }
.bar { height: 0.8em; background: #3e4989; min-width: 2px; } td:last-child { width: 14em; }
img { max-width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #eee; }
figure { margin: 1em 0 2em; } figcaption { color: #555; font-size: 0.9em; }
.note { color: #8a5a00; }
</style>
</head>
<body>
<h1>${esc(m.network)}: ${esc(m.input)}</h1>
<p class="sub">Prediction, saliency, Grad-CAM and the feature maps of every convolution stage, written by alexnetc explain.</p>
${m.notes.map((n) => `<p class="note">note: ${esc(n)}</p>`).join('\n')}
<div class="top">
<figure><img src="${href(m.images.input)}" alt="the input as the network sees it"><figcaption>the input, resized and converted as in training</figcaption></figure>
<div>
<table>
<tr><th>class</th><th>probability</th><th></th></tr>
${rows}
</table>
${m.label !== undefined ? `<p>true class: <b>${esc(m.label)}</b></p>` : ''}
</div>
</div>
<h2>Saliency</h2>
<figure><img src="${href(m.images.saliency)}" alt="saliency heatmap"><figcaption>|∂ class score / ∂ input pixel| (Simonyan et al., 2014)</figcaption></figure>
<h2>Grad-CAM</h2>
${m.images.gradcam ? `<figure><img src="${href(m.images.gradcam)}" alt="Grad-CAM heatmap"><figcaption>${esc(m.gradcamNote ?? '')}</figcaption></figure>` : `<p>${esc(m.gradcamNote ?? 'no convolution stage with a spatial map: no Grad-CAM')}</p>`}
<h2>Feature maps</h2>
${stages || '<p>The network has no convolution stages.</p>'}
</body>
</html>
`;
}
