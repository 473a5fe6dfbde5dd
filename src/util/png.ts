// SVG → PNG in process, with resvg (@resvg/resvg-js: a Rust SVG renderer,
// prebuilt for every platform npm serves; no system tool needed). Text uses
// the system's fonts (DejaVu Sans when the SVG asks for a family that is not
// installed; Debian's fonts-dejavu-core).

export interface PngOptions {
  /** output width in pixels (the height follows the aspect ratio); default: the SVG's own size */
  width?: number;
  /** default white: PNG viewers show transparency as black or checkers */
  background?: string;
}

export async function svgToPngBytes(svg: string, opts: PngOptions = {}): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    background: opts.background ?? 'white',
    fitTo: opts.width ? { mode: 'width', value: opts.width } : { mode: 'original' },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
