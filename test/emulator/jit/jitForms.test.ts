// The inline forms added for real Linux's hot blocks against the interpreter: MOVSX/MOVSXD, IMUL
// (two and three operands), CMOVcc, SETcc, and REP STOS/MOVS with their in-page bulk path. Each
// program is a loop over seeded xorshift values that runs its forms on registers and memory and folds
// every result and RFLAGS into r14; it runs with the JIT translating every block and in the
// interpreter, in run() slices of an odd size so that REP instructions are cut by the budget at many
// points, and both must leave the same machine. The forms must really be inline (the translated
// block calls handlers only for the forms named in each test).
import { Machine, STOP_LIMIT, STOP_HALTED, type MachineOptions } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { blockSource } from '../../../emulator/jit/translateBlock';
import { stringBulk } from '../../../emulator/exec/stringBulk';
import { imulLow64, mulOut } from '../../../emulator/jit/moreForms';
import { udiv32, divOut } from '../../../emulator/exec/muldiv';
import { clearShared } from '../../../emulator/jit/sharedCode';
import { JIT_MODES, WASM_MODE, machineState, runSliced } from './jitModes';
import { translateWasm } from '../../../emulator/jit/wasm/wasmTranslate';
import { STRINGS } from '../stringPrograms';
import { XORSHIFT_RBX } from '../xorshiftPrologue';

const CODE = 0x100000;

// Assembled with GNU as (Intel syntax); the comments are objdump's.
const FORMS = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x48, 0xc1, 0xee, 0x17,                   // shr rsi,0x17
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0xc1, 0xea, 0x29,                   // shr rdx,0x29
  0x48, 0x89, 0x1f,                         // mov QWORD PTR [rdi],rbx
  0x48, 0x89, 0x47, 0x08,                   // mov QWORD PTR [rdi+0x8],rax
  // im:
  0x48, 0x0f, 0xaf, 0xc3,                   // imul rax,rbx
  0x0f, 0xaf, 0xf3,                         // imul esi,ebx
  0x48, 0x0f, 0xaf, 0x17,                   // imul rdx,QWORD PTR [rdi]
  0x44, 0x0f, 0xaf, 0x47, 0x08,             // imul r8d,DWORD PTR [rdi+0x8]
  0x4c, 0x69, 0xce, 0x78, 0x56, 0x34, 0x12, // imul r9,rsi,0x12345678
  0x44, 0x6b, 0xd2, 0xfd,                   // imul r10d,edx,0xfffffffd
  0x4c, 0x6b, 0x1f, 0x07,                   // imul r11,QWORD PTR [rdi],0x7
  0x66, 0x44, 0x0f, 0xaf, 0xe3,             // imul r12w,bx
  // sx:
  0x48, 0x0f, 0xbe, 0xc3,                   // movsx rax,bl
  0x0f, 0xbe, 0xf7,                         // movsx esi,bh
  0x48, 0x0f, 0xbf, 0x17,                   // movsx rdx,WORD PTR [rdi]
  0x4c, 0x63, 0xc0,                         // movsxd r8,eax
  0x4c, 0x63, 0x4f, 0x04,                   // movsxd r9,DWORD PTR [rdi+0x4]
  0x44, 0x0f, 0xbe, 0x57, 0x01,             // movsx r10d,BYTE PTR [rdi+0x1]
  0x4d, 0x0f, 0xbf, 0xd9,                   // movsx r11,r9w
  // cm:
  0x48, 0x39, 0xd8,                         // cmp rax,rbx
  0x48, 0x0f, 0x4c, 0xd6,                   // cmovl rdx,rsi
  0x0f, 0x42, 0x07,                         // cmovb eax,DWORD PTR [rdi]
  0x41, 0x0f, 0x9c, 0xc0,                   // setl r8b
  0x0f, 0x96, 0xc4,                         // setbe ah
  0x0f, 0x94, 0x47, 0x03,                   // sete BYTE PTR [rdi+0x3]
  0x85, 0xd6,                               // test esi,edx
  0x4c, 0x0f, 0x44, 0xcb,                   // cmove r9,rbx
  0x41, 0x0f, 0x9f, 0xc2,                   // setg r10b
  0x44, 0x0f, 0x48, 0xda,                   // cmovs r11d,edx
  0x48, 0x01, 0xd8,                         // add rax,rbx
  0x0f, 0x40, 0xf2,                         // cmovo esi,edx
  0x41, 0x0f, 0x90, 0xc4,                   // seto r12b
  0x0f, 0x9a, 0xc3,                         // setp bl
  0x4c, 0x0f, 0x4b, 0xe8,                   // cmovnp r13,rax
  0x48, 0x0f, 0xaf, 0xf2,                   // imul rsi,rdx
  0x0f, 0x92, 0xc6,                         // setb dh
  0x4c, 0x0f, 0x42, 0xc3,                   // cmovb r8,rbx
  // acc:
  0x9c,                                     // pushf
  0x41, 0x5f,                               // pop r15
  0x4d, 0x01, 0xfe,                         // add r14,r15
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xf6,                         // add r14,rsi
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0x4d, 0x01, 0xee,                         // add r14,r13
  0x4c, 0x03, 0x37,                         // add r14,QWORD PTR [rdi]
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x0f, 0x85, 0x22, 0xff, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

// IMUL's CF and OF read right after it (SETcc, CMOVcc, PUSHF), products in and out of range.
const IMUL_FLAGS = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x48, 0xc1, 0xee, 0x32,                   // shr rsi,0x32
  0x48, 0x89, 0x37,                         // mov QWORD PTR [rdi],rsi
  0x0f, 0xaf, 0xf3,                         // imul esi,ebx
  0x0f, 0x90, 0xc0,                         // seto al
  0x69, 0xd6, 0xff, 0x7f, 0x00, 0x00,       // imul edx,esi,0x7fff
  0x0f, 0x92, 0xc4,                         // setb ah
  0x44, 0x6b, 0x07, 0xb3,                   // imul r8d,DWORD PTR [rdi],0xffffffb3
  0x45, 0x0f, 0x40, 0xc8,                   // cmovo r9d,r8d
  0x4c, 0x0f, 0xaf, 0xd6,                   // imul r10,rsi
  0x41, 0x0f, 0x92, 0xc3,                   // setb r11b
  0x4c, 0x6b, 0xe3, 0x03,                   // imul r12,rbx,0x3
  0x9c,                                     // pushf
  0x41, 0x5d,                               // pop r13
  0x4d, 0x01, 0xee,                         // add r14,r13
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x75, 0x95,                               // jne xs
  0xf4,                                     // hlt
];

// IMUL whose CF and OF the next instruction replaces unseen (the multiplicative hash of Linux's
// hash_64: imul, then shr), so the translation skips them; and 32-bit products.
const IMUL_DEAD_FLAGS = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0xba, 0xeb, 0x83, 0xb5, 0x80, 0x46, 0x86, 0xc8, 0x61, // movabs rdx,0x61c8864680b583eb
  0x48, 0x0f, 0xaf, 0xc2,                   // imul rax,rdx
  0x48, 0xc1, 0xe8, 0x3a,                   // shr rax,0x3a
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x48, 0xc1, 0xfe, 0x28,                   // sar rsi,0x28
  0x0f, 0xaf, 0xf3,                         // imul esi,ebx
  0x83, 0xc6, 0x01,                         // add esi,0x1
  0x48, 0x6b, 0xd6, 0xfb,                   // imul rdx,rsi,0xfffffffffffffffb
  0x48, 0x39, 0xda,                         // cmp rdx,rbx
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xf6,                         // add r14,rsi
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x75, 0xa8,                               // jne xs
  0xf4,                                     // hlt
];

// ROL and ROR by an immediate at 32 and 64 bits (jit/rotateForms.ts): counts 1, 7, 31, 32, 33, 45, 63
// and 0 (which only zero-extends a 32-bit destination); CF and OF read by PUSHF and ADC, read by
// nothing (the next ADD replaces them), and written back before an ADD that may fault. ROL r16 goes
// to its handler.
const ROTATES = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x89, 0xda,                               // mov edx,ebx
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x49, 0x89, 0xd9,                         // mov r9,rbx
  0x49, 0x89, 0xda,                         // mov r10,rbx
  0x48, 0xd1, 0xc0,                         // rol rax,1
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0xc1, 0xca, 0x07,                         // ror edx,0x7
  0x49, 0x83, 0xd6, 0x00,                   // adc r14,0x0
  0xc1, 0xc6, 0x1f,                         // rol esi,0x1f
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x48, 0xc1, 0xc8, 0x21,                   // ror rax,0x21
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x48, 0xc1, 0xc6, 0x20,                   // rol rsi,0x20
  0x49, 0xc1, 0xc9, 0x3f,                   // ror r9,0x3f
  0x4c, 0x03, 0x37,                         // add r14,QWORD PTR [rdi]
  0x48, 0xc1, 0xc2, 0x2d,                   // rol rdx,0x2d
  0x49, 0x01, 0xc6,                         // add r14,rax
  0xd1, 0xce,                               // ror esi,1
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x41, 0xc1, 0xc2, 0x00,                   // rol r10d,0x0
  0x49, 0xc1, 0xc9, 0x00,                   // ror r9,0x0
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x66, 0xc1, 0xc0, 0x03,                   // rol ax,0x3
  0xc1, 0xca, 0x1f,                         // ror edx,0x1f
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xf6,                         // add r14,rsi
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x0f, 0x85, 0x6a, 0xff, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

// IMUL and rotates whose CF and OF later instructions overwrite before anything reads a flag or may
// fault (jit/deadFlags.ts): real Linux's 64x64 -> 128 multiply is four IMULs between register moves.
// Five of the eight are dead: each reaches another IMUL, a rotate or a flag-recording ALU form across
// MOV, LEA and MOVZX. The ROL is read by SETB, one IMUL is followed by a load that may fault, and one by
// PUSHF: those three write their flags.
const IMUL_CHAINS = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x89, 0xda,                               // mov edx,ebx
  0x48, 0xc1, 0xe8, 0x20,                   // shr rax,0x20
  0x48, 0x89, 0xc6,                         // mov rsi,rax
  0x48, 0x0f, 0xaf, 0xf2,                   // imul rsi,rdx
  0x49, 0x89, 0xf1,                         // mov r9,rsi
  0x48, 0x0f, 0xaf, 0xc0,                   // imul rax,rax
  0x4c, 0x8d, 0x14, 0x30,                   // lea r10,[rax+rsi*1]
  0x48, 0x6b, 0xd2, 0x03,                   // imul rdx,rdx,0x3
  0x44, 0x0f, 0xb6, 0xda,                   // movzx r11d,dl
  0x49, 0xc1, 0xc1, 0x05,                   // rol r9,0x5
  0x41, 0x0f, 0x92, 0xc4,                   // setb r12b
  0x4d, 0x0f, 0xaf, 0xd1,                   // imul r10,r9
  0x4c, 0x8b, 0x2f,                         // mov r13,QWORD PTR [rdi]
  0x4d, 0x0f, 0xaf, 0xea,                   // imul r13,r10
  0x4d, 0x01, 0xee,                         // add r14,r13
  0x4d, 0x0f, 0xaf, 0xd9,                   // imul r11,r9
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0x4d, 0x0f, 0xaf, 0xda,                   // imul r11,r10
  0x4d, 0x89, 0xdc,                         // mov r12,r11
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x75, 0x81,                               // jne xs
  0xf4,                                     // hlt
];

// IMUL r64 of values below 2^32 (the halves of real Linux's 64x64 -> 128 multiply): known at
// translation time (written by 32-bit MOVs or SHR by 32, times a register or a positive immediate), or
// found at run time (a 64-bit MOV of such a value). Their products lie near 2^64, where the signed
// overflow (CF, OF, read by PUSHF and SETB) goes both ways.
const IMUL_HALVES = [
  // xs:
  ...XORSHIFT_RBX,
  0x89, 0xd8,                               // mov eax,ebx
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0xc1, 0xea, 0x20,                   // shr rdx,0x20
  0x48, 0x0f, 0xaf, 0xc2,                   // imul rax,rdx
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x89, 0xde,                               // mov esi,ebx
  0x48, 0x69, 0xf6, 0xff, 0xff, 0xff, 0x7f, // imul rsi,rsi,0x7fffffff
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xf6,                         // add r14,rsi
  0x41, 0x89, 0xd9,                         // mov r9d,ebx
  0x49, 0x89, 0xdb,                         // mov r11,rbx
  0x49, 0xc1, 0xeb, 0x20,                   // shr r11,0x20
  0x4d, 0x0f, 0xaf, 0xcb,                   // imul r9,r11
  0x41, 0x0f, 0x92, 0xc2,                   // setb r10b
  0x4d, 0x89, 0xdc,                         // mov r12,r11
  0x41, 0x89, 0xdd,                         // mov r13d,ebx
  0x4d, 0x0f, 0xaf, 0xe5,                   // imul r12,r13
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x75, 0x8a,                               // jne xs
  0xf4,                                     // hlt
];

// SHL/SAL, SHR and SAR by CL at 32 and 64 bits (jit/shiftCountForms.ts): counts from random bits
// (all of 0..63), 1, and 0 directly and through the mask (64), which leave the flags of the
// instruction before (read by PUSHF after OR) and only zero-extend a 32-bit destination; CF and OF
// read by PUSHF, ADC, SETC and SETO; a shift of RCX by CL itself.
const SHIFTS_BY_CL = [
  // xs:
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x49, 0x89, 0xd9,                         // mov r9,rbx
  0x89, 0xd9,                               // mov ecx,ebx
  0x48, 0xd3, 0xe0,                         // shl rax,cl
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0xc1, 0xe9, 0x1a,                         // shr ecx,0x1a
  0x48, 0xd3, 0xea,                         // shr rdx,cl
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0xd3, 0xfe,                         // sar rsi,cl
  0x49, 0x11, 0xf6,                         // adc r14,rsi
  0x88, 0xf9,                               // mov cl,bh
  0x41, 0xd3, 0xf9,                         // sar r9d,cl
  0x41, 0x0f, 0x92, 0xc2,                   // setb r10b
  0x41, 0x0f, 0x90, 0xc3,                   // seto r11b
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0xb1, 0x01,                               // mov cl,0x1
  0xd3, 0xe8,                               // shr eax,cl
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x49, 0x01, 0xc6,                         // add r14,rax
  0xb1, 0x00,                               // mov cl,0x0
  0x48, 0xd3, 0xe3,                         // shl rbx,cl
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0x83, 0xca, 0x01,                   // or rdx,0x1
  0xb1, 0x40,                               // mov cl,0x40
  0x48, 0xd3, 0xfa,                         // sar rdx,cl
  0x9c,                                     // pushf
  0x41, 0x58,                               // pop r8
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x89, 0xdf,                               // mov edi,ebx
  0x30, 0xc9,                               // xor cl,cl
  0x41, 0xd3, 0xe0,                         // shl r8d,cl
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x88, 0xd9,                               // mov cl,bl
  0x48, 0xd3, 0xe1,                         // shl rcx,cl
  0x49, 0x01, 0xce,                         // add r14,rcx
  0x83, 0xed, 0x01,                         // sub ebp,0x1
  0x0f, 0x85, 0x5b, 0xff, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

// ADC and SBB after every kind of flag record: ADD/SUB/CMP (carry derived from the operands), an
// earlier ADC/SBB (carry-in chains), shifts (eager CF), logic ops (CF = 0), IMUL (flags in the
// FlagState), and at the loop head (the flags of the loop's last instruction or of the entry).
const ADC_SBB = [
  // xs:
  0x49, 0x11, 0xc6,                          // adc r14,rax
  ...XORSHIFT_RBX,
  0x48, 0x89, 0x1f,                          // mov QWORD PTR [rdi],rbx
  0x48, 0x89, 0xde,                          // mov rsi,rbx
  0x48, 0xc1, 0xee, 0x03,                    // shr rsi,0x3
  0x48, 0x01, 0xde,                          // add rsi,rbx
  0x48, 0x11, 0xc2,                          // adc rdx,rax
  0x48, 0x13, 0x17,                          // adc rdx,QWORD PTR [rdi]
  0x41, 0x11, 0xf0,                          // adc r8d,esi
  0x66, 0x41, 0x81, 0xd1, 0xff, 0x7f,        // adc r9w,0x7fff
  0x10, 0xd8,                                // adc al,bl
  0x80, 0xd4, 0x80,                          // adc ah,0x80
  0x48, 0x29, 0xc6,                          // sub rsi,rax
  0x49, 0x19, 0xda,                          // sbb r10,rbx
  0x49, 0x19, 0xf2,                          // sbb r10,rsi
  0x44, 0x1b, 0x5f, 0x04,                    // sbb r11d,DWORD PTR [rdi+0x4]
  0x48, 0x39, 0xde,                          // cmp rsi,rbx
  0x4d, 0x19, 0xe4,                          // sbb r12,r12
  0x39, 0xde,                                // cmp esi,ebx
  0x41, 0x83, 0xd5, 0x00,                    // adc r13d,0x0
  0x48, 0xd1, 0xee,                          // shr rsi,1
  0x49, 0x11, 0xf4,                          // adc r12,rsi
  0x31, 0xde,                                // xor esi,ebx
  0x49, 0x11, 0xf0,                          // adc r8,rsi
  0x48, 0x0f, 0xaf, 0xf3,                    // imul rsi,rbx
  0x49, 0x11, 0xf1,                          // adc r9,rsi
  0x01, 0xde,                                // add esi,ebx
  0x41, 0x18, 0xf2,                          // sbb r10b,sil
  0x89, 0xde,                                // mov esi,ebx
  0x83, 0xe6, 0x03,                          // and esi,0x3
  0x83, 0xfe, 0x01,                          // cmp esi,0x1
  0x41, 0x83, 0xd5, 0x00,                    // adc r13d,0x0
  0x49, 0x89, 0xc3,                          // mov r11,rax
  0x83, 0xfe, 0x01,                          // cmp esi,0x1
  0x49, 0x19, 0xc3,                          // sbb r11,rax
  0x40, 0x0f, 0x92, 0xc6,                    // setb sil
  0x0f, 0x9c, 0xc2,                          // setl dl
  0x41, 0x0f, 0x97, 0xc7,                    // seta r15b
  0x49, 0x01, 0xf5,                          // add r13,rsi
  0x4d, 0x01, 0xfd,                          // add r13,r15
  0x9c,                                      // pushf
  0x41, 0x5f,                                // pop r15
  0x4d, 0x01, 0xfe,                          // add r14,r15
  0x49, 0x01, 0xd6,                          // add r14,rdx
  0x4d, 0x01, 0xc6,                          // add r14,r8
  0x4d, 0x01, 0xce,                          // add r14,r9
  0x4d, 0x01, 0xd6,                          // add r14,r10
  0x4d, 0x01, 0xde,                          // add r14,r11
  0x4d, 0x01, 0xe6,                          // add r14,r12
  0x4d, 0x01, 0xee,                          // add r14,r13
  0x49, 0x01, 0xc6,                          // add r14,rax
  0x48, 0x39, 0xd6,                          // cmp rsi,rdx
  0xff, 0xc9,                                // dec ecx
  0x0f, 0x85, 0x3f, 0xff, 0xff, 0xff,        // jne xs
  0xf4,                                      // hlt
];

// DIV r32/r64 inline (divisors below 2^32, in 16-bit digits) and through the handler (larger
// divisors), with the high half of the dividend 0 or a remainder, divisors 1 and 0xffffffff, the flags
// DIV leaves read at once (SETB, SETO, PUSHF after a pending CMP record) and replaced unseen (XOR).
const DIV = [
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x48, 0xc1, 0xee, 0x23,                   // shr rsi,0x23
  0x48, 0x83, 0xce, 0x01,                   // or rsi,0x1
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x31, 0xd2,                               // xor edx,edx
  0x48, 0xf7, 0xf6,                         // div rsi
  0x49, 0x89, 0xc1,                         // mov r9,rax
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0xc1, 0xc8, 0x11,                   // ror rax,0x11
  0x48, 0x39, 0xde,                         // cmp rsi,rbx
  0x48, 0xf7, 0xf6,                         // div rsi
  0x41, 0x0f, 0x92, 0xc3,                   // setb r11b
  0x41, 0x0f, 0x90, 0xc4,                   // seto r12b
  0x9c,                                     // pushf
  0x41, 0x5f,                               // pop r15
  0x4d, 0x01, 0xfe,                         // add r14,r15
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0x89, 0xd9,                               // mov ecx,ebx
  0xc1, 0xe9, 0x07,                         // shr ecx,0x7
  0x81, 0xc9, 0x00, 0x00, 0x00, 0x80,       // or ecx,0x80000000
  0x89, 0xd8,                               // mov eax,ebx
  0x31, 0xd2,                               // xor edx,edx
  0xf7, 0xf1,                               // div ecx
  0x41, 0x89, 0xc2,                         // mov r10d,eax
  0x44, 0x89, 0xc8,                         // mov eax,r9d
  0xf7, 0xf1,                               // div ecx
  0x41, 0x31, 0xd0,                         // xor r8d,edx
  0x48, 0x89, 0xdf,                         // mov rdi,rbx
  0x31, 0xd2,                               // xor edx,edx
  0x4c, 0x89, 0xc8,                         // mov rax,r9
  0x48, 0xf7, 0xf7,                         // div rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x89, 0xd8,                               // mov eax,ebx
  0xbf, 0x01, 0x00, 0x00, 0x00,             // mov edi,0x1
  0x31, 0xd2,                               // xor edx,edx
  0x48, 0xf7, 0xf7,                         // div rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0xbf, 0xff, 0xff, 0xff, 0xff,             // mov edi,0xffffffff
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0xc1, 0xea, 0x21,                   // shr rdx,0x21
  0x48, 0xf7, 0xf7,                         // div rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x83, 0xed, 0x01,                         // sub ebp,0x1
  0x0f, 0x85, 0x42, 0xff, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

// IDIV r32/r64 inline (int32-range divisors, RDX/EDX the sign extension of RAX/EAX) and through the
// handler (other divisors and dividends): signs mixed, -2^63 by 1 and by -7, -2^31 by 3, the flags
// read at once after a pending CMP record; CQO, CDQ and CDQE inline.
const IDIV = [
  ...XORSHIFT_RBX,
  0x48, 0x89, 0xde,                         // mov rsi,rbx
  0x48, 0xc1, 0xfe, 0x21,                   // sar rsi,0x21
  0x48, 0x83, 0xce, 0x01,                   // or rsi,0x1
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0x99,                               // cqo
  0x48, 0xf7, 0xfe,                         // idiv rsi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0xc1, 0xf8, 0x14,                   // sar rax,0x14
  0x48, 0x99,                               // cqo
  0x48, 0x39, 0xf0,                         // cmp rax,rsi
  0x48, 0xf7, 0xfe,                         // idiv rsi
  0x41, 0x0f, 0x92, 0xc3,                   // setb r11b
  0x9c,                                     // pushf
  0x41, 0x5f,                               // pop r15
  0x4d, 0x01, 0xfe,                         // add r14,r15
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0x99,                               // cqo
  0x48, 0x89, 0xdf,                         // mov rdi,rbx
  0x48, 0xc1, 0xcf, 0x09,                   // ror rdi,0x9
  0x48, 0xf7, 0xff,                         // idiv rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0x89, 0xda,                         // mov rdx,rbx
  0x48, 0xc1, 0xea, 0x3e,                   // shr rdx,0x3e
  0xbf, 0xff, 0xff, 0xff, 0x7f,             // mov edi,0x7fffffff
  0x48, 0x83, 0xea, 0x02,                   // sub rdx,0x2
  0x48, 0xf7, 0xff,                         // idiv rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // movabs rax,0x8000000000000000
  0x48, 0x99,                               // cqo
  0xbf, 0x01, 0x00, 0x00, 0x00,             // mov edi,0x1
  0x48, 0xf7, 0xff,                         // idiv rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // movabs rax,0x8000000000000000
  0x48, 0x99,                               // cqo
  0x48, 0xc7, 0xc7, 0xf9, 0xff, 0xff, 0xff, // mov rdi,0xfffffffffffffff9
  0x48, 0xf7, 0xff,                         // idiv rdi
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0xeb, 0x00,                               // jmp second (a translated block has at most 64 instructions)
  0x89, 0xd8,                               // second: mov eax,ebx
  0x99,                                     // cdq
  0x89, 0xf1,                               // mov ecx,esi
  0xf7, 0xf9,                               // idiv ecx
  0x41, 0x31, 0xd0,                         // xor r8d,edx
  0x41, 0x89, 0xc2,                         // mov r10d,eax
  0xb8, 0x00, 0x00, 0x00, 0x80,             // mov eax,0x80000000
  0x99,                                     // cdq
  0xb9, 0x03, 0x00, 0x00, 0x00,             // mov ecx,0x3
  0xf7, 0xf9,                               // idiv ecx
  0x41, 0x31, 0xd0,                         // xor r8d,edx
  0x41, 0x01, 0xc2,                         // add r10d,eax
  0x89, 0xd8,                               // mov eax,ebx
  0xba, 0x00, 0x00, 0x00, 0x00,             // mov edx,0x0
  0xb9, 0x45, 0x23, 0x01, 0x00,             // mov ecx,0x12345
  0xf7, 0xf9,                               // idiv ecx
  0x4d, 0x01, 0xc6,                         // add r14,r8
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x89, 0xd8,                               // mov eax,ebx
  0x48, 0x98,                               // cdqe
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x83, 0xed, 0x01,                         // sub ebp,0x1
  0x0f, 0x85, 0xf4, 0xfe, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

// Read-modify-write forms (jit/rmwForms.ts): ADD ADC SUB SBB AND OR XOR on memory at every size,
// INC DEC NEG NOT on memory and registers (AH included), over three pages so that some accesses
// cross a page end; INC/DEC keep CF (read by SETB, ADC, SBB, JB after them). Then SAR by immediates
// (32 and 64 bits, counts 1, 3 and 13) with their CF read at once.
const RMW = [
  ...XORSHIFT_RBX,
  0x89, 0xde,                               // mov esi,ebx
  0x81, 0xe6, 0xf8, 0x1f, 0x00, 0x00,       // and esi,0x1ff8
  0x48, 0x01, 0xfe,                         // add rsi,rdi
  0x48, 0x01, 0x1e,                         // add QWORD PTR [rsi],rbx
  0x29, 0x5e, 0x04,                         // sub DWORD PTR [rsi+0x4],ebx
  0x66, 0x11, 0x5e, 0x02,                   // adc WORD PTR [rsi+0x2],bx
  0x80, 0x5e, 0x01, 0x5a,                   // sbb BYTE PTR [rsi+0x1],0x5a
  0x48, 0x83, 0x66, 0x08, 0xf9,             // and QWORD PTR [rsi+0x8],0xfffffffffffffff9
  0x81, 0x8e, 0xfd, 0x0f, 0x00, 0x00, 0x34, 0x12, 0x00, 0x00, // or DWORD PTR [rsi+0xffd],0x1234
  0x30, 0x7e, 0x03,                         // xor BYTE PTR [rsi+0x3],bh
  0x48, 0x83, 0x96, 0xfc, 0x0f, 0x00, 0x00, 0x03, // adc QWORD PTR [rsi+0xffc],0x3
  0x9c,                                     // pushf
  0x41, 0x5f,                               // pop r15
  0x4d, 0x01, 0xfe,                         // add r14,r15
  0x48, 0x39, 0xc3,                         // cmp rbx,rax
  0x48, 0xff, 0x06,                         // inc QWORD PTR [rsi]
  0x41, 0x0f, 0x92, 0xc0,                   // setb r8b
  0x49, 0x83, 0xd6, 0x00,                   // adc r14,0x0
  0xff, 0x8e, 0xfe, 0x0f, 0x00, 0x00,       // dec DWORD PTR [rsi+0xffe]
  0x4d, 0x19, 0xc6,                         // sbb r14,r8
  0x66, 0xf7, 0x5e, 0x06,                   // neg WORD PTR [rsi+0x6]
  0xf6, 0x56, 0x07,                         // not BYTE PTR [rsi+0x7]
  0x48, 0x39, 0xd8,                         // cmp rax,rbx
  0x48, 0xff, 0xc0,                         // inc rax
  0x41, 0xff, 0xcc,                         // dec r12d
  0x72, 0x03,                               // jb skip
  0x48, 0xf7, 0xda,                         // neg rdx
  0xf7, 0xd1,                               // skip: not ecx
  0xfe, 0xc4,                               // inc ah
  0x66, 0x41, 0xff, 0xc9,                   // dec r9w
  0x41, 0xf6, 0xda,                         // neg r10b
  0x49, 0xf7, 0xd3,                         // not r11
  0x41, 0x89, 0xd9,                         // mov r9d,ebx
  0x41, 0xc1, 0xf9, 0x03,                   // sar r9d,0x3
  0x41, 0x0f, 0x92, 0xc4,                   // setb r12b
  0x49, 0xc1, 0xfb, 0x0d,                   // sar r11,0xd
  0x49, 0x83, 0xd6, 0x00,                   // adc r14,0x0
  0x49, 0xd1, 0xfa,                         // sar r10,1
  0x9c,                                     // pushf
  0x41, 0x5f,                               // pop r15
  0x4d, 0x01, 0xfe,                         // add r14,r15
  0x4c, 0x03, 0x36,                         // add r14,QWORD PTR [rsi]
  0x49, 0x01, 0xc6,                         // add r14,rax
  0x49, 0x01, 0xd6,                         // add r14,rdx
  0x4d, 0x01, 0xce,                         // add r14,r9
  0x4d, 0x01, 0xd6,                         // add r14,r10
  0x4d, 0x01, 0xde,                         // add r14,r11
  0x49, 0x01, 0xce,                         // add r14,rcx
  0x4d, 0x01, 0xe6,                         // add r14,r12
  0xff, 0xcd,                               // dec ebp
  0x0f, 0x85, 0x33, 0xff, 0xff, 0xff,       // jne xs
  0xf4,                                     // hlt
];

function run(opts: MachineOptions, code: number[], regs: Record<string, bigint>, slice: number) {
  return runSliced(opts, code, regs, slice, CODE);
}

/** The program in the interpreter, the JIT and the WebAssembly tier: all three must leave the same machine. */
function bothModes(code: number[], regs: Record<string, bigint>, slice: number) {
  const [a, b, w] = [...JIT_MODES, WASM_MODE].map(([, opts]) => run(opts, code, regs, slice));
  for (const x of [b, w]) {
    expect(x.state).toEqual(a.state);
    expect(Buffer.compare(a.m.mem.u8, x.m.mem.u8)).toBe(0);
  }
  return [a, b, w];
}

/** Instructions of the block at `va` that the WebAssembly tier leaves to interpreter handlers. */
function wasmHandlerCalls(m: Machine, va: number): number {
  const b = m.cache.lookup(va, 64);
  if (b === undefined) throw new Error(`no block at ${va.toString(16)}`);
  return translateWasm(b.insns, 0).handlers;
}

/** Instructions of the block at `va` that the translator leaves to interpreter handlers. */
function handlerCalls(m: Machine, va: number): number {
  const b = m.cache.lookup(va, 64);
  if (b === undefined) throw new Error(`no block at ${va.toString(16)}`);
  return blockSource(b.insns).handlers;
}

test('MOVSX, IMUL, CMOVcc and SETcc inline agree with the interpreter', () => {
  const [a, b] = bothModes(FORMS, { rbx: 0x9e3779b97f4a7c15n, rcx: 3000n, rdi: 0x300000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2] | a.m.cpu.regs.u32[14 * 2 + 1]).not.toBe(0);
  // One block from xs to the JNE: only IMUL r16 and PUSHF call handlers.
  expect(handlerCalls(b.m, CODE)).toBe(2);
});

test('IMUL overflow and CMOV/SETcc on small values agree', () => {
  // Small seeds keep the products inside 32 bits for a while, so CF/OF are 0 and then 1.
  bothModes(FORMS, { rbx: 1n, rcx: 500n, rdi: 0x300000n }, 99_991);
});

test('IMUL sets CF and OF as the interpreter does, read at once', () => {
  const [a, b] = bothModes(IMUL_FLAGS, { rbx: 0x123456789n, rcx: 3000n, rdi: 0x300000n }, 100_003);
  // Both outcomes happened: some products overflowed (AH = CF of the 32-bit IMUL) and some did not.
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  // PUSHF is the only handler call.
  expect(handlerCalls(b.m, CODE)).toBe(1);
});

test('IMUL whose flags the next instruction replaces agrees', () => {
  const [a, b] = bothModes(IMUL_DEAD_FLAGS, { rbx: 0x2545f4914f6cdd1dn, rcx: 3000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  expect(handlerCalls(b.m, CODE)).toBe(1); // PUSHF (SAR is inline)
});

test('ADC and SBB inline agree with the interpreter after every kind of flag record', () => {
  const [a, b] = bothModes(ADC_SBB, { rbx: 0x2545f4914f6cdd1dn, rcx: 5000n, rdi: 0x300000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  // PUSHF is the only handler call (DEC is inline, jit/rmwForms.ts).
  expect(handlerCalls(b.m, CODE)).toBe(1);
});

test('ROL and ROR by an immediate inline agree with the interpreter', () => {
  const [a, b, w] = bothModes(ROTATES, { rbx: 0x2545f4914f6cdd1dn, rcx: 3000n, rdi: 0x300000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  // Five PUSHFs and ROL r16 call handlers.
  expect(handlerCalls(b.m, CODE)).toBe(6);
  // In wasm also the rotates whose CF and OF are read (by PUSHF, ADC) or may be seen by a fault.
  expect(wasmHandlerCalls(w.m, CODE)).toBeGreaterThan(6);
});

test('IMUL and rotate flags that later instructions overwrite are skipped, and the rest agree with the interpreter', () => {
  const [a, b, w] = bothModes(IMUL_CHAINS, { rbx: 0x2545f4914f6cdd1dn, rcx: 3000n, rdi: 0x300000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  const block = b.m.cache.lookup(CODE, 64)!;
  expect(blockSource(block.insns).handlers).toBe(1); // PUSHF
  expect(blockSource(block.insns).body.match(/fl\.setStatus\(/g)?.length).toBe(3);
  // The WebAssembly tier inlines the four IMULs and the rotate whose flags are dead; the three whose
  // flags are read or may be seen by a fault, SETB and PUSHF call handlers.
  expect(wasmHandlerCalls(w.m, CODE)).toBe(5);
});

test('IMUL r64 of values below 2^32 is inline without a call and agrees with the interpreter', () => {
  const [a, b] = bothModes(IMUL_HALVES, { rbx: 0x2545f4914f6cdd1dn, rcx: 3000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  const source = blockSource(b.m.cache.lookup(CODE, 64)!.insns);
  expect(source.handlers).toBe(3); // the PUSHFs
  // Only the IMUL of the copied value has the general product, for when the check at run time fails.
  expect(source.body.match(/imulLow64\(/g)?.length).toBe(1);
});

test('shifts by CL inline agree with the interpreter', () => {
  const [a, b] = bothModes(SHIFTS_BY_CL, { rbx: 0x2545f4914f6cdd1dn, rbp: 3000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2]).not.toBe(0);
  expect(handlerCalls(b.m, CODE)).toBe(4); // the PUSHFs
});

test('imulLow64 gives the low product and the overflow of IMUL r64 (against BigInt)', () => {
  const edges = [0n, 1n, 2n, 3n, 5n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 3037000499n, 3037000500n,
    1n << 61n, 1n << 62n, (1n << 63n) - 1n, 0x61c8864680b583ebn, 0x9e3779b97f4a7c15n];
  const values = edges.flatMap((v) => [v, -v, v + 1n, -v - 1n]).map((v) => BigInt.asIntN(64, v));
  let x = 0x853c49e6748fea9bn;
  for (let i = 0; i < 2000; i++) {
    x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
    values.push(BigInt.asIntN(64, x >> BigInt(i % 40)));
  }
  const halves = (v: bigint): [number, number] => [Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))];
  // Products near the limit, 2^62..2^64, where the double product cannot decide: unsigned 32-bit
  // operands (each sign and magnitude of the high word takes another exact path), and wider ones.
  const near: [bigint, bigint][] = [];
  for (let i = 0; i < 3000; i++) {
    x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
    const a = (x >> 32n) | 0x80000000n, b = (x & 0xffffffffn) | 0x40000000n;
    near.push([a, b], [-a, b], [a << BigInt(i % 3), b >> BigInt(i % 3)]);
  }
  const pairs: [bigint, bigint][] = [];
  for (let i = 0; i < values.length; i++) {
    for (const b of [values[i], values[(i * 7 + 3) % values.length], values[(i * 13 + 1) % values.length]]) pairs.push([values[i], b]);
  }
  let nearFits = 0, nearOverflows = 0;
  for (const [a, b] of near) {
    const p = a * b;
    if (BigInt.asIntN(64, p) === p) nearFits++; else nearOverflows++;
  }
  expect(Math.min(nearFits, nearOverflows)).toBeGreaterThan(1000);
  let overflows = 0, fits = 0;
  for (const [a, b] of [...pairs, ...near]) {
    const p = a * b, low = BigInt.asIntN(64, p);
    const [al, ah] = halves(a), [bl, bh] = halves(b);
    const lo = imulLow64(al, ah, bl, bh);
    expect([lo | 0, mulOut.hi | 0, mulOut.ov]).toEqual([...halves(low), low === p ? 0 : 1]);
    if (low === p) fits++; else overflows++;
  }
  expect(Math.min(fits, overflows)).toBeGreaterThan(500);
});

test('REP STOS and REP MOVS in translated blocks, in bulk, agree with the interpreter one element at a time, cut by the budget anywhere', () => {
  stringBulk.on = false;
  let a: ReturnType<typeof run>;
  try {
    a = run(JIT_MODES[0][1], STRINGS, { rbx: 0x2545f4914f6cdd1dn, rbp: 400n }, 997);
  } finally {
    stringBulk.on = true;
  }
  const before = stringBulk.iterations;
  const b = run(JIT_MODES[1][1], STRINGS, { rbx: 0x2545f4914f6cdd1dn, rbp: 400n }, 997);
  expect(b.state).toEqual(a.state);
  expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
  expect(a.slices).toBeGreaterThan(100);
  // The bulk path ran (and most iterations went through it).
  expect(stringBulk.iterations - before).toBeGreaterThan(50_000);
});

test('REP STOS with the direction flag set goes element by element and agrees', () => {
  // std; then the string program (DF = 1: every REP runs backwards through the handler).
  bothModes([0xfd, ...STRINGS], { rbx: 0x1234567n, rbp: 50n }, 1009);
});

test('at the default threshold, blocks ending in REP STOS/MOVS are translated after 64 executions', () => {
  // As in a fresh process: the threshold-2 runs above left these blocks' counts and translations.
  clearShared();
  const before = stringBulk.iterations;
  const [a, b] = [{ jit: false }, { jit: true }].map((opts) => run(opts, STRINGS, { rbx: 0x2545f4914f6cdd1dn, rbp: 100n }, 1_000_003));
  expect(b.state).toEqual(a.state);
  expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
  expect(b.m.compileThreshold).toBe(20_000);
  expect(b.m.cache.lookup(CODE, 64)?.compiled).toBeTruthy();
  // A block that does not end in a REP string instruction is still counting.
  const loopEnd = b.m.cache.lookup(CODE + 0xd3, 64); // dec ebp; jnz rs
  expect(loopEnd?.insns.length).toBe(2);
  expect(loopEnd?.compiled).toBeNull();
  expect(stringBulk.iterations - before).toBeGreaterThan(10_000);
});

test('DIV inline agrees with the interpreter', () => {
  const [a, b] = bothModes(DIV, { rbx: 0x2545f4914f6cdd1dn, rbp: 3000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2] | a.m.cpu.regs.u32[14 * 2 + 1]).not.toBe(0);
  // PUSHF is the only handler call (ROR is inline; DIV by a divisor above 2^32 calls it at run time).
  expect(handlerCalls(b.m, CODE)).toBe(1);
});

test('udiv32 divides 96-bit dividends by 32-bit divisors exactly (against BigInt)', () => {
  let x = 0x9e3779b97f4a7c15n;
  const next = (): bigint => { x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n); return x; };
  const divisors = [1n, 2n, 3n, 7n, 0xffffn, 0x10000n, 0x10001n, 0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn];
  for (let i = 0; i < 3000; i++) divisors.push((next() >> BigInt(32 + (i % 32))) | 1n);
  for (const d of divisors) {
    for (const hiPick of [0n, d - 1n, next() % d]) {
      const lo = next();
      const n = (hiPick << 64n) | lo;
      const q = n / d, r = n % d;
      const ql = udiv32(Number(hiPick), Number(lo >> 32n), Number(lo & 0xffffffffn), Number(d));
      expect([ql >>> 0, divOut.hi >>> 0, divOut.rem]).toEqual([Number(q & 0xffffffffn), Number(q >> 32n), Number(r)]);
    }
  }
});

test('IDIV inline agrees with the interpreter', () => {
  const [a, b] = bothModes(IDIV, { rbx: 0x2545f4914f6cdd1dn, rbp: 3000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2] | a.m.cpu.regs.u32[14 * 2 + 1]).not.toBe(0);
  // PUSHF is the only handler call (ROR, SAR, CQO, CDQ and CDQE are inline).
  expect(handlerCalls(b.m, CODE)).toBe(1);
  expect(handlerCalls(b.m, CODE + 0xc2)).toBe(0);
});

// With ground truth on, CALL rel and RET use the forms that report to it (exec/table.ts); the JIT
// runs them inline and calls the observer with the state the truth handlers leave.
const CALLS = [
  0xe8, 0x09, 0x00, 0x00, 0x00,             // loop: call f
  0x49, 0x01, 0xc0,                         // add r8, rax
  0x83, 0xe9, 0x01,                         // sub ecx, 1
  0x75, 0xf3,                               // jnz loop
  0xf4,                                     // hlt
  0x48, 0x8d, 0x40, 0x01,                   // f: lea rax, [rax+1]
  0xe8, 0x01, 0x00, 0x00, 0x00,             // call g
  0xc3,                                     // ret
  0x48, 0x01, 0xd8,                         // g: add rax, rbx
  0xc3,                                     // ret
];

test('CALL and RET reporting to ground truth run inline and report the same frames', () => {
  const runs = JIT_MODES.map(([, opts]) => {
    const m = new Machine({ memory: 16 << 20, ...opts });
    startDirect64(m, { code: Uint8Array.from(CALLS), entry: CODE });
    m.regWrite('rsp', 0x80000n); m.regWrite('rcx', 2000n); m.regWrite('rbx', 3n);
    const truth = m.enableTruth();
    const seen: unknown[] = [];
    let r = m.run(97);
    while (r.reason === STOP_LIMIT) { seen.push([m.cpu.icount, truth.saveState()]); r = m.run(97); }
    expect(r.reason).toBe(STOP_HALTED);
    seen.push(machineState(m, r), truth.saveState());
    return { m, seen, events: truth.events };
  });
  expect(runs[1].seen).toEqual(runs[0].seen);
  expect(runs[0].events).toBe(2000 * 4);
  // The blocks with CALL and RET call no handler.
  for (const va of [CODE, CODE + 14, CODE + 23, CODE + 24]) expect(handlerCalls(runs[1].m, va)).toBe(0);
});

test('read-modify-write forms inline agree with the interpreter', () => {
  const [a, b] = bothModes(RMW, { rbx: 0x2545f4914f6cdd1dn, rbp: 3000n, rdi: 0x300000n }, 100_003);
  expect(a.m.cpu.regs.u32[14 * 2] | a.m.cpu.regs.u32[14 * 2 + 1]).not.toBe(0);
  // PUSHF is the only handler call of the first block.
  expect(handlerCalls(b.m, CODE)).toBe(1);
});
