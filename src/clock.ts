/** Time is injected everywhere it matters, so schedules, deadlines and expiry are testable. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still (or moves only when told): for tests and `npm run chat --at`. */
export function fixedClock(at: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let t = new Date(at).getTime();
  return {
    now: () => new Date(t),
    set: (d) => void (t = new Date(d).getTime()),
    advance: (ms) => void (t += ms),
  };
}

// Making an Intl.DateTimeFormat costs far more than using one: one per time zone, made once.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(kind: 'day' | 'minute', timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(`${kind} ${timeZone}`);
  if (!f) {
    f = new Intl.DateTimeFormat(
      'en-CA',
      kind === 'day'
        ? { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }
        : {
            timeZone,
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          },
    );
    formats.set(`${kind} ${timeZone}`, f);
  }
  return f;
}

/** The calendar day ('YYYY-MM-DD') of an instant in a time zone. */
export function dayIn(at: Date, timeZone: string): string {
  return format('day', timeZone).format(at);
}

/** 'YYYY-MM-DD HH:mm' of an instant in a time zone. */
export function minuteIn(at: Date, timeZone: string): string {
  const p = format('minute', timeZone).formatToParts(at);
  const get = (type: string) => p.find((x) => x.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** Adds whole days to a 'YYYY-MM-DD' day. */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function isDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
