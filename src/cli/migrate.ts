// npm run migrate   (anze migrate in a release bundle)
// Applies the pending database migrations to DATABASE_URL and says which; the service does the
// same when it starts, so this is for an upgrade done step by step (back up, migrate, start).
import { ConfigError, configFromEnvironment } from '../config.ts';
import { migrateDatabase } from '../db/client.ts';
import { translator } from '../i18n.ts';

let t = translator('zh-CN');
try {
  const config = configFromEnvironment();
  t = translator(config.locale);
  const r = await migrateDatabase(config.databaseUrl);
  console.log(
    r.applied.length
      ? t('migrate.applied', { count: r.applied.length, names: r.applied.join(', '), before: r.alreadyApplied })
      : t('migrate.none', { count: r.alreadyApplied }),
  );
} catch (e) {
  console.error(e instanceof ConfigError ? `configuration: ${e.message}` : e instanceof Error ? e.message : e);
  process.exit(1);
}
