import type { PieceRewrite, StatementRewrite } from '../types.js';
import createIndex from './create-index-concurrently.js';
import dropIndex from './drop-index-concurrently.js';
import enumValue from './enum-add-value.js';
import foreignKey from './foreign-key-not-valid.js';
import requiredColumn from './required-column.js';
import setNotNull from './set-not-null.js';
import typeChange from './type-change-plan.js';
import uniqueUsingIndex from './unique-using-index.js';
import volatileDefault from './volatile-default.js';

/** Rewrites of whole statements. */
export const STATEMENT_REWRITES: readonly StatementRewrite[] = [createIndex, dropIndex, enumValue];

/** Rewrites of ALTER TABLE subcommands, tried in this order; the first that answers wins. */
export const PIECE_REWRITES: readonly PieceRewrite[] = [foreignKey, setNotNull, uniqueUsingIndex, volatileDefault, requiredColumn, typeChange];

/**
 * Codes of what the rewriter does not rewrite but reports (no statement file of its own): ZDT010, Prisma's
 * enum recreate (`CREATE TYPE "E_new"` … inside BEGIN/COMMIT), detected by the builder.
 */
export const ENUM_RECREATE = { code: 'ZDT010', name: 'enum-recreate-plan' } as const;
