// The part of the WebAssembly JS API that klp-lab uses (Node's global; TypeScript declares it only in
// lib.dom, which this project does not load).
declare namespace WebAssembly {
  interface MemoryDescriptor { initial: number; maximum?: number }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  type ImportValue = ((...args: never[]) => unknown) | Memory;
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}
