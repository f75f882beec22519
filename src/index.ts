/**
 * stagedb's library: the same functions the CLI calls. Nothing here prints, reads process.argv or exits.
 */
export { defineConfig, env, secret } from './config/define.js';
export type { StagedbConfig, EnvironmentConfig, EnvRef, SecretRef, UrlValue, IamAuthConfig, ConfigValue, Protection, SslMode, PoolConfig, RdsSnapshotConfig } from './config/define.js';
export { loadConfig, findConfigFile, type ResolvedConfig } from './config/load.js';
export { selectEnvironments, resolveEnvironment, type ResolvedEnvironment } from './config/environments.js';
export { parseDatabaseUrl, type ParsedUrl, type UrlKind } from './config/url.js';
export { validateConfig } from './config/validate.js';
export { loadSecrets, type SecretFetcher } from './aws/secrets.js';
export { readLocalHistory, type LocalMigration, type LocalHistory } from './history/local.js';
export { compareHistory, type HistoryState, type MigrationEntry } from './history/state.js';
// deploy as the CLI runs it: the guard (confirmation, marker, audit), the drift and lint gates, the backup before deploy.
export { deploy, type DeployOptions, type DeployResult, type DeployEvent } from './deploy/index.js';
export { environmentStatus, type EnvStatus } from './history/status.js';
export { resolveMigration, type ResolveOptions } from './history/resolve.js';
export { checksum, checksumMatches } from './history/checksum.js';
export { chooseMode, type ApplyMode } from './history/mode.js';
export { splitStatements } from './history/split.js';
export { runSeed } from './project/seed.js';
export { initProject, GUIDE_SCRIPTS } from './project/init.js';
export { devUp, devDown, devStatus, devDataDir } from './local-db/server.js';
export { startCluster, stopCluster, clusterStatus, createDatabase, dropDatabase, type RunningCluster } from './pg/cluster.js';
export type { LockBlocker, LockHolder } from './guard/lock.js';
export { enforce, MATRIX, type Action, type Rule } from './guard/protection.js';
export { runGuarded, type GuardedOperation } from './guard/run.js';
export { createBackup, type CreateBackupOptions, type CreateBackupResult, type BackupEvent } from './backup/create.js';
export { listBackups, findBackup } from './backup/list.js';
export { verifyBackup, type VerifyResult } from './backup/verify.js';
export { prepareRestore, applyRestore, type RestoreResult } from './backup/restore.js';
export { pruneBackups, planPrune } from './backup/prune.js';
export { openStorage, type BackupStorage, type StoredBackup } from './backup/storage.js';
export { backupBeforeDeploy } from './backup/before-deploy.js';
export { rdsRestorePointBeforeDeploy, type RdsRestorePoint } from './backup/before-deploy-mode.js';
export { rdsRestoreWindow, planPointInTimeRestore, runPointInTimeRestore, pointAt, type RdsRestoreWindow, type PointInTimePlan, type PointInTimeResult } from './backup/rds-pitr.js';
export type { BackupManifest } from './backup/manifest.js';
export type { Progress as BackupProgress } from './backup/progress.js';
export type { BackupConfig, BackupStorageConfig, S3StorageConfig } from './config/define.js';
// The lint: importing it loads the rules, never the parser (that happens on the first lint).
export { lintFiles, lintPending, lintGate, formatText as formatLintText, formatGithub as formatLintGithub, RULES as LINT_RULES, type LintRunOptions, type PendingLint, type GateResult } from './lint/index.js';
export type { Finding as LintFinding, SuppressedFinding as LintSuppressedFinding, LintResult, LintOptions, LintInput, Runner as LintRunner, DatabaseContext as LintDatabaseContext, Claim as LintClaim } from './lint/types.js';
export type { LintConfig, LintSeverity } from './config/define.js';
export { StagedbError, type ErrorKind } from './errors.js';
export { redact } from './redact.js';
export { runDoctor, CHECKS as DOCTOR_CHECKS, type DoctorReport, type DoctorOptions } from './doctor/index.js';
export { planPush, push, migrateDev, resetDatabase, describeLoss, diffSchemas, detectDrift } from './develop/index.js';
export { openStudio, planStudio, startStudio, type OpenStudioOptions, type OpenedStudio, type StudioPlan, type StudioSession } from './studio/index.js';
export { readColumnFacts, rewriteMigration, stepDirectoryNames, type ColumnFacts, type ColumnTarget, type RewriteOptions, type RewriteResult, type RewrittenStep, type RewriteChange, type UnsafeChange } from './rewrite/index.js';
export { fixMigrations, type FixOptions, type FixResult } from './rewrite/fix.js';
