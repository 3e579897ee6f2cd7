// Errors raised while reading a results directory. Each names the file (and line, when there is
// one) and says what is wrong, so the user can fix the run or the file without reading our code.

/** Base class: anything wrong with a results directory. Catch this one in the CLI. */
export class ResultsError extends Error {
  override name = 'ResultsError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `${file}: ${problem}` : `${file}: line ${line}: ${problem}`);
  }
}

/** A file the layout requires is absent (the run did not finish, or the path is wrong). */
export class MissingResultsFileError extends ResultsError {
  override name = 'MissingResultsFileError';
}

/** A file exists but its content breaks the results contract (syntax, column, field, value). */
export class MalformedResultsFileError extends ResultsError {
  override name = 'MalformedResultsFileError';
}

/** The directory matches neither layout (one mode, or cdn/ + p2p/ + comparison.json). */
export class NotAResultsDirError extends ResultsError {
  override name = 'NotAResultsDirError';
}
