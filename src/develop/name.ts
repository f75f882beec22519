/**
 * Migration names the way the Prisma CLI makes them (packages/migrate `getMigrationName`):
 * `@sindresorhus/slugify` with `_` as separator, cut to 200 characters. The same rules here, so
 * `--name "Add user's posts"` names the directory as `prisma migrate dev` would: `add_users_posts`.
 *
 * Owned difference: slugify transliterates every script (Cyrillic, Greek, …) with a 1,400-entry
 * table; this keeps the Latin letters it would map (and strips other diacritics), so a name written
 * in another script becomes empty here and is refused rather than silently named differently.
 */

/** The replacements slugify applies before stripping diacritics (Latin-1 and Latin Extended-A). */
const LATIN: Array<[string, string]> = [
  ['ß', 'ss'], ['ẞ', 'Ss'], ['ä', 'ae'], ['Ä', 'Ae'], ['ö', 'oe'], ['Ö', 'Oe'], ['ü', 'ue'], ['Ü', 'Ue'],
  ['Æ', 'AE'], ['æ', 'ae'], ['Ø', 'O'], ['ø', 'o'], ['Đ', 'D'], ['đ', 'd'], ['Ð', 'D'], ['ð', 'd'], ['Þ', 'TH'], ['þ', 'th'],
  ['Ł', 'L'], ['ł', 'l'], ['Œ', 'OE'], ['œ', 'oe'], ['Ħ', 'H'], ['ħ', 'h'], ['ı', 'i'], ['Ŀ', 'L'], ['ŀ', 'l'], ['Ŋ', 'N'], ['ŋ', 'n'], ['Ŧ', 'T'], ['ŧ', 't'],
];
const CUSTOM: Array<[string, string]> = [['&', ' and '], ['🦄', ' unicorn '], ['♥', ' love ']];

function decamelize(s: string): string {
  return s
    .replace(/([A-Z]{2,})(\d+)/g, '$1 $2')
    .replace(/([a-z\d]+)([A-Z]{2,})/g, '$1 $2')
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-rt-z\d]+)/g, '$1 $2');
}

/** `slugify(name, { separator: '_' }).substring(0, 200)`, as the Prisma CLI names a migration. */
export function migrationNameSlug(name: string): string {
  let s = name.normalize();
  for (const [from, to] of [...CUSTOM, ...LATIN]) s = s.split(from).join(to);
  s = s.normalize('NFD').replace(/\p{Diacritic}/gu, '').normalize();
  s = decamelize(s).toLowerCase();
  s = s.replace(/([a-zA-Z\d]+)'([ts])(\s|$)/g, '$1$2$3');
  s = s.replace(/[^a-z\d]+/g, '_').replace(/\\/g, '');
  s = s.replace(/_{2,}/g, '_').replace(/^_|_$/g, '');
  return s.substring(0, 200);
}
