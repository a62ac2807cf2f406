// npm run move-to-postgres -- <sqlite file> <postgres url>   (anze move-to-postgres … in a release bundle)
// Moves a county's SQLite database into a PostgreSQL deployment, which may hold other counties:
// every table in one transaction, renumbered after the rows there, row counts and coverage figures
// checked on both sides; a target that already holds the county's campaign is refused with nothing
// written. Stop the service first. See src/domain/move.ts.
import { systemClock } from '../clock.ts';
import { MoveError, moveToPostgres, redactUrl } from '../domain/move.ts';
import { describe, t, usage } from './operator.ts';

const USAGE = 'npm run move-to-postgres -- <sqlite file> <postgres://user:password@host:5432/db>';
const [file, url, ...extra] = process.argv.slice(2);
if (!file || !url || extra.length) usage(USAGE);

try {
  const timeZone = process.env.BOT_TIMEZONE?.trim() || 'Asia/Shanghai';
  const r = await moveToPostgres(file, url, { clock: systemClock, timeZone, t });
  console.log(t('move.done', { path: file, url: redactUrl(url), tables: r.tables.length, rows: r.rows }));
  for (const tb of r.tables)
    console.log(t(tb.kept ? 'move.table_merged' : 'move.table', { table: tb.name, rows: tb.rows, kept: tb.kept }));
  // The numbers people type: an assignment's, a visit's, a claim's, a blacklist proposal's.
  const by = (table: string) => r.offsets[table] ?? 0;
  const obligations = by('Obligation');
  if (Object.values(r.offsets).some(Boolean))
    console.log(
      t('move.renumbered', {
        obligations,
        visits: by('PreventionVisit'),
        claims: by('Claim'),
        proposals: by('BlacklistProposal'),
        example: 1 + obligations,
      }),
    );
  for (const c of r.campaigns)
    console.log(t('move.figures', { county: `${c.countyName}（${c.countyCode}）`, sectors: c.sectors, day: r.day }));
} catch (e) {
  console.error(e instanceof MoveError ? e.message : describe(e));
  process.exit(1);
}
