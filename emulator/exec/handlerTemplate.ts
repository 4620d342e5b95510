/**
 * Handlers instantiated from one template per operand shape, once per operation (and width): the
 * operation × width tables of aluInsns.ts, aluFast.ts and shiftInsns.ts (blink's kAlu[op][width]).
 *
 * Why source text and not a closure factory: V8 gives every closure made from one function literal the
 * same feedback and the same optimized code, so a factory's `op(...)` call would see every operation
 * and stay megamorphic (not inlined). Each instantiated handler is a function of its own, with its own
 * call sites, exactly as the hand-written copies were. The templates are short statements over the
 * handler's (c, d) and the bindings passed in; the pure operations stay typed TypeScript.
 */
import type { Handler } from '../decode/insn';

/** A handler named `name` whose body is `body`, with `bindings` in scope by name. */
export function instantiate(name: string, body: string, bindings: Record<string, unknown>): Handler {
  const keys = Object.keys(bindings);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...keys, `"use strict"; return function ${name}(c, d) {\n${body}\n};`);
  return factory(...keys.map((k) => bindings[k])) as Handler;
}
