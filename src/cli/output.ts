/**
 * The terminal as the commands see it: where their text goes, whether a person is looking, the
 * question repair asks. Besides main.ts (arguments, exit codes, the error line) this is the one
 * module that touches `process`, so a command reads as parse → call → print and nothing else.
 */
/** Text for stdout, as it is (commands end their lines themselves). */
export function out(text: string): void {
  if (text) process.stdout.write(text);
}

/**
 * The same for output that streams (export): resolves once stdout has taken the text, so a slow
 * reader on a pipe holds the writer back and memory stays flat.
 */
export async function outDrained(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
}

/** Text for stderr: notes beside the output (the question, "nothing changed", counts). */
export function err(text: string): void {
  if (text) process.stderr.write(text);
}

/** stderr as the progress bar draws on it. */
export function errStream(): { isTTY?: boolean; columns?: number; write(s: string): unknown } {
  return process.stderr;
}

export const isTTY = {
  stdin: (): boolean => Boolean(process.stdin.isTTY),
  stdout: (): boolean => Boolean(process.stdout.isTTY),
  stderr: (): boolean => Boolean(process.stderr.isTTY),
};

/** NO_COLOR set to anything asks for no colour (no-color.org). */
export function noColorAsked(): boolean {
  return Boolean(process.env['NO_COLOR']);
}

/** Colour on a terminal only, never with NO_COLOR, nor on TERM=dumb. */
export function useColor(): boolean {
  return isTTY.stdout() && !noColorAsked() && process.env['TERM'] !== 'dumb';
}

/** One question on the terminal (asked on stderr, so stdout stays the command's output); the answer. */
export async function ask(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises'); // repair's question only
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * Before ink is first imported (explore, the only command that loads it): ink renders nothing
 * until exit when it believes it runs in CI, reading CI / CONTINUOUS_INTEGRATION once, at import.
 * explore runs only with a terminal on both ends, so a person is looking: tell ink so.
 */
export function letInkDraw(): void {
  for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) if (k in process.env) process.env[k] = 'false';
}
