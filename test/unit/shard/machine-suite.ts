/**
 * The scenarios every ShardStateMachine passes, whatever engine it runs on:
 * a backend's test file calls shardMachineSuite() with a harness factory, as
 * the KV engines run test/unit/kv/engine-suite.ts, so the memory engine of
 * the simulations is held to exactly what the disk engine does.
 */
import { describe, it } from 'node:test';
import type { EngineHarness } from '../kv/engine-suite.js';
import { commandScenarios } from './command-scenarios.js';
import { durabilityScenarios } from './durability-scenarios.js';
import { handoffScenarios } from './handoff-scenarios.js';
import { Members } from './shard-fixtures.js';

/** Declares a test that gets fresh members and stops them whatever happens. */
export type Scenario = (title: string, body: (members: Members) => Promise<void>) => void;

export function shardMachineSuite(name: string, createHarness: () => Promise<EngineHarness>): void {
  const scenario: Scenario = (title, body) => {
    it(title, async () => {
      const members = new Members(createHarness);
      try {
        await body(members);
      } finally {
        await members.stopAll();
      }
    });
  };
  describe(`ShardStateMachine over ${name}: commands and refusals`, () => commandScenarios(scenario));
  describe(`ShardStateMachine over ${name}: buckets moving between groups`, () => handoffScenarios(scenario));
  describe(`ShardStateMachine over ${name}: restarts and snapshots`, () => durabilityScenarios(scenario));
}
