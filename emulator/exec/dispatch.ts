/**
 * The handler table (blink kNexgen32e): iced `Code` → handler, filled once at start-up from rules
 * keyed by mnemonic, with Code-name rules for the forms whose operands the generic handler cannot
 * tell apart (MOV to control registers, SYSRETQ vs SYSRETD, the string MOVSD vs the SSE MOVSD, ...)
 * and specialised handlers for the hottest forms. An unimplemented Code gets `unimplemented`, which
 * counts the mnemonic and raises #UD in the guest.
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import type { Insn, Handler } from '../decode/insn';
import { GuestFault, UD } from '../interrupts/guestFault';
import * as alu from './aluInsns';
import * as sh from './shiftInsns';
import * as md from './mulDivInsns';
import * as bit from './bitInsns';
import * as mv from './dataMove';
import * as st from './stack';
import * as ctl from './control';
import * as str from './string';
import * as sys from './system';
import * as sse from './sseMove';
import * as sseArith from './sseArith';
import * as sseCmp from './sseCompare';
import * as sseCvt from './sseConvert';
import * as sseInt from './sseInteger';
import * as sseShift from './sseShift';
import * as sseShuf from './sseShuffle';
import { cpuid } from './cpuid';
import * as fast from './aluFast';
import { X87_MMX_CODE_RULES, MMX_NOT_PRESENT } from './x87Dispatch';

let mnemonicNames: string[] = [];

/** Unimplemented (or invalid) instruction: count it by mnemonic on the machine (run report), raise #UD. */
export function unimplemented(c: Cpu, d: Insn): void {
  const name = d.code === 0 ? '(bad)' : (mnemonicNames[d.mnemonic] ?? String(d.mnemonic)).toLowerCase();
  c.unimplemented.set(name, (c.unimplemented.get(name) ?? 0) + 1);
  throw new GuestFault(UD);
}

const M = Mnemonic as unknown as Record<string, number>;
const byMnemonic: Handler[] = [];
function mn(names: string[], h: Handler): void {
  for (const n of names) {
    const v = M[n];
    if (v === undefined) throw new Error(`dispatch: unknown mnemonic ${n}`);
    byMnemonic[v] = h;
  }
}

mn(['Add'], alu.addRm); mn(['Or'], alu.orRm); mn(['Adc'], alu.adcRm); mn(['Sbb'], alu.sbbRm);
mn(['And'], alu.andRm); mn(['Sub'], alu.subRm); mn(['Xor'], alu.xorRm); mn(['Cmp'], alu.cmpRm);
mn(['Test'], alu.testRm); mn(['Inc'], alu.incRm); mn(['Dec'], alu.decRm); mn(['Neg'], alu.negRm); mn(['Not'], alu.notRm);
mn(['Shl', 'Sal'], sh.shlRm); mn(['Shr'], sh.shrRm); mn(['Sar'], sh.sarRm); mn(['Rol'], sh.rolRm); mn(['Ror'], sh.rorRm);
mn(['Rcl'], sh.rclRm); mn(['Rcr'], sh.rcrRm); mn(['Shld'], sh.shldRm); mn(['Shrd'], sh.shrdRm);
mn(['Mul'], md.mulRm); mn(['Imul'], md.imulRm); mn(['Div'], md.divRm); mn(['Idiv'], md.idivRm);
mn(['Bt'], bit.btRm); mn(['Bts'], bit.btsRm); mn(['Btr'], bit.btrRm); mn(['Btc'], bit.btcRm);
mn(['Bsf'], bit.bsfR); mn(['Bsr'], bit.bsrR); mn(['Tzcnt'], bit.tzcntR); mn(['Lzcnt'], bit.lzcntR);
mn(['Popcnt'], bit.popcntR); mn(['Bswap'], bit.bswapR);
mn(['Mov'], mv.mov); mn(['Movzx'], mv.movzx); mn(['Movsx', 'Movsxd'], mv.movsx); mn(['Lea'], mv.lea);
mn(['Xchg'], mv.xchg); mn(['Cmpxchg'], mv.cmpxchg); mn(['Cmpxchg8b', 'Cmpxchg16b'], mv.cmpxchgNb); mn(['Xadd'], mv.xadd);
mn(['Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp', 'Cmovnp',
  'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg'], mv.cmovcc);
mn(['Seto', 'Setno', 'Setb', 'Setae', 'Sete', 'Setne', 'Setbe', 'Seta', 'Sets', 'Setns', 'Setp', 'Setnp',
  'Setl', 'Setge', 'Setle', 'Setg'], mv.setcc);
mn(['Cbw'], mv.cbw); mn(['Cwde'], mv.cwde); mn(['Cdqe'], mv.cdqe); mn(['Cwd'], mv.cwd); mn(['Cdq'], mv.cdq); mn(['Cqo'], mv.cqo);
mn(['Lahf'], mv.lahf); mn(['Sahf'], mv.sahf);
mn(['Clc'], mv.clc); mn(['Stc'], mv.stc); mn(['Cmc'], mv.cmc); mn(['Cld'], mv.cld); mn(['Std'], mv.std);
mn(['Nop', 'Pause', 'Lfence', 'Mfence', 'Sfence', 'Prefetchnta', 'Prefetcht0', 'Prefetcht1', 'Prefetcht2', 'Prefetchw',
  'Endbr64', 'Endbr32', 'Clflush', 'Clflushopt', 'Wait'], mv.nop);
mn(['Push'], st.push); mn(['Pop'], st.pop); mn(['Enter'], st.enter); mn(['Leave'], st.leave);
mn(['Pushf', 'Pushfd', 'Pushfq'], st.pushf); mn(['Popf', 'Popfd', 'Popfq'], st.popf);
mn(['Jmp'], ctl.jmpRel); mn(['Call'], ctl.callRel); mn(['Ret'], ctl.ret); mn(['Retf'], ctl.retf);
mn(['Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg'], ctl.jcc);
mn(['Loop'], ctl.loop); mn(['Loope'], ctl.loope); mn(['Loopne'], ctl.loopne); mn(['Jrcxz', 'Jecxz'], ctl.jrcxz);
mn(['Movsb', 'Movsw', 'Movsq'], str.movs); mn(['Stosb', 'Stosw', 'Stosd', 'Stosq'], str.stos);
mn(['Lodsb', 'Lodsw', 'Lodsd', 'Lodsq'], str.lods); mn(['Cmpsb', 'Cmpsw', 'Cmpsq'], str.cmps);
mn(['Scasb', 'Scasw', 'Scasd', 'Scasq'], str.scas); mn(['Insb', 'Insw', 'Insd'], str.ins); mn(['Outsb', 'Outsw', 'Outsd'], str.outs);
mn(['Cpuid'], cpuid); mn(['Rdmsr'], sys.rdmsr); mn(['Wrmsr'], sys.wrmsr); mn(['Rdtsc'], sys.rdtsc); mn(['Rdtscp'], sys.rdtscp);
mn(['Cli'], sys.cli); mn(['Sti'], sys.sti); mn(['Hlt'], sys.hlt); mn(['Clts'], sys.clts); mn(['Invlpg'], sys.invlpg);
mn(['Swapgs'], sys.swapgs); mn(['Syscall'], sys.syscall);
mn(['Lgdt'], sys.lgdt); mn(['Lidt'], sys.lidt); mn(['Sgdt'], sys.sgdtH); mn(['Sidt'], sys.sidtH);
mn(['Ltr'], sys.ltr); mn(['Lldt'], sys.lldt); mn(['Str'], sys.strH); mn(['Sldt'], sys.sldt);
mn(['Iret', 'Iretd', 'Iretq'], sys.iret); mn(['Int'], sys.intN); mn(['Int3'], sys.int3); mn(['Int1'], sys.int1); mn(['Into'], sys.into);
mn(['Ud2', 'Ud0', 'Ud1'], sys.ud); mn(['In'], sys.inH); mn(['Out'], sys.outH);
mn(['Wbinvd', 'Invd'], sys.wbinvd); mn(['Xgetbv'], sys.xgetbv); mn(['Stac'], sys.stac); mn(['Clac'], sys.clac);
mn(['Movnti'], mv.mov);
mn(['Rdfsbase'], (c, d) => sys.rdfsgsbase(c, d, false)); mn(['Rdgsbase'], (c, d) => sys.rdfsgsbase(c, d, true));
mn(['Wrfsbase'], (c, d) => sys.wrfsgsbase(c, d, false)); mn(['Wrgsbase'], (c, d) => sys.wrfsgsbase(c, d, true));
mn(['Movdqa', 'Movaps', 'Movapd'], sse.movAligned); mn(['Movdqu', 'Movups', 'Movupd'], sse.movUnaligned);
mn(['Movd', 'Movq'], sse.movdq); mn(['Movss'], sse.movss);
mn(['Movlps', 'Movlpd'], sse.movlp); mn(['Movhps', 'Movhpd'], sse.movhp); mn(['Movhlps'], sse.movhlps); mn(['Movlhps'], sse.movlhps);
mn(['Pxor', 'Xorps', 'Xorpd'], sse.pxor); mn(['Por', 'Orps', 'Orpd'], sse.por); mn(['Pand', 'Andps', 'Andpd'], sse.pand);
mn(['Pandn', 'Andnps', 'Andnpd'], sse.pandn);
mn(['Punpcklbw'], sse.punpcklbw); mn(['Punpcklwd'], sse.punpcklwd); mn(['Punpckldq'], sse.punpckldq); mn(['Punpcklqdq'], sse.punpcklqdq);
mn(['Punpckhbw'], sse.punpckhbw); mn(['Punpckhwd'], sse.punpckhwd); mn(['Punpckhdq'], sse.punpckhdq); mn(['Punpckhqdq'], sse.punpckhqdq);
mn(['Pshufd'], sse.pshufd); mn(['Pcmpeqb'], sse.pcmpeqb); mn(['Pcmpeqw'], sse.pcmpeqw); mn(['Pcmpeqd'], sse.pcmpeqd);
mn(['Pmovmskb'], sse.pmovmskb); mn(['Ldmxcsr'], sse.ldmxcsr); mn(['Stmxcsr'], sse.stmxcsr);
// SSE/SSE2/SSE3 on XMM registers (the MMX-register forms get their own Code rules).
// Handlers are exported under their mnemonic's name; `make*` exports are handler factories.
for (const [name, h] of Object.entries({ ...sseArith, ...sseCmp, ...sseCvt, ...sseInt, ...sseShift, ...sseShuf })) {
  if (!name.startsWith('make')) mn([name[0].toUpperCase() + name.slice(1)], h as Handler);
}
mn(['Unpcklps'], sse.punpckldq); mn(['Unpckhps'], sse.punpckhdq); mn(['Unpcklpd'], sse.punpcklqdq); mn(['Unpckhpd'], sse.punpckhqdq);
mn(['Movntdq', 'Movntps', 'Movntpd'], sse.movAligned); mn(['Lddqu'], sse.movUnaligned);
// The MMX-register forms of these conversions need an sseCvt.MmxAccess onto the MMX state (null: none yet).
mn(['Cvtpi2ps'], sseCvt.makeCvtpi2(false, null, unimplemented)); mn(['Cvtpi2pd'], sseCvt.makeCvtpi2(true, null, unimplemented));
mn(['Cvtps2pi'], sseCvt.makeCvt2pi(false, false, null, unimplemented)); mn(['Cvttps2pi'], sseCvt.makeCvt2pi(false, true, null, unimplemented));
mn(['Cvtpd2pi'], sseCvt.makeCvt2pi(true, false, null, unimplemented)); mn(['Cvttpd2pi'], sseCvt.makeCvt2pi(true, true, null, unimplemented));
// qemu64 does not advertise MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0): they are #UD, as QEMU makes them.
mn(['Monitor', 'Mwait'], sys.ud);

/** Code-name rules, checked before the mnemonic table (first match wins). */
const CODE_RULES: [RegExp, Handler][] = [
  [/^Mov_(cr|r32_cr|r64_cr)|^Mov_cr_|_cr$/, sys.movCr],
  [/^Mov_.*_dr$|^Mov_dr_/, sys.movDr],
  [/^Mov_.*Sreg/, sys.movSreg],
  [/^Movsd_m32_m32$/, str.movs], [/^Cmpsd_m32_m32$/, str.cmps],
  [/^Movsd_xmm|^Movsd_m64_xmm/, sse.movsdXmm],
  [/^Sysretq/, sys.sysretq], [/^Sysretd/, sys.sysretd],
  [/^Jmp_(rm|r)(16|32|64)$/, ctl.jmpRm], [/^Call_(rm|r)(16|32|64)$/, ctl.callRm],
  [/^Jmp_(ptr|m16)/, ctl.jmpFar], [/^Call_(ptr|m16)/, ctl.callFar],
  [/^Mov_r64_rm64$|^Mov_rm64_r64$/, movR64Form], [/^Mov_r32_rm32$|^Mov_rm32_r32$/, movR32Form],
  [/^Push_r64$/, st.pushR64], [/^Pop_r64$/, st.popR64],
  [/^Nop[wdq]/, mv.nop],
];
// x87, MMX and FXSAVE/FXRSTOR come first: the mm forms of mnemonics shared with SSE must reach MMX.
CODE_RULES.unshift(...X87_MMX_CODE_RULES, [MMX_NOT_PRESENT, unimplemented]);

/** Placeholders: the specialised MOV forms are chosen per instruction by `specialise` below. */
function movR64Form(c: Cpu, d: Insn): void { mv.mov(c, d); }
function movR32Form(c: Cpu, d: Insn): void { mv.mov(c, d); }

const table: (Handler | undefined)[] = [];

function build(): void {
  const codeNames: string[] = [];
  for (const [k, v] of Object.entries(Code)) if (typeof v === 'number') codeNames[v] = k;
  mnemonicNames = [];
  for (const [k, v] of Object.entries(Mnemonic)) if (typeof v === 'number') mnemonicNames[v] = k;
  for (let code = 0; code < codeNames.length; code++) {
    const name = codeNames[code];
    if (name === undefined) continue;
    let h: Handler | undefined;
    for (const [re, fn] of CODE_RULES) if (re.test(name)) { h = fn; break; }
    // VEX/EVEX/XOP encodings and 3DNow are not implemented even when the mnemonic matches.
    if (h === undefined && !/^(V|EVEX_|VEX_|XOP_|D3NOW_|MVEX_)/.test(name)) {
      // Only plain encodings: the mnemonic rule applies.
      h = undefined;
    }
    table[code] = h;
  }
}
build();

// Ground-truth variants of the call/return handlers (installed only while truth is on).
function callRelT(c: Cpu, d: Insn): void { ctl.callRel(c, d); c.truth!.onCall(c.insnStart, c.rip); }
function callRmT(c: Cpu, d: Insn): void { ctl.callRm(c, d); c.truth!.onCall(c.insnStart, c.rip); }
function retT(c: Cpu, d: Insn): void { ctl.ret(c, d); c.truth!.onRet(); }
/**
 * Handler for a decoded instruction: the Code rule, else the mnemonic rule, else #UD + count. With
 * `truth`, call/ret get the ground-truth variants (set per machine by its decoder).
 */
export function handlerFor(code: number, mnemonic: number, truth = false): Handler {
  const h = table[code] ?? byMnemonic[mnemonic] ?? unimplemented;
  if (truth) {
    if (h === ctl.callRel) return callRelT;
    if (h === ctl.callRm) return callRmT;
    if (h === ctl.ret) return retT;
  }
  return h;
}

/** [generic handler, size, source kind] → specialised handler (register destination only). */
const FAST: [Handler, number, number, Handler][] = [
  [alu.addRm, 8, 1, fast.addR64R64], [alu.subRm, 8, 1, fast.subR64R64], [alu.cmpRm, 8, 1, fast.cmpR64R64],
  [alu.andRm, 8, 1, fast.andR64R64], [alu.orRm, 8, 1, fast.orR64R64], [alu.xorRm, 8, 1, fast.xorR64R64],
  [alu.testRm, 8, 1, fast.testR64R64],
  [alu.addRm, 8, 3, fast.addR64I], [alu.subRm, 8, 3, fast.subR64I], [alu.cmpRm, 8, 3, fast.cmpR64I],
  [alu.andRm, 8, 3, fast.andR64I], [alu.orRm, 8, 3, fast.orR64I],
  [alu.addRm, 4, 1, fast.addR32R32], [alu.subRm, 4, 1, fast.subR32R32], [alu.cmpRm, 4, 1, fast.cmpR32R32],
  [alu.xorRm, 4, 1, fast.xorR32R32], [alu.testRm, 4, 1, fast.testR32R32],
  [alu.addRm, 4, 3, fast.addR32I], [alu.subRm, 4, 3, fast.subR32I], [alu.cmpRm, 4, 3, fast.cmpR32I],
  [alu.andRm, 4, 3, fast.andR32I],
];

/**
 * Hot handlers the run loop calls by id (a direct call V8 can inline) instead of through Insn.fn
 * (megamorphic). Index = Insn.op; must match the switch in machine.ts.
 */
export const HOT_HANDLERS: Handler[] = [unimplemented, mv.movR64R64, mv.movR64M, mv.movMR64, ctl.jcc,
  fast.addR64R64, fast.addR64I, fast.cmpR64R64, fast.cmpR64I, fast.testR64R64, fast.subR64R64, fast.xorR32R32,
  mv.movR32R32, mv.movR32M, fast.cmpR32I, fast.testR32R32];

/** Pick a specialised handler for the hottest operand forms (called by the decoder after conversion). */
export function specialise(d: Insn): void {
  specialiseForm(d);
  const i = HOT_HANDLERS.indexOf(d.fn);
  d.op = i > 0 ? i : 0;
}

function specialiseForm(d: Insn): void {
  if (d.k0 === 1 && (d.k1 === 1 || d.k1 === 3) && d.k2 === 0 && d.lock === 0 && (d.size === 8 || d.size === 4) &&
    (d.k1 !== 1 || d.s1 === d.size)) {
    for (const [g, size, k, h] of FAST) if (d.fn === g && d.size === size && d.k1 === k) { d.fn = h; return; }
  }
  if (d.fn === movR64Form) {
    d.fn = d.k0 === 1 && d.k1 === 1 ? mv.movR64R64 : d.k0 === 1 ? mv.movR64M : mv.movMR64;
  } else if (d.fn === movR32Form) {
    d.fn = d.k0 === 1 && d.k1 === 1 ? mv.movR32R32 : d.k0 === 1 ? mv.movR32M : mv.movMR32;
  }
}

export function mnemonicNameOf(m: number): string { return (mnemonicNames[m] ?? String(m)).toLowerCase(); }
