/**
 * Every cross-reference rule, run in this order after the schema and defaults. One file per area; adding
 * an area is one import and one entry (spread its list).
 */
import { aggregateRules } from './aggregates.js';
import { collectionRules } from './collections.js';
import { databaseRules } from './databases.js';
import { fastDataRules } from './fast-data.js';
import { fastDataTopicRules } from './fast-data-topics.js';
import { gatewayRules } from './gateway.js';
import { policyRules } from './policies.js';
import type { ConfigRule } from './rule.js';
import { sagaRules } from './sagas.js';

export type { ConfigRule, ReportInput, RuleContext } from './rule.js';

export const RULES: readonly ConfigRule[] = [
  ...databaseRules,
  ...policyRules,
  ...collectionRules,
  ...sagaRules,
  ...fastDataRules,
  ...fastDataTopicRules,
  ...gatewayRules,
  ...aggregateRules,
];
