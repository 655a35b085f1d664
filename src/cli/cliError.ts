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

/**
 * Runs a command's body: its result as one JSON line on stdout and exit 0 (Dawn's keep-alive timer under --webgpu
 * would otherwise hold the process open); a CliError as `name: message` with its code; anything else with its stack.
 */
export async function runCommand(name: string, body: () => Promise<unknown>): Promise<never> {
  try {
    console.log(JSON.stringify(await body()));
    process.exit(0);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(`${name}: ${error.message}`);
      process.exit(error.exitCode);
    }
    console.error(error);
    process.exit(1);
  }
}
