// The instruction table (exec/table.ts): decoding binds each instruction to its form, the run loop's
// direct dispatch follows the form, and the flag metadata the table declares is checked against
// iced-x86's per-instruction RFLAGS information (the SDM's tables) over many encodings.
import { Decoder, DecoderOptions, Instruction, RflagsBits, Code } from 'iced-x86';
import { InsnDecoder } from '../../emulator/decode/decoder';
import { END_NONE, END_SERIALIZING, type Insn } from '../../emulator/decode/insn';
import { bindForm, formOf, FORMS, FORM } from '../../emulator/exec/table';
import { CF, PF, AF, ZF, SF, OF, STATUS_FLAGS } from '../../emulator/cpu/flags';

const decoder = new InsnDecoder(bindForm);
function one(bytes: number[], bits = 64): Insn {
  return decoder.decodeBlock(Uint8Array.from([...bytes, ...new Array(16).fill(0x90)]), 0x1000, bits, 4096, 1)[0];
}

/** iced RflagsBits → cpu/flags bits (status flags only). */
function statusOf(r: number): number {
  return ((r & RflagsBits.CF) ? CF : 0) | ((r & RflagsBits.PF) ? PF : 0) | ((r & RflagsBits.AF) ? AF : 0) |
    ((r & RflagsBits.ZF) ? ZF : 0) | ((r & RflagsBits.SF) ? SF : 0) | ((r & RflagsBits.OF) ? OF : 0);
}

describe('instruction table', () => {
  test('hot operand shapes get their own form, handler and run-loop id', () => {
    const cases: [number[], string][] = [
      [[0x48, 0x01, 0xd8], 'addR64R64'],          // add rax, rbx
      [[0x48, 0x83, 0xc0, 0x08], 'addR64I'],      // add rax, 8
      [[0x48, 0x39, 0xd8], 'cmpR64R64'],          // cmp rax, rbx
      [[0x48, 0x83, 0xf8, 0x01], 'cmpR64I'],      // cmp rax, 1
      [[0x48, 0x85, 0xc0], 'testR64R64'],         // test rax, rax
      [[0x48, 0x29, 0xd8], 'subR64R64'],          // sub rax, rbx
      [[0x31, 0xc0], 'xorR32R32'],                // xor eax, eax
      [[0x83, 0xf8, 0x05], 'cmpR32I'],            // cmp eax, 5
      [[0x85, 0xc0], 'testR32R32'],               // test eax, eax
      [[0x48, 0x89, 0xd8], 'movR64R64'],          // mov rax, rbx
      [[0x48, 0x8b, 0x03], 'movR64M'],            // mov rax, [rbx]
      [[0x48, 0x89, 0x03], 'movMR64'],            // mov [rbx], rax
      [[0x89, 0xd8], 'movR32R32'],                // mov eax, ebx
      [[0x8b, 0x03], 'movR32M'],                  // mov eax, [rbx]
      [[0x74, 0x05], 'jcc'],                      // je +5
    ];
    const ids = new Set<number>();
    for (const [bytes, name] of cases) {
      const d = one(bytes), f = formOf(d);
      expect(f.name).toBe(name);
      expect(d.fn).toBe(f.run);
      expect(f.hot).toBeGreaterThan(0);
      expect(d.op).toBe(f.hot);
      ids.add(d.op);
    }
    expect(ids.size).toBe(cases.length);
    expect(FORMS.filter((f) => f.hot > 0).length).toBe(cases.length);
  });

  test('other shapes stay on the generic form, called through Insn.fn', () => {
    const d = one([0x48, 0x01, 0x03]); // add [rbx], rax
    expect(formOf(d).name).toBe('addRm');
    expect(d.op).toBe(0);
    const w = one([0x66, 0x01, 0xd8]); // add ax, bx
    expect(formOf(w).name).toBe('addRm');
  });

  test('ground truth swaps near CALL and RET for their recording forms, and only those', () => {
    const truthDecoder = new InsnDecoder(bindForm);
    truthDecoder.truth = true;
    const call = truthDecoder.decodeBlock(Uint8Array.from([0xe8, 0, 0, 0, 0, 0x90]), 0x1000, 64, 4096, 1)[0];
    expect(formOf(call).name).toBe('callRelTruth');
    expect(call.form).not.toBe(FORM.callRel);
    const ret = truthDecoder.decodeBlock(Uint8Array.from([0xc3]), 0x1000, 64, 4096, 1)[0];
    expect(formOf(ret).name).toBe('retTruth');
    const jmp = truthDecoder.decodeBlock(Uint8Array.from([0xeb, 0x00]), 0x1000, 64, 4096, 1)[0];
    expect(jmp.form).toBe(FORM.jmpRel);
    expect(one([0xe8, 0, 0, 0, 0]).form).toBe(FORM.callRel);
  });

  test('forms that must end a block end it; their neighbours do not', () => {
    for (const bytes of [[0xfa], [0xfb], [0x0f, 0xa2], [0xf3, 0x90], [0x9d], [0x0f, 0x31], [0xe4, 0x40]]) {
      const d = one(bytes); // cli, sti, cpuid, pause, popf, rdtsc, in al, 0x40
      expect(formOf(d).endsBlock).toBe(true);
      expect(d.end).toBe(END_SERIALIZING);
    }
    for (const bytes of [[0x90], [0x48, 0x01, 0xd8], [0x9c], [0x0f, 0x18, 0x03]]) {
      const d = one(bytes); // nop, add, pushf, prefetcht0
      expect(formOf(d).endsBlock).toBe(false);
      expect(d.end).toBe(END_NONE);
    }
  });

  test('declared flag reads and writes cover what the architecture reads and writes (iced-x86 RFLAGS info)', () => {
    // Seeded random encodings in 64- and 32-bit mode behind the common prefixes reach most Codes.
    let seed = 75;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const prefixes = [[], [0x48], [0x66], [0xf3], [0xf2], [0x0f], [0x48, 0x0f], [0x66, 0x0f], [0xf3, 0x0f], [0x41]];
    const ins = new Instruction();
    const checked = new Map<number, string>();
    const wrong: string[] = [];
    let killers = 0;
    for (let k = 0; k < 40000; k++) {
      const p = prefixes[k % prefixes.length];
      const bytes = new Uint8Array(16);
      bytes.set(p);
      for (let i = p.length; i < 16; i++) bytes[i] = rnd();
      for (const bits of [64, 32]) {
        const dec = new Decoder(bits, bytes, DecoderOptions.None);
        dec.decodeOut(ins);
        dec.free();
        if (ins.code === Code.INVALID) continue;
        const d = decoder.decodeBlock(bytes, 0x1000, bits, 4096, 1)[0];
        const f = formOf(d);
        if (f.name === 'unimplemented') continue;
        const read = statusOf(ins.rflagsRead), modified = statusOf(ins.rflagsModified);
        const why = `${f.name} (Code ${ins.code}, ${Buffer.from(bytes.subarray(0, ins.length)).toString('hex')})`;
        if ((read & ~f.reads) !== 0) wrong.push(`${why} reads 0x${(read & ~f.reads).toString(16)} undeclared`);
        if ((modified & ~f.writes) !== 0) wrong.push(`${why} writes 0x${(modified & ~f.writes).toString(16)} undeclared`);
        if (f.killsFlags) {
          killers++;
          if (read !== 0 || modified !== STATUS_FLAGS) wrong.push(`${why} is declared to overwrite every flag unread`);
        }
        checked.set(ins.code, f.name);
      }
    }
    ins.free();
    expect([...new Set(wrong)].slice(0, 20)).toEqual([]);
    expect(checked.size).toBeGreaterThan(500);
    expect(killers).toBeGreaterThan(100);
  });
});
