// Seed data for the guide app. Idempotent: running it twice leaves the same rows.
// Uses the direct connection stagedb provides (DIRECT_URL), since DATABASE_URL may be an
// Accelerate URL (prisma+postgres://) that only Prisma Client can use.
import pg from 'pg';
import { parse } from 'pg-connection-string';

const url = process.env.DIRECT_URL ?? process.env.DATABASE_URL;
if (!url) {
  console.error('seed: DATABASE_URL is not set (run it through `stagedb seed`)');
  process.exit(1);
}
// libpq's meaning of sslmode (require = encrypt, verify-full = also check the certificate), as psql and
// Prisma read it; node-postgres on its own would treat require as verify-full.
const client = new pg.Client({ ...parse(url, { useLibpqCompat: true }), application_name: 'guide-app seed' });
await client.connect();
try {
  await client.query('BEGIN');
  const users = [
    ['ada@example.com', 'Ada', 'ADMIN', 'Writes the release notes.'],
    ['grace@example.com', 'Grace', 'EDITOR', 'Reviews every migration.'],
    ['linus@example.com', 'Linus', 'MEMBER', null],
  ];
  const ids = {};
  for (const [email, name, role, bio] of users) {
    const r = await client.query(
      `INSERT INTO "User" (email, name, role) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role RETURNING id`,
      [email, name, role],
    );
    ids[email] = r.rows[0].id;
    if (bio) {
      await client.query(`INSERT INTO "Profile" (bio, "userId") VALUES ($1, $2) ON CONFLICT ("userId") DO UPDATE SET bio = EXCLUDED.bio`, [bio, ids[email]]);
    }
  }
  for (const name of ['release', 'postgres', 'prisma']) {
    await client.query(`INSERT INTO "Tag" (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
  }
  const posts = [
    ['Staging first', 'Every release goes to staging before production.', 'ada@example.com', ['release']],
    ['Backups before deploys', 'db:backup:production, then db:deploy:production.', 'grace@example.com', ['release', 'postgres']],
  ];
  for (const [title, body, author, tags] of posts) {
    const existing = await client.query(`SELECT id FROM "Post" WHERE title = $1`, [title]);
    const postId =
      existing.rows[0]?.id ??
      (await client.query(`INSERT INTO "Post" (title, body, published, "publishedAt", "authorId") VALUES ($1, $2, true, now(), $3) RETURNING id`, [title, body, ids[author]])).rows[0].id;
    for (const tag of tags) {
      await client.query(
        `INSERT INTO "_PostToTag" ("A", "B") SELECT $1, id FROM "Tag" WHERE name = $2 ON CONFLICT DO NOTHING`,
        [postId, tag],
      );
    }
  }
  await client.query('COMMIT');
  const counts = await client.query(`SELECT (SELECT count(*) FROM "User") AS users, (SELECT count(*) FROM "Post") AS posts, (SELECT count(*) FROM "Tag") AS tags`);
  const c = counts.rows[0];
  console.log(`seeded ${c.users} users, ${c.posts} posts, ${c.tags} tags`);
} catch (e) {
  await client.query('ROLLBACK').catch(() => {});
  throw e;
} finally {
  await client.end();
}
