import type { Rule } from '../types.js';
import parseError from './parse-error.js';
import createIndexConcurrently from './create-index-concurrently.js';
import dropIndexConcurrently from './drop-index-concurrently.js';
import concurrentlyInTransaction from './concurrently-in-transaction.js';
import foreignKeyNotValid from './foreign-key-not-valid.js';
import checkNotValid from './check-not-valid.js';
import validateInSameTransaction from './validate-in-same-transaction.js';
import setNotNull from './set-not-null.js';
import addRequiredColumn from './add-required-column.js';
import volatileDefault from './volatile-default.js';
import addSerialColumn from './add-serial-column.js';
import columnTypeChange from './column-type-change.js';
import dropAndRecreateColumn from './drop-and-recreate-column.js';
import uniqueConstraint from './unique-constraint.js';
import addPrimaryKey from './add-primary-key.js';
import dropColumn from './drop-column.js';
import dropTable from './drop-table.js';
import rename from './rename.js';
import enumValueInTransaction from './enum-value-in-transaction.js';
import enumRecreate from './enum-recreate.js';
import dropNotNull from './drop-not-null.js';
import dropConstraint from './drop-constraint.js';
import lockTimeout from './lock-timeout.js';
import backfillWithDdl from './backfill-with-ddl.js';
import transactionControl from './transaction-control.js';
import blockingMaintenance from './blocking-maintenance.js';
import typeHygiene from './type-hygiene.js';
import statementTimeout from './statement-timeout.js';
import notRerunnable from './not-rerunnable.js';
import truncateCascade from './truncate-cascade.js';
import domainConstraint from './domain-constraint.js';
import tableRewrite from './table-rewrite.js';
import tableSettings from './table-settings.js';
import typeChangeWithCheck from './type-change-with-check.js';
import concurrentIndexPg14 from './concurrent-index-pg14.js';
import exclusionConstraint from './exclusion-constraint.js';
import detachPartitionConcurrently from './detach-partition-concurrently.js';
import createTrigger from './create-trigger.js';
import truncate from './truncate.js';
import lintDirective from './lint-directive.js';

/**
 * Every rule, in code order.
 *
 * The hazard catalogue (../shared/research/lint-catalogue.md, ids R01–R44) → rules:
 *   R01 SDB001 · R02 SDB002 · R03 SDB003 · R04 SDB004 · R05 SDB005 · R06 SDB006 · R07 SDB007 · R08 SDB008
 *   R09, R11 SDB009 · R10 SDB010 · R12 SDB011 · R13 SDB012 · R14 SDB013 (+ SDB001 for the unique index)
 *   R15 SDB014 · R16 SDB035 · R17 SDB015 · R18, R19 SDB016 · R20, R21 SDB017 · R22, R24 SDB019 · R23 SDB018
 *   R25 SDB020 · R26 SDB021 · R27 SDB022 · R28 SDB027 (off by default) · R29 SDB023 · R30 SDB028 · R31 SDB024
 *   R32, R34 SDB025 · R33 SDB036 (and SDB003 for its CONCURRENTLY in a transaction) · R35 SDB029 · R36 SDB030
 *   R37 SDB037 · R38 SDB031 · SDB038 (plain TRUNCATE, not in the catalogue) · R39 SDB001 · R40 SDB032 · R41 SDB033 · R42 SDB034 · R43 SDB026 (off by default)
 * Not a rule, and why:
 *   R44 raw SQL a tool cannot inspect: every Prisma migration is SQL, and lint parses all of it.
 * Known only with a database (`--env`, the deploy gate): R41's CHECK constraints on live columns (and
 * those the linted files add), R42's server version. Without one, lint assumes a current server and
 * reports neither.
 */
export const RULES: readonly Rule[] = [
  parseError,
  createIndexConcurrently,
  dropIndexConcurrently,
  concurrentlyInTransaction,
  foreignKeyNotValid,
  checkNotValid,
  validateInSameTransaction,
  setNotNull,
  addRequiredColumn,
  volatileDefault,
  addSerialColumn,
  columnTypeChange,
  dropAndRecreateColumn,
  uniqueConstraint,
  addPrimaryKey,
  dropColumn,
  dropTable,
  rename,
  enumValueInTransaction,
  enumRecreate,
  dropNotNull,
  dropConstraint,
  lockTimeout,
  backfillWithDdl,
  transactionControl,
  blockingMaintenance,
  typeHygiene,
  statementTimeout,
  notRerunnable,
  truncateCascade,
  domainConstraint,
  tableRewrite,
  tableSettings,
  typeChangeWithCheck,
  concurrentIndexPg14,
  exclusionConstraint,
  detachPartitionConcurrently,
  createTrigger,
  truncate,
  lintDirective,
];
