import { createCanvas, PDFDocument, SvgExportFlag } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type ChartType } from 'chart.js';
import { extname } from 'node:path';
import { UserError } from '../util/user-error.ts';
import { usePlotFont } from './fonts.ts';

Chart.register(...registerables);

export type PlotFormat = 'png' | 'svg' | 'pdf';
export const PLOT_FORMATS: readonly PlotFormat[] = ['png', 'svg', 'pdf'];

/** The format an output file's extension asks for; anything else is refused (exit 2). */
export function plotFormatOf(file: string): PlotFormat {
  const ext = extname(file).slice(1).toLowerCase();
  if ((PLOT_FORMATS as readonly string[]).includes(ext)) return ext as PlotFormat;
  throw new UserError(`${file}: cannot write a plot as "${ext ? '.' + ext : '(no extension)'}"; expected a file ending in .png, .svg or .pdf`);
}

/**
 * Draw a chart.js configuration on a white page of `width` x `height` and encode it: PNG (raster),
 * SVG (text converted to paths, so it looks the same without the font) or PDF (vector, with the
 * shipped font embedded).
 */
export function renderChart<T extends ChartType>(config: ChartConfiguration<T>, width: number, height: number, format: PlotFormat = 'png'): Buffer {
  usePlotFont();
  // Encode before destroying the chart: chart.js clears its canvas on destroy.
  const draw = <R>(target: unknown, ctx: { fillStyle: unknown; fillRect(x: number, y: number, w: number, h: number): void }, encode: () => R): R => {
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    const chart = new Chart(target as CanvasRenderingContext2D, config);
    try {
      return encode();
    } finally {
      chart.destroy();
    }
  };
  if (format === 'svg') {
    const canvas = createCanvas(width, height, SvgExportFlag.ConvertTextToPaths);
    const ctx = canvas.getContext('2d');
    return draw(ctx, ctx, () => canvas.getContent());
  }
  if (format === 'pdf') {
    const doc = new PDFDocument({ creator: 'dtemu' });
    const ctx = doc.beginPage(width, height);
    // chart.js sizes itself from a canvas; a PDF page has none, so it gets a stand-in of the page's size.
    const page = { width, height, style: {}, getContext: () => ctx };
    Object.defineProperty(ctx, 'canvas', { value: page, configurable: true });
    // The page is complete once drawn; closing it does not depend on the chart any more.
    draw(page, ctx as unknown as { fillStyle: unknown; fillRect(x: number, y: number, w: number, h: number): void }, () => doc.endPage());
    return doc.close();
  }
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  return draw(ctx, ctx, () => canvas.toBuffer('image/png'));
}
