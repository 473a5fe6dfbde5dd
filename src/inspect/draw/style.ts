// Kinds of boxes and their colours. A layer's kind is declared in its own
// file (LayerDef.kind); the others are the diagram's own boxes.
import { findLayer } from '../../layers/registry.js';
import type { LayerKind } from '../../layers/types.js';

export type Category = 'input' | LayerKind | 'merge' | 'block' | 'other';

/** A layer's colour group: its declared kind ('other' for a name the catalogue does not have). */
export function categoryOf(layer: string): Category {
  return findLayer(layer)?.kind ?? 'other';
}

export interface Colours {
  fill: string;
  stroke: string;
  /** legend wording */
  label: string;
}

// Fills light enough for dark text, strokes a darker shade of the same hue;
// hues far apart so neighbouring kinds (conv → norm → activation) read apart.
export const COLOURS: Record<Category, Colours> = {
  input: { fill: '#37474f', stroke: '#263238', label: 'input / output' },
  conv: { fill: '#cfe3fb', stroke: '#3b78c3', label: 'convolution' },
  pool: { fill: '#d4f0d2', stroke: '#3f9142', label: 'pooling' },
  norm: { fill: '#fbf1c7', stroke: '#b8961c', label: 'normalisation' },
  activation: { fill: '#fde0d2', stroke: '#d0673a', label: 'activation' },
  dense: { fill: '#e6dbf7', stroke: '#7a55c0', label: 'dense' },
  reshape: { fill: '#e4e7ea', stroke: '#7b8791', label: 'reshape' },
  dropout: { fill: '#f4f5f6', stroke: '#9aa3ab', label: 'dropout' },
  merge: { fill: '#ffffff', stroke: '#455a64', label: 'add / concat' },
  block: { fill: '#d3f1ee', stroke: '#2b8c84', label: 'block (collapsed)' },
  other: { fill: '#f7d9ea', stroke: '#b24c86', label: 'other' },
};

/** Legend order: the order data meets them. */
export const CATEGORY_ORDER: readonly Category[] = ['input', 'conv', 'pool', 'norm', 'activation', 'dense', 'reshape', 'dropout', 'merge', 'block', 'other'];

/** Expanded block calls: nested groups get a slightly darker tint per level. */
export const GROUP_FILLS = ['#f3f8f8', '#e9f2f1', '#dfebea', '#d6e4e3'];
export const GROUP_STROKE = '#7fb3ad';
