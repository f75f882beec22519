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
import lintDirective from './lint-directive.js';

/** Every rule, in code order. */
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
  lintDirective,
];
