// Randomized tests use the project's one seeded generator, so that a printed seed repeats a run.

export { seededRandom } from '../../emulator/seededRandom';
