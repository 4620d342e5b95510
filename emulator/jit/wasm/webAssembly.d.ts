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
  interface TableDescriptor { element: 'anyfunc'; initial: number; maximum?: number }
  class Table {
    constructor(descriptor: TableDescriptor);
    readonly length: number;
    grow(delta: number): number;
  }
  interface GlobalDescriptor { value: 'i32'; mutable?: boolean }
  class Global {
    constructor(descriptor: GlobalDescriptor, value: number);
  }
  type ImportValue = ((...args: never[]) => unknown) | Memory | Table | Global;
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, ImportValue>>);
    readonly exports: Record<string, unknown>;
  }
  function validate(bytes: Uint8Array): boolean;
}
