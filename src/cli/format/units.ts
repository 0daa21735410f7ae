/** Human units as docker prints and parses them: the shared leaf src/units/. */
export { humanSize, humanSizeWithPrecision, bytesSize, ramInBytes, fromHumanSize, humanDuration, ago, parseDuration } from '../../units/index.js';
