/** A failure of the fixture lab the user caused or can act on; one line. */
export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}
