/**
 * The Compose loader: files → model.ts `Project` (loader.ts), and back to the text
 * `docker compose config` prints (render.ts). Pure: reads files, never talks to an engine.
 */
export { loadProject, normalizeProjectName, DEFAULT_FILE_NAMES, DEFAULT_OVERRIDE_NAMES } from './loader.js';
export type { LoadOptions, LoadResult } from './loader.js';
export { renderConfig, canonicalConfig } from './render.js';
export { parseDotenv } from './dotenv.js';
