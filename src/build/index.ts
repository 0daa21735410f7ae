/**
 * build: Dockerfiles to images. The parser (directives, continuations, heredocs, exec/shell
 * form), variable substitution, `.dockerignore`, the stage graph (only the stages a target needs),
 * the executor over the engine (RUN in containers through the engine's container service,
 * COPY/ADD/WORKDIR into an overlay of the parent image) and the step cache in the metadata DB.
 *
 * Left to others: HTTP framing of the progress stream (api/), the context tar the client makes
 * (cli/), containers, images and layers themselves (engine/, images/, storage/).
 */
export { parseDockerfile, parseJsonArray, flagValue, DockerfileError, INSTRUCTIONS, type Instruction, type Heredoc, type ParsedDockerfile } from './parser.js';
export { expandWord, expandWords, expandHeredoc, splitWords, type Lookup } from './shell-words.js';
export { stageGraph, neededStages, type Stage, type StageGraph } from './stages.js';
export { parseRunMount, CacheMounts, type RunMount } from './mounts.js';
export { type PruneOptions } from './prune.js';
export { Builder, BuildStepError, type BuilderDeps, type BuildOptions, type BuildProgress } from './executor.js';
export { goDuration, expandPorts, healthcheck } from './instruction-values.js';
export { bootstrapImage, hostDebianMirror, type BootstrapOptions, type BootstrapDeps } from './bootstrap.js';
