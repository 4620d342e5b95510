/**
 * The instruction table (v86's x86_table, blink's kNexgen32e): every form the emulator runs, with
 * its interpreter handler and what the rest of the machine needs to know about it: the status flags
 * it reads and writes, whether it can fault, whether it ends a block, the variant to run when its
 * flags are dead, and whether the run loop dispatches it directly. Decoding (through `bindForm`),
 * the run loop (`runInsn`), dead-flag elimination (exec/threadedBlock.ts) and the JIT (which form an
 * instruction is) all read this one table.
 *
 * Forms are found from iced `Code` rules (the forms whose operands the generic handler cannot tell
 * apart: MOV to control registers, SYSRETQ vs SYSRETD, the string MOVSD vs the SSE MOVSD, ...), then
 * by mnemonic; the hottest operand shapes are then specialised (register operands, 32/64-bit). An
 * unimplemented Code gets `unimplemented`, which counts the mnemonic and raises #UD in the guest.
 */
import { Code, Mnemonic } from 'iced-x86';
import type { Cpu } from '../cpu/cpu';
import { Insn, Handler, END_NONE, END_SERIALIZING, OK_REG, OK_IMM } from '../decode/insn';
import { CF, OF, STATUS_FLAGS } from '../cpu/flags';
import { GuestFault, UD } from '../interrupts/guestFault';
import { ALU_RM, ALU1_RM, ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP, ALU_TEST,
  ALU1_INC, ALU1_DEC, ALU1_NEG, ALU1_NOT } from './aluInsns';
import { SHIFT_RM, SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAR, SH_SHLD, SH_SHRD } from './shiftInsns';
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
import { fastAlu, SRC_REG, SRC_IMM } from './aluFast';
import { X87_MMX_CODE_RULES, MMX_NOT_PRESENT } from './x87Dispatch';
import { MMX_ACCESS } from './mmxInsns';

/** What a form declares about itself; anything left out takes the cautious default. */
export interface FormInfo {
  /** Status flags it may read (default: all). */
  reads?: number;
  /** Status flags it may write (default: all). */
  writes?: number;
  /** It writes every flag of `writes` every time, whatever its operands (default: false). */
  writesAlways?: boolean;
  /** It can raise a guest exception (default: true). */
  canFault?: boolean;
  /** It ends a block although it does not branch: it may change what the block depends on (default: false). */
  endsBlock?: boolean;
  /** The handler to run when none of its flags is read before being overwritten (default: none). */
  flagFree?: Handler;
  /** The run loop calls it directly, where V8 can inline it, instead of through Insn.fn (default: false). */
  hot?: boolean;
}

/** One row of the table. */
export class Form {
  readonly reads: number;
  readonly writes: number;
  readonly writesAlways: boolean;
  readonly canFault: boolean;
  readonly endsBlock: boolean;
  readonly flagFree: Handler | null;
  /** The run-loop id (Insn.op) of a hot form, 0 otherwise. */
  hot = 0;
  /** The form that also reports to ground truth (near CALL and RET), installed while truth is on. */
  truth: Form | null = null;
  constructor(readonly id: number, readonly name: string, readonly run: Handler, info: FormInfo) {
    this.reads = info.reads ?? STATUS_FLAGS;
    this.writes = info.writes ?? STATUS_FLAGS;
    this.writesAlways = info.writesAlways ?? false;
    this.canFault = info.canFault ?? true;
    this.endsBlock = info.endsBlock ?? false;
    this.flagFree = info.flagFree ?? null;
  }
  /** Overwrites every status flag without reading any and cannot fault: earlier flags are dead here. */
  get killsFlags(): boolean {
    return this.reads === 0 && this.writes === STATUS_FLAGS && this.writesAlways && !this.canFault;
  }
}

/** Every form, by id (Insn.form). */
export const FORMS: Form[] = [];
const hotForms: Form[] = [];

function form(run: Handler, info: FormInfo = {}, name = run.name): Form {
  const f = new Form(FORMS.length, name, run, info);
  FORMS.push(f);
  if (info.hot === true) { hotForms.push(f); f.hot = hotForms.length; }
  return f;
}

let mnemonicNames: string[] = [];

/** Unimplemented (or invalid) instruction: count it by mnemonic on the machine (run report), raise #UD. */
export function unimplemented(c: Cpu, d: Insn): void {
  const name = d.code === 0 ? '(bad)' : (mnemonicNames[d.mnemonic] ?? String(d.mnemonic)).toLowerCase();
  c.unimplemented.set(name, (c.unimplemented.get(name) ?? 0) + 1);
  throw new GuestFault(UD);
}
const UNIMPLEMENTED = form(unimplemented, { reads: 0, writes: 0 });

// Flag behaviour shared by families (SDM vol. 2; "writes" includes the flags left undefined).
const ARITH: FormInfo = { reads: 0, writes: STATUS_FLAGS, writesAlways: true };
const WITH_CARRY: FormInfo = { reads: CF, writes: STATUS_FLAGS, writesAlways: true };
const INC_DEC: FormInfo = { reads: 0, writes: STATUS_FLAGS & ~CF, writesAlways: true };
const NO_FLAGS: FormInfo = { reads: 0, writes: 0 };
/** Shifts by a count that may be 0 (which changes no flag). */
const SHIFT: FormInfo = { reads: 0, writes: STATUS_FLAGS };
const ROTATE: FormInfo = { reads: 0, writes: CF | OF };
const ROTATE_CARRY: FormInfo = { reads: CF, writes: CF | OF };
const READS_FLAGS: FormInfo = { reads: STATUS_FLAGS, writes: 0 };
/** Instructions that must end their block: the state a block depends on may change. */
const SERIALIZING: FormInfo = { endsBlock: true };

const M = Mnemonic as unknown as Record<string, number>;
const byMnemonic: Form[] = [];
/** Forms found by mnemonic (after the Code rules). */
function mn(names: string[], h: Handler | Form, info: FormInfo = {}): Form {
  const f = h instanceof Form ? h : form(h, info);
  for (const n of names) {
    const v = M[n];
    if (v === undefined) throw new Error(`table: unknown mnemonic ${n}`);
    byMnemonic[v] = f;
  }
  return f;
}

// Integer ALU (the generic forms: any operand shape; the hot shapes are specialised below).
const ADD_RM = mn(['Add'], ALU_RM[ALU_ADD], ARITH), OR_RM = mn(['Or'], ALU_RM[ALU_OR], ARITH);
mn(['Adc'], ALU_RM[ALU_ADC], WITH_CARRY); mn(['Sbb'], ALU_RM[ALU_SBB], WITH_CARRY);
const AND_RM = mn(['And'], ALU_RM[ALU_AND], ARITH), SUB_RM = mn(['Sub'], ALU_RM[ALU_SUB], ARITH);
const XOR_RM = mn(['Xor'], ALU_RM[ALU_XOR], ARITH), CMP_RM = mn(['Cmp'], ALU_RM[ALU_CMP], ARITH);
const TEST_RM = mn(['Test'], ALU_RM[ALU_TEST], ARITH);
mn(['Inc'], ALU1_RM[ALU1_INC], INC_DEC); mn(['Dec'], ALU1_RM[ALU1_DEC], INC_DEC);
mn(['Neg'], ALU1_RM[ALU1_NEG], ARITH); mn(['Not'], ALU1_RM[ALU1_NOT], NO_FLAGS);
mn(['Shl', 'Sal'], SHIFT_RM[SH_SHL], SHIFT); mn(['Shr'], SHIFT_RM[SH_SHR], SHIFT); mn(['Sar'], SHIFT_RM[SH_SAR], SHIFT);
mn(['Rol'], SHIFT_RM[SH_ROL], ROTATE); mn(['Ror'], SHIFT_RM[SH_ROR], ROTATE);
mn(['Rcl'], SHIFT_RM[SH_RCL], ROTATE_CARRY); mn(['Rcr'], SHIFT_RM[SH_RCR], ROTATE_CARRY);
mn(['Shld'], SHIFT_RM[SH_SHLD], SHIFT); mn(['Shrd'], SHIFT_RM[SH_SHRD], SHIFT);
mn(['Mul'], md.mulRm, { reads: 0 }); mn(['Imul'], md.imulRm, { reads: 0 }); mn(['Div'], md.divRm); mn(['Idiv'], md.idivRm);
mn(['Bt'], bit.btRm); mn(['Bts'], bit.BIT_MODIFY_RM[0]); mn(['Btr'], bit.BIT_MODIFY_RM[1]); mn(['Btc'], bit.BIT_MODIFY_RM[2]);
mn(['Bsf'], bit.BIT_SCAN_R[0]); mn(['Bsr'], bit.BIT_SCAN_R[1]);
mn(['Tzcnt'], bit.BIT_COUNT_R[0]); mn(['Lzcnt'], bit.BIT_COUNT_R[1]); mn(['Popcnt'], bit.BIT_COUNT_R[2]); mn(['Bswap'], bit.bswapR, NO_FLAGS);
// Data movement.
const MOV = mn(['Mov'], mv.mov, NO_FLAGS); mn(['Movzx'], mv.movzx, NO_FLAGS); mn(['Movsx', 'Movsxd'], mv.movsx, NO_FLAGS);
mn(['Lea'], mv.lea, { ...NO_FLAGS, canFault: false });
mn(['Xchg'], mv.xchg, NO_FLAGS); mn(['Cmpxchg'], mv.cmpxchg, ARITH); mn(['Cmpxchg8b', 'Cmpxchg16b'], mv.cmpxchgNb); mn(['Xadd'], mv.xadd, ARITH);
mn(['Cmovo', 'Cmovno', 'Cmovb', 'Cmovae', 'Cmove', 'Cmovne', 'Cmovbe', 'Cmova', 'Cmovs', 'Cmovns', 'Cmovp', 'Cmovnp',
  'Cmovl', 'Cmovge', 'Cmovle', 'Cmovg'], mv.cmovcc, READS_FLAGS);
mn(['Seto', 'Setno', 'Setb', 'Setae', 'Sete', 'Setne', 'Setbe', 'Seta', 'Sets', 'Setns', 'Setp', 'Setnp',
  'Setl', 'Setge', 'Setle', 'Setg'], mv.setcc, READS_FLAGS);
const REGISTER_ONLY: FormInfo = { ...NO_FLAGS, canFault: false };
mn(['Cbw'], mv.cbw, REGISTER_ONLY); mn(['Cwde'], mv.cwde, REGISTER_ONLY); mn(['Cdqe'], mv.cdqe, REGISTER_ONLY);
mn(['Cwd'], mv.cwd, REGISTER_ONLY); mn(['Cdq'], mv.cdq, REGISTER_ONLY); mn(['Cqo'], mv.cqo, REGISTER_ONLY);
mn(['Lahf'], mv.lahf, { reads: STATUS_FLAGS & ~OF, writes: 0, canFault: false });
mn(['Sahf'], mv.sahf, { reads: 0, writes: STATUS_FLAGS & ~OF, writesAlways: true, canFault: false });
mn(['Clc'], mv.clc, { reads: 0, writes: CF, writesAlways: true, canFault: false });
mn(['Stc'], mv.stc, { reads: 0, writes: CF, writesAlways: true, canFault: false });
mn(['Cmc'], mv.cmc, { reads: CF, writes: CF, writesAlways: true, canFault: false });
mn(['Cld'], mv.cld, REGISTER_ONLY); mn(['Std'], mv.std, REGISTER_ONLY);
const NOP = mn(['Nop', 'Prefetchnta', 'Prefetcht0', 'Prefetcht1', 'Prefetcht2', 'Prefetchw',
  'Endbr64', 'Endbr32', 'Clflush', 'Clflushopt', 'Wait'], mv.nop, NO_FLAGS);
mn(['Pause', 'Lfence', 'Mfence', 'Sfence'], mv.nop, { ...NO_FLAGS, ...SERIALIZING });
// Stack and control transfer (block ends from branches come from the decoder's flow control).
const PUSH = mn(['Push'], st.push, NO_FLAGS), POP = mn(['Pop'], st.pop, NO_FLAGS);
mn(['Enter'], st.enter, NO_FLAGS); mn(['Leave'], st.leave, NO_FLAGS);
mn(['Pushf', 'Pushfd', 'Pushfq'], st.pushf, READS_FLAGS); mn(['Popf', 'Popfd', 'Popfq'], st.popf, { reads: 0, ...SERIALIZING });
const JMP_REL = mn(['Jmp'], ctl.jmpRel, NO_FLAGS), CALL_REL = mn(['Call'], ctl.callRel, NO_FLAGS);
const RET = mn(['Ret'], ctl.ret, NO_FLAGS); mn(['Retf'], ctl.retf, NO_FLAGS);
const JCC = mn(['Jo', 'Jno', 'Jb', 'Jae', 'Je', 'Jne', 'Jbe', 'Ja', 'Js', 'Jns', 'Jp', 'Jnp', 'Jl', 'Jge', 'Jle', 'Jg'],
  form(ctl.jcc, { ...READS_FLAGS, hot: true }));
mn(['Loop'], ctl.loop, NO_FLAGS); mn(['Loope'], ctl.loope, { ...READS_FLAGS }); mn(['Loopne'], ctl.loopne, READS_FLAGS);
mn(['Jrcxz', 'Jecxz'], ctl.jrcxz, NO_FLAGS);
mn(['Movsb', 'Movsw', 'Movsq'], str.movs); mn(['Stosb', 'Stosw', 'Stosd', 'Stosq'], str.stos);
mn(['Lodsb', 'Lodsw', 'Lodsd', 'Lodsq'], str.lods); mn(['Cmpsb', 'Cmpsw', 'Cmpsq'], str.cmps);
mn(['Scasb', 'Scasw', 'Scasd', 'Scasq'], str.scas); mn(['Insb', 'Insw', 'Insd'], str.ins, SERIALIZING);
mn(['Outsb', 'Outsw', 'Outsd'], str.outs, SERIALIZING);
mn(['Cpuid'], cpuid, SERIALIZING); mn(['Rdmsr'], sys.rdmsr, SERIALIZING); mn(['Wrmsr'], sys.wrmsr, SERIALIZING); mn(['Rdtsc'], sys.rdtsc, SERIALIZING); mn(['Rdtscp'], sys.rdtscp, SERIALIZING);
mn(['Cli'], sys.cli, SERIALIZING); mn(['Sti'], sys.sti, SERIALIZING); mn(['Hlt'], sys.hlt, SERIALIZING); mn(['Clts'], sys.clts); mn(['Invlpg'], sys.invlpg);
mn(['Swapgs'], sys.swapgs, SERIALIZING); mn(['Syscall'], sys.syscall);
mn(['Lgdt'], sys.lgdt); mn(['Lidt'], sys.lidt); mn(['Sgdt'], sys.sgdtH); mn(['Sidt'], sys.sidtH);
mn(['Ltr'], sys.ltr); mn(['Lldt'], sys.lldt); mn(['Str'], sys.strH); mn(['Sldt'], sys.sldt);
mn(['Iret', 'Iretd', 'Iretq'], sys.iret); mn(['Int'], sys.intN); mn(['Int3'], sys.int3); mn(['Int1'], sys.int1); mn(['Into'], sys.into);
mn(['Ud2', 'Ud0', 'Ud1'], sys.ud); mn(['In'], sys.inH, SERIALIZING); mn(['Out'], sys.outH, SERIALIZING);
mn(['Wbinvd', 'Invd'], sys.wbinvd); mn(['Xgetbv'], sys.xgetbv); mn(['Stac'], sys.stac); mn(['Clac'], sys.clac);
mn(['Movnti'], mv.mov);
mn(['Rdfsbase'], form((c, d) => sys.rdfsgsbase(c, d, false), NO_FLAGS, 'rdfsbase'));
mn(['Rdgsbase'], form((c, d) => sys.rdfsgsbase(c, d, true), NO_FLAGS, 'rdgsbase'));
mn(['Wrfsbase'], form((c, d) => sys.wrfsgsbase(c, d, false), { ...NO_FLAGS, ...SERIALIZING }, 'wrfsbase'));
mn(['Wrgsbase'], form((c, d) => sys.wrfsgsbase(c, d, true), { ...NO_FLAGS, ...SERIALIZING }, 'wrgsbase'));
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
// The MMX-register forms of these conversions reach the MMX state through the MMX handlers' access.
mn(['Cvtpi2ps'], sseCvt.makeCvtpi2(false, MMX_ACCESS, unimplemented)); mn(['Cvtpi2pd'], sseCvt.makeCvtpi2(true, MMX_ACCESS, unimplemented));
mn(['Cvtps2pi'], sseCvt.makeCvt2pi(false, false, MMX_ACCESS, unimplemented)); mn(['Cvttps2pi'], sseCvt.makeCvt2pi(false, true, MMX_ACCESS, unimplemented));
mn(['Cvtpd2pi'], sseCvt.makeCvt2pi(true, false, MMX_ACCESS, unimplemented)); mn(['Cvttpd2pi'], sseCvt.makeCvt2pi(true, true, MMX_ACCESS, unimplemented));
// qemu64 does not advertise MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 0): they are #UD, as QEMU makes them.
mn(['Monitor', 'Mwait'], sys.ud);

// Ground-truth variants of near CALL and RET (installed only while truth is on, so the default path pays nothing).
function callRelTruth(c: Cpu, d: Insn): void { ctl.callRel(c, d); c.truth!.onCall(c.insnStart, c.rip); }
function callRmTruth(c: Cpu, d: Insn): void { ctl.callRm(c, d); c.truth!.onCall(c.insnStart, c.rip); }
function retTruth(c: Cpu, d: Insn): void { ctl.ret(c, d); c.truth!.onRet(); }
CALL_REL.truth = form(callRelTruth, NO_FLAGS);
RET.truth = form(retTruth, NO_FLAGS);
const CALL_RM = form(ctl.callRm, NO_FLAGS);
CALL_RM.truth = form(callRmTruth, NO_FLAGS);

// The hottest operand shapes (a profile of compiled C: exec/aluFast.ts), chosen per instruction by
// `specialise`. They write all six status flags, read none and cannot fault (register operands only).
const FAST_ALU: FormInfo = { ...ARITH, canFault: false };
/** The specialised form of ALU operation `op` at `width` bytes from a `src` operand (aluFast.ts's table). */
function fastForm(op: number, width: number, src: number, hot = false): Form {
  const { run, flagFree } = fastAlu(op, width, src);
  return form(run, { ...FAST_ALU, flagFree, hot });
}
const MOV_R64_R64 = form(mv.movR64R64, { ...NO_FLAGS, canFault: false, hot: true });
const MOV_R64_M = form(mv.movR64M, { ...NO_FLAGS, hot: true });
const MOV_M_R64 = form(mv.movMR64, { ...NO_FLAGS, hot: true });
const MOV_R32_R32 = form(mv.movR32R32, { ...NO_FLAGS, canFault: false, hot: true });
const MOV_R32_M = form(mv.movR32M, { ...NO_FLAGS, hot: true });
const MOV_M_R32 = form(mv.movMR32, NO_FLAGS);

/**
 * Generic ALU form × operand size × source kind (register or immediate; destination a register) →
 * specialised form; `hot` ones are dispatched directly by the run loop.
 */
const SPECIALISED: [Form, number, number, Form][] = ([
  [ADD_RM, ALU_ADD, 8, SRC_REG, true], [SUB_RM, ALU_SUB, 8, SRC_REG, true], [CMP_RM, ALU_CMP, 8, SRC_REG, true],
  [AND_RM, ALU_AND, 8, SRC_REG, false], [OR_RM, ALU_OR, 8, SRC_REG, false], [XOR_RM, ALU_XOR, 8, SRC_REG, false],
  [TEST_RM, ALU_TEST, 8, SRC_REG, true],
  [ADD_RM, ALU_ADD, 8, SRC_IMM, true], [SUB_RM, ALU_SUB, 8, SRC_IMM, false], [CMP_RM, ALU_CMP, 8, SRC_IMM, true],
  [AND_RM, ALU_AND, 8, SRC_IMM, false], [OR_RM, ALU_OR, 8, SRC_IMM, false],
  [ADD_RM, ALU_ADD, 4, SRC_REG, false], [SUB_RM, ALU_SUB, 4, SRC_REG, false], [CMP_RM, ALU_CMP, 4, SRC_REG, false],
  [XOR_RM, ALU_XOR, 4, SRC_REG, true], [TEST_RM, ALU_TEST, 4, SRC_REG, true],
  [ADD_RM, ALU_ADD, 4, SRC_IMM, false], [SUB_RM, ALU_SUB, 4, SRC_IMM, false], [CMP_RM, ALU_CMP, 4, SRC_IMM, true],
  [AND_RM, ALU_AND, 4, SRC_IMM, false],
] as [Form, number, number, number, boolean][]).map(([generic, op, width, src, hot]) =>
  [generic, width, src === SRC_REG ? OK_REG : OK_IMM, fastForm(op, width, src, hot)]);

/** MOV r/m64,r64 and r64,r/m64 (and the 32-bit pair): always specialised by operand kinds. */
const MOV_64 = form(mv.mov, NO_FLAGS, 'movRm64'), MOV_32 = form(mv.mov, NO_FLAGS, 'movRm32');

/** Code-name rules, checked before the mnemonic table (first match wins). */
const CODE_RULES: [RegExp, Form][] = [
  [/^Mov_(cr|r32_cr|r64_cr)|^Mov_cr_|_cr$/, form(sys.movCr, { reads: 0, writes: STATUS_FLAGS })],
  [/^Mov_.*_dr$|^Mov_dr_/, form(sys.movDr, { reads: 0, writes: STATUS_FLAGS })],
  [/^Mov_.*Sreg/, form(sys.movSreg, NO_FLAGS)],
  [/^Movsd_m32_m32$/, byMnemonic[Mnemonic.Movsb]], [/^Cmpsd_m32_m32$/, byMnemonic[Mnemonic.Cmpsb]],
  [/^Movsd_xmm|^Movsd_m64_xmm/, form(sse.movsdXmm, NO_FLAGS)],
  [/^Sysretq/, form(sys.sysretq)], [/^Sysretd/, form(sys.sysretd)],
  [/^Jmp_(rm|r)(16|32|64)$/, form(ctl.jmpRm, NO_FLAGS)], [/^Call_(rm|r)(16|32|64)$/, CALL_RM],
  [/^Jmp_(ptr|m16)/, form(ctl.jmpFar)], [/^Call_(ptr|m16)/, form(ctl.callFar)],
  [/^Mov_r64_rm64$|^Mov_rm64_r64$/, MOV_64], [/^Mov_r32_rm32$|^Mov_rm32_r32$/, MOV_32],
  [/^Push_r64$/, form(st.pushR64, NO_FLAGS)], [/^Pop_r64$/, form(st.popR64, NO_FLAGS)],
  [/^Nop[wdq]/, NOP],
];
// x87, MMX and FXSAVE/FXRSTOR come first: the mm forms of mnemonics shared with SSE must reach MMX.
CODE_RULES.unshift(...X87_MMX_CODE_RULES.map(([re, h]): [RegExp, Form] => [re, form(h)]), [MMX_NOT_PRESENT, UNIMPLEMENTED]);

/** Form by Code from the Code rules (undefined: the mnemonic decides). */
const byCode: (Form | undefined)[] = [];
{
  for (const [k, v] of Object.entries(Mnemonic)) if (typeof v === 'number') mnemonicNames[v] = k;
  for (const [name, code] of Object.entries(Code)) {
    if (typeof code !== 'number') continue;
    for (const [re, f] of CODE_RULES) if (re.test(name)) { byCode[code] = f; break; }
  }
}

/** The form of an instruction before specialisation: the Code rule, else the mnemonic rule, else #UD + count. */
export function formFor(code: number, mnemonic: number): Form {
  return byCode[code] ?? byMnemonic[mnemonic] ?? UNIMPLEMENTED;
}

/** The hottest operand shape of a generic form, or the form itself. */
function specialise(f: Form, d: Insn): Form {
  if (d.k0 === OK_REG && (d.k1 === OK_REG || d.k1 === OK_IMM) && d.k2 === 0 && d.lock === 0 && (d.size === 8 || d.size === 4) &&
    (d.k1 !== OK_REG || d.s1 === d.size)) {
    for (const [g, size, k, s] of SPECIALISED) if (f === g && d.size === size && d.k1 === k) return s;
  }
  if (f === MOV_64) return d.k0 === OK_REG && d.k1 === OK_REG ? MOV_R64_R64 : d.k0 === OK_REG ? MOV_R64_M : MOV_M_R64;
  if (f === MOV_32) return d.k0 === OK_REG && d.k1 === OK_REG ? MOV_R32_R32 : d.k0 === OK_REG ? MOV_R32_M : MOV_M_R32;
  return f;
}

/**
 * Bind a decoded instruction to its form (the decoder calls this for each instruction it converts):
 * Insn.form, the handler, the run-loop id, and the end of the block when the form must end it. With
 * `truth`, near CALL and RET get the forms that report to ground truth.
 */
export function bindForm(d: Insn, truth: boolean): void {
  let f = specialise(formFor(d.code, d.mnemonic), d);
  if (truth && f.truth !== null) f = f.truth;
  d.form = f.id;
  d.fn = f.run;
  d.op = f.hot;
  if (f.endsBlock && d.end === END_NONE) d.end = END_SERIALIZING;
}

export function formOf(d: Insn): Form { return FORMS[d.form]; }

/**
 * Run one instruction: the hot forms through a switch with one call site each (monomorphic, so V8
 * inlines them into the run loop's caller), the others through Insn.fn. Generated from the table, so
 * the ids and the calls cannot disagree.
 */
export const runInsn: Handler = (() => {
  const params = hotForms.map((f) => `h${f.hot}`);
  const cases = hotForms.map((f) => `    case ${f.hot}: h${f.hot}(c, d); return;`).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const factory = new Function(...params, `"use strict"; return function runInsn(c, d) {\n  switch (d.op) {\n` +
    `    case 0: d.fn(c, d); return;\n${cases}\n  }\n};`);
  return factory(...hotForms.map((f) => f.run)) as Handler;
})();

/** The forms the JIT and the tools name. */
export const FORM = {
  jcc: JCC.id, jmpRel: JMP_REL.id, callRel: CALL_REL.id, ret: RET.id, nop: NOP.id, mov: MOV.id,
  callRelTruth: (CALL_REL.truth as Form).id, retTruth: (RET.truth as Form).id,
  push: PUSH.id, pop: POP.id, pushR64: (byCode[Code.Push_r64] as Form).id, popR64: (byCode[Code.Pop_r64] as Form).id,
} as const;

export function mnemonicNameOf(m: number): string { return (mnemonicNames[m] ?? String(m)).toLowerCase(); }
