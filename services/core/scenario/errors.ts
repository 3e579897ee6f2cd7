// The ways loading a scenario can fail, each with a message a user can act on: the file cannot
// be read (ScenarioFileError), or its content is not a valid scenario (ScenarioError, listing
// every problem with file, line and field at once so one edit round fixes them all).

/** One problem in a scenario file. */
export interface ScenarioIssue {
  /** field path in the form geo.edges[1].lat; "(top level)" for the document itself */
  path: string;
  /** 1-based line in the file */
  line: number;
  /** what is wrong and how to fix it */
  message: string;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly fileName: string,
    readonly issues: readonly ScenarioIssue[],
  ) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(
      [`invalid scenario ${fileName} (${count}):`, ...issues.map((i) => `  ${formatIssue(fileName, i)}`)].join('\n'),
    );
  }
}

/** file.yaml:LINE: path: message (the path is left out for YAML syntax errors). */
export function formatIssue(fileName: string, issue: ScenarioIssue): string {
  return issue.path === ''
    ? `${fileName}:${issue.line}: ${issue.message}`
    : `${fileName}:${issue.line}: ${issue.path}: ${issue.message}`;
}

export class ScenarioFileError extends Error {
  override readonly name = 'ScenarioFileError';
  constructor(
    readonly filePath: string,
    readonly reason: string,
  ) {
    super(
      `cannot read scenario file ${filePath}: ${reason} — fix: check the path (bundled scenarios are in scenarios/, e.g. scenarios/world.yaml)`,
    );
  }
}
