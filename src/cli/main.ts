/**
 * `hako` entry point: global flags, then the command, whose module is imported only now (start-up
 * time is part of `hako run` latency). Exit codes and messages follow the docker CLI.
 */
import { runCli } from './runner.js';
import { restoreExtraCaCerts } from './extra-ca.js';

restoreExtraCaCerts(process.env);

runCli(process.argv.slice(2)).then(async (code) => {
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(code);
});

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}
