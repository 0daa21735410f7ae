/**
 * The docker CLI against hakod for issue #5: networks, DNS by name and alias, isolation,
 * connect/disconnect, published ports, prune (the scenarios live in test/support/network-cli.ts
 * and run through `hako` too).
 */
import { describe } from 'node:test';
import { networkScenarios } from '../support/network-cli.js';

describe('docker CLI networking against hakod', () => networkScenarios('docker'));
