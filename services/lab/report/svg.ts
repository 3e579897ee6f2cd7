// Compiles a Vega-Lite spec and renders it to an SVG string in this process (no browser, no
// network), so the report embeds finished drawings and needs no script to open.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Thrown when a chart cannot be drawn: a bug in the spec builder, not in the user's results. */
export class ChartRenderError extends Error {
  override name = 'ChartRenderError';
  constructor(
    readonly chart: string,
    cause: unknown,
  ) {
    super(`could not draw the "${chart}" chart: ${(cause as Error).message ?? String(cause)}`, { cause });
  }
}

let chartsRendered = 0;

/**
 * Renders `spec` to an SVG string. `chart` names it in errors and becomes the SVG's accessible
 * label.
 */
export async function renderSvg(chart: string, spec: TopLevelSpec): Promise<string> {
  let view: vega.View | undefined;
  try {
    const compiled = compile(spec).spec;
    // renderer 'none' skips the scenegraph-to-canvas step: we only want the SVG string.
    view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    return tidySvg(svg, chart, `c${++chartsRendered}-`);
  } catch (err) {
    throw new ChartRenderError(chart, err);
  } finally {
    view?.finalize();
  }
}

/**
 * Makes a standalone SVG safe to inline next to others in one HTML page:
 * - ids (clip paths, gradients) are unique per SVG in a file but share one namespace in a page,
 *   so two charts would clip each other's marks; they get a per-chart prefix.
 * - the xlink namespace is dropped when nothing uses it, leaving the SVG namespace as the only
 *   http:// string, an identifier that is never fetched.
 */
export function tidySvg(svg: string, label: string, idPrefix: string): string {
  let out = svg
    .replace(/ id="([^"]+)"/g, ` id="${idPrefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${idPrefix}$1"`);
  if (!out.includes('xlink:')) out = out.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', '');
  return out.replace('<svg ', `<svg role="img" aria-label="${escapeAttribute(label)}" `);
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
