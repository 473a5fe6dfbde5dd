// matplotlib's perceptually uniform colour maps (van der Walt & Smith,
// BIDS), sampled at nine evenly spaced points and interpolated linearly —
// indistinguishable from the 256-entry tables at the sizes drawn here.
// viridis for activations (dark = low), inferno for heat maps (black = none).

export type Rgb = readonly [number, number, number];
export type ColorMap = (t: number) => Rgb;

const hex = (s: string): Rgb => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];

function fromStops(stops: readonly string[]): { map: ColorMap; stops: readonly string[] } {
  const rgb = stops.map(hex);
  const n = rgb.length - 1;
  const map: ColorMap = (t) => {
    const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * n;
    const i = Math.min(Math.floor(x), n - 1);
    const f = x - i;
    const a = rgb[i]!, b = rgb[i + 1]!;
    return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
  };
  return { map, stops };
}

export const VIRIDIS = fromStops(['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#fde725']);
export const INFERNO = fromStops(['#000004', '#1b0c41', '#4a0c6b', '#781c6d', '#a52c60', '#cf4446', '#ed6925', '#fb9b06', '#fcffa4']);
