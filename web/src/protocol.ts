// The messages between the page (main.ts) and its workers. Every request
// carries an id its answer repeats; the analysis worker also answers
// `analyze` by document version, so the page drops answers to stale text.
import type { SummaryRow } from '../../src/summary.js';

export interface PageDiagnostic {
  from: number;
  to: number;
  severity: 'error' | 'warning' | 'info';
  code: string;
  message: string;
  /** 1-based, for the problems panel */
  line: number;
  column: number;
}

/** a row of the summary table, as `alexnetc summary` makes it */
export type SummaryRowOut = SummaryRow;

export interface NetworkOut {
  name: string;
  /** the network checked: its summary */
  summary?: {
    input: number[];
    output: number[];
    rows: SummaryRowOut[];
    totalParams: number;
    trainableParams: number;
    nonTrainableParams: number;
    totalMacs: number;
    weightBytes: number;
  };
  /** its parameters (`network LeNet5(classes = 10, size = 32)`) */
  params: string[];
}

export type AnalysisRequest =
  | { type: 'analyze'; version: number; text: string; file: string }
  | { type: 'hover'; id: number; version: number; offset: number }
  | { type: 'complete'; id: number; version: number; offset: number }
  | { type: 'format'; id: number; text: string }
  /** where a stage is written (a click in the summary table) */
  | { type: 'locate'; id: number; network: string; path: string }
  /** the benchmark's baseline: the same round trip with no analysis */
  | { type: 'echo'; version: number }
  /** where the worker also leaves each version's diagnostics (cross-origin isolated pages): see shared.ts */
  | { type: 'share'; buffer: SharedArrayBuffer };

export type AnalysisReply =
  | { type: 'ready'; keywords: string[]; layers: string[] }
  | {
      type: 'analyzed';
      version: number;
      diagnostics: PageDiagnostic[];
      /** the analysis itself, in ms */
      ms: number;
      /** when the worker got the text and when it answered (performance.timeOrigin + now(), comparable across threads) */
      received: number;
      sent: number;
    }
  /**
   * after an answer, in a task of its own, and only when they changed: the
   * networks of the text (absent: those of the previous message) and the one
   * chosen by default
   */
  | { type: 'networks'; version: number; networks?: NetworkOut[]; defaultNetwork?: string }
  | { type: 'hover'; id: number; markdown: string | null; from: number; to: number }
  | { type: 'complete'; id: number; from: number; items: { label: string; detail?: string; info?: string; apply: string; type: string; boost: number }[] }
  | { type: 'format'; id: number; text: string | null }
  | { type: 'locate'; id: number; from: number | undefined }
  | { type: 'echoed'; version: number; sent: number };

export interface Source {
  text: string;
  /** the file name the text stands for (`lenet5.net`): the default network, the ONNX file's doc string */
  file: string;
  network?: string;
  /** `--set name=value` */
  set?: Record<string, string>;
}

export type ExportRequest =
  | ({ type: 'draw'; id: number; expand: boolean } & Source)
  | ({ type: 'onnx'; id: number; seed: number } & Source)
  | ({ type: 'torch'; id: number } & Source);

export type ExportReply =
  | { type: 'draw'; id: number; svg: string; network: string; boxes: number; expanded: boolean; paths: Record<string, [number, number]> }
  | { type: 'onnx'; id: number; blob: Blob; name: string; size: number; ms: number }
  | { type: 'torch'; id: number; text: string; name: string }
  | { type: 'error'; id: number; message: string };

export type TrainRequest =
  | ({ type: 'train' } & Source)
  | { type: 'stop' }
  | { type: 'predict'; id: number; pixels: Float32Array; width: number; height: number }
  | ({ type: 'tfjs'; id: number; seed: number } & Source);

export interface EpochOut {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  imagesPerSecond: number;
}

export type TrainReply =
  | { type: 'status'; message: string }
  | { type: 'started'; network: string; settings: string; threads: number; isolated: boolean; train: number; val: number; test: number; steps: number; epochs: number; backend: string }
  | { type: 'progress'; epoch: number; step: number; steps: number; loss: number; accuracy: number; imagesPerSecond: number }
  | { type: 'epoch'; entry: EpochOut }
  | { type: 'done'; stopped: boolean; testAccuracy?: number; testLoss?: number; confusion?: number[][]; classes: string[]; history: EpochOut[]; imagesPerSecond: number }
  | { type: 'predicted'; id: number; probabilities: number[]; classes: string[]; saliency: Float32Array; width: number; height: number; input: Float32Array }
  | { type: 'tfjs'; id: number; modelJson: string; weights: ArrayBuffer; trained: boolean }
  | { type: 'error'; id?: number; message: string };
