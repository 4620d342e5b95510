/**
 * Whether a state read from a snapshot has the shape of the state this build saves: the same keys
 * with values of the same kinds, arrays of the same length except the component's declared lists
 * (key → the shape of one element; any length). An empty template array stands for a list of plain
 * JSON values. A snapshot of another build is refused here, before anything is loaded.
 */

export type ListShapes = Readonly<Record<string, unknown>>;

export function shapeMismatch(template: unknown, value: unknown, lists: ListShapes, path: string): string | null {
  if (template instanceof Uint8Array) return value instanceof Uint8Array ? null : `${path} is not bytes`;
  // Optional times (a device's next event, its last receive) are a number or null.
  if (template === null || value === null) {
    const numberOrNull = (x: unknown): boolean => x === null || typeof x === 'number';
    return numberOrNull(template) && numberOrNull(value) ? null : `${path} is not a number or null`;
  }
  if (Array.isArray(template)) {
    if (!Array.isArray(value)) return `${path} is not a list`;
    const key = path.slice(path.lastIndexOf('.') + 1);
    const isList = Object.prototype.hasOwnProperty.call(lists, key);
    if (!isList && template.length > 0 && value.length !== template.length) return `${path} has ${value.length} entries, not ${template.length}`;
    for (let i = 0; i < value.length; i++) {
      const t = isList ? lists[key] : template.length > 0 ? template[i] : undefined;
      const why = t === undefined ? plainJson(value[i], `${path}[${i}]`) : shapeMismatch(t, value[i], lists, `${path}[${i}]`);
      if (why !== null) return why;
    }
    return null;
  }
  if (template !== null && typeof template === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) return `${path} is not an object`;
    const t = template as Record<string, unknown>, v = value as Record<string, unknown>;
    for (const k of Object.keys(t)) {
      if (!(k in v)) return `${path}.${k} is missing`;
      const why = shapeMismatch(t[k], v[k], lists, `${path}.${k}`);
      if (why !== null) return why;
    }
    for (const k of Object.keys(v)) if (!(k in t)) return `${path}.${k} is unknown`;
    return null;
  }
  if (typeof template !== typeof value) return `${path} is not a ${typeof template}`;
  return null;
}

/** A list element with no template to compare with: numbers, strings, booleans, lists and objects of them. */
function plainJson(value: unknown, path: string): string | null {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) { const why = plainJson(value[i], `${path}[${i}]`); if (why !== null) return why; }
    return null;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(value)) { const why = plainJson(v, `${path}.${k}`); if (why !== null) return why; }
    return null;
  }
  return `${path} is not a plain value`;
}
