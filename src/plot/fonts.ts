import { GlobalFonts } from '@napi-rs/canvas';
import { Chart } from 'chart.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The family every chart uses: DejaVu Sans from the dejavu-fonts-ttf package (a dependency). */
export const PLOT_FONT = 'DejaVu Sans';

let registered: boolean | null = null;

/**
 * Register the shipped TTF files with the canvas library and make them chart.js's default, so a
 * plot looks the same on every machine whatever fonts the system has. Idempotent; returns false
 * (and charts fall back to the system's sans-serif) only if the package's files are missing.
 */
export function usePlotFont(): boolean {
  if (registered !== null) return registered;
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
    registered = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].every((f) => GlobalFonts.registerFromPath(join(dir, f), PLOT_FONT) !== null);
  } catch {
    registered = false;
  }
  Chart.defaults.font.family = registered ? PLOT_FONT : 'sans-serif';
  return registered;
}
