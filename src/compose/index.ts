/**
 * compose: the Compose Specification for hako's CLI (and any client of the Engine API). The loader
 * turns compose files into a canonical `Project` (model.ts); convergence makes an engine match a
 * Project through the typed API client (src/client/) — so it drives hakod or a real dockerd alike.
 * It never imports daemon-side code: only client/, archive/, errdefs/ and its own files. Output
 * (progress lines, log prefixes, tables) is the CLI's: convergence reports through `Progress`.
 */
export type * from './model.js';
export {
  up, down, stop, start, restart, kill, rm, build, pull, pause, listProjects, type ProjectSummary, buildService, pullImage, ensureImages, ensureNetworks, ensureVolumes,
  projectContainers, selectServices, serviceOf, numberOf, splitTag, isActive,
  type ComposeContext, type Progress, type UpOptions, type DownOptions, type BuildOptions,
} from './converge.js';
export { createBody, serviceHash, canonicalJson, resolveEnvironment, restartPolicy, orderedNetworks } from './create-body.js';
export { dependencyLevels, withDependencies, checkCycles, restartDependents } from './order.js';
export { createOneOff, oneOffService, oneOffName, SLUG_LABEL, type OneOffOptions } from './run.js';
export { awaitContainers, healthyVerdict, completedVerdict, runningVerdict, formatDuration, type Verdict } from './wait.js';
export * from './labels.js';
export { loadProject, renderConfig, canonicalConfig, normalizeProjectName, type LoadOptions, type LoadResult } from './loader/index.js';
