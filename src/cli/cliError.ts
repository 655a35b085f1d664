/** A failure the command line reports as one sentence and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    /** 2: bad arguments or input (nothing was written); 1: the run failed; 130: interrupted (Ctrl-C). */
    readonly exitCode: 1 | 2 | 130 = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
