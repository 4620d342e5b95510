/** A snapshot that cannot be used (corrupt, truncated, foreign, or of another image/machine): one line. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}
