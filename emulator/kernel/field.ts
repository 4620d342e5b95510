/** Where a field is, from the start of its structure, and how many bytes it has. */
export interface Field { offset: number; size: number }
