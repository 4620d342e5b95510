// strerror() for the errors scenario scripts report, as glibc spells them.

const MESSAGES: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  8: 'Exec format error',
  11: 'Resource temporarily unavailable',
  12: 'Cannot allocate memory',
  13: 'Permission denied',
  16: 'Device or resource busy',
  17: 'File exists',
  19: 'No such device',
  21: 'Is a directory',
  22: 'Invalid argument',
  38: 'Function not implemented',
};

export function strerror(errno: number): string {
  const e = Math.abs(errno);
  return MESSAGES[e] ?? `Unknown error ${e}`;
}
