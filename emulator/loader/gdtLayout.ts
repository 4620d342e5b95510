/** The Linux x86_64 GDT layout used by the direct 64-bit start (arch/x86/include/asm/segment.h). */
export const KERNEL_CS = 0x10, KERNEL_DS = 0x18, USER32_CS = 0x23, USER_DS = 0x2b, USER_CS = 0x33, TSS_SEL = 0x40;

/** Descriptor dwords (low, high) for entries 0..7. */
export const GDT_ENTRIES: [number, number][] = [
  [0, 0],                         // 0x00 null
  [0x0000ffff, 0x00cf9b00],       // 0x08 kernel 32-bit code
  [0x0000ffff, 0x00af9b00],       // 0x10 kernel 64-bit code (L)
  [0x0000ffff, 0x00cf9300],       // 0x18 kernel data
  [0x0000ffff, 0x00cffb00],       // 0x20 user 32-bit code
  [0x0000ffff, 0x00cff300],       // 0x28 user data
  [0x0000ffff, 0x00affb00],       // 0x30 user 64-bit code
  [0, 0],                         // 0x38 unused
];
