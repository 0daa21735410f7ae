/** Ends a CLI process with `code` once stdout and stderr have handed everything to the OS. */
export async function flushAndExit(code: number): Promise<never> {
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(code);
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}
