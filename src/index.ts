// The typed library API. The CLI and the language server use exactly these.
export { compile, check, type CompileOptions, type CompileResult } from './compile.js';
export type { StageInfo } from './check/checker.js';
export type { Network, Node, LayerNode, ResidualNode, MergeNode, TrainConfig } from './check/ir.js';
export { layers as layerNodes } from './check/ir.js';
export type { Diagnostic, Fix, Note, TextEdit, Severity, Code } from './diagnostics/index.js';
export { CODES } from './diagnostics/codes.js';
export { LineIndex, type Span } from './diagnostics/span.js';
export { LAYERS, findLayer } from './layers/registry.js';
export type { LayerDef, ArgSpec, ArgValue, Shape, WeightSpec } from './layers/types.js';
export { parse } from './syntax/parse.js';
export type * as ast from './syntax/ast.js';
export { writeOnnx, toOnnxBytes, encodeModel, seededWeights, weightKey, PROTOBUF_LIMIT, type WeightSource, type OnnxOptions } from './emit/onnx/index.js';
export { summarize, renderSummary, type Summary, type SummaryRow } from './summary.js';
export { renderDiagnostic, diagnosticToJson } from './diagnostics/render.js';
export {
  toTfjs,
  saveTfjs,
  loadTfjs,
  loadTf,
  tfjsModelWeights,
  WeightsMismatchError,
  BackendUnavailableError,
  registerCustomLayers,
  type TfjsOptions,
  type BackendChoice,
  type LoadedTf,
} from './emit/tfjs/index.js';
export { readTfjsWeights } from './weights/tfjs.js';
export {
  compileTraining,
  compiledTrainingSupport,
  createCompiledTraining,
  NotCompilable,
  type CompiledTraining,
  type CompiledSettings,
  type StepResult,
} from './train/compiled/index.js';
