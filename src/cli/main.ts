/**
 * `hako` entry point: global flags, then the command, whose module is imported only now (start-up
 * time is part of `hako run` latency). Exit codes and messages follow the docker CLI.
 */
import { runCli } from './runner.js';
import { restoreExtraCaCerts } from './extra-ca.js';
import { flushAndExit } from './exit.js';

restoreExtraCaCerts(process.env);

void runCli(process.argv.slice(2)).then(flushAndExit);
