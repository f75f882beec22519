import type { PieceRewrite, StatementRewrite } from '../types.js';
import createIndex from './create-index-concurrently.js';
import dropColumnLast from './drop-column-last.js';
import dropIndex from './drop-index-concurrently.js';
import enumValue from './enum-add-value.js';
import foreignKey from './foreign-key-not-valid.js';
import renameColumn from './rename-column.js';
import requiredColumn from './required-column.js';
import setNotNull from './set-not-null.js';
import typeChange from './type-change-plan.js';
import uniqueUsingIndex from './unique-using-index.js';
import volatileDefault from './volatile-default.js';

/** Rewrites of whole statements. */
export const STATEMENT_REWRITES: readonly StatementRewrite[] = [createIndex, dropIndex, enumValue, renameColumn];

/** Rewrites of ALTER TABLE subcommands, tried in this order; the first that answers wins. */
export const PIECE_REWRITES: readonly PieceRewrite[] = [foreignKey, setNotNull, uniqueUsingIndex, volatileDefault, requiredColumn, typeChange, dropColumnLast];

export { ENUM_RECREATE, enumRecreatePlan } from './enum-recreate-plan.js';
