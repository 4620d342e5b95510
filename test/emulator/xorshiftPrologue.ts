// The start of the JIT and string-instruction test programs: one xorshift64 step on rbx (13, 7, 17),
// so that every iteration of a program's loop works on a new seeded value. Assembled with GNU as
// (Intel syntax); the comments are objdump's. A program spreads it where its loop starts, and its
// branch back there counts these 30 bytes.
export const XORSHIFT_RBX = [
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0xc1, 0xe0, 0x0d,                   // shl rax,0xd
  0x48, 0x31, 0xc3,                         // xor rbx,rax
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0xc1, 0xe8, 0x07,                   // shr rax,0x7
  0x48, 0x31, 0xc3,                         // xor rbx,rax
  0x48, 0x89, 0xd8,                         // mov rax,rbx
  0x48, 0xc1, 0xe0, 0x11,                   // shl rax,0x11
  0x48, 0x31, 0xc3,                         // xor rbx,rax
];
