// What every pass shares: the object, the warning sink, the options and the CFI table.

import type { Options } from '../options';
import type { Reporter } from '../report/warnings';
import type { CfiTable } from '../validate/cfiState';
import type { ObjectFile } from './objectFile';

export interface CheckContext {
  file: ObjectFile;
  rep: Reporter;
  opts: Options;
  cfis: CfiTable;
  /** --stats counters */
  nrInsnsVisited: number;
  /** --stats lines, appended where objtool prints them (null without --stats). */
  stats: string[] | null;
}
