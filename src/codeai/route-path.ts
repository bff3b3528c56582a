/**
 * Path templates: `/posts/:id` and `/posts/{id}` are one template. Parameters match by
 * position whatever their names, and a parameter matches one non-empty segment.
 */

/** A parsed template segment: a literal or a parameter. */
export type Segment = { param: false; text: string } | { param: true; name: string };

/** Joins `api_prefix` and a spec path into the full template, parameters written `:name`. */
export function fullTemplate(apiPrefix: string, path: string): string {
  return templateOf(splitTemplate(`${apiPrefix}/${path}`));
}

/** Writes segments back as a template: `/a/:id`, or `/` for none. */
export function templateOf(segments: Segment[]): string {
  let out = '';
  for (const s of segments) out += s.param ? `/:${s.name}` : `/${s.text}`;
  return out || '/';
}

/** Normalises `api_prefix`: leading `/`, no trailing `/`, `''` for none or `/`. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The segments of a template (empty segments dropped). */
export function splitTemplate(template: string): Segment[] {
  const segments: Segment[] = [];
  for (const part of template.split('/')) {
    if (part === '') continue;
    if (part.startsWith(':') && part.length > 1)
      segments.push({ param: true, name: part.slice(1) });
    else if (part.startsWith('{') && part.endsWith('}') && part.length > 2) {
      segments.push({ param: true, name: part.slice(1, -1) });
    } else segments.push({ param: false, text: part });
  }
  return segments;
}

/** The segments of a concrete request path (empty segments dropped). */
export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

/** True when two template segments can describe the same request segment. */
export function segmentsOverlap(a: Segment, b: Segment): boolean {
  return a.param || b.param || a.text === b.text;
}

/** Matches a concrete path's segments against a template; the parameter values or undefined. */
export function matchTemplate(template: Segment[], path: string[]): string[] | undefined {
  if (template.length !== path.length) return undefined;
  const values: string[] = [];
  for (let i = 0; i < template.length; i++) {
    const seg = template[i]!;
    const part = path[i]!;
    if (seg.param) values.push(part);
    else if (seg.text !== part) return undefined;
  }
  return values;
}
