/** `hako network …`, `hako port`, `hako run -p/--network` against a real hakod: the same scenarios as the docker CLI compat test. */
import { describe } from 'node:test';
import { networkScenarios } from '../../support/network-cli.js';

describe('hako CLI networking against hakod', () => networkScenarios('hako'));
