export { accuracy, argmaxRows, confusionMatrix, perClassAccuracy } from './metrics.js';
export { EpochProgress, duration } from './progress.js';
export type { ProgressOptions, ProgressStats } from './progress.js';
export { confusionMatrixSvg, escapeXml, historyCharts, lineChart, niceTicks } from './svg.js';
export type { EpochRecord, LineChartOptions, Series } from './svg.js';
export { svgToPng } from './png.js';
