/**
 * HTTP-date (RFC 9110 §5.6.7), parsed to the letter. A recipient must accept the three forms
 * — IMF-fixdate, the obsolete RFC 850 form and ANSI C's asctime form — and nothing else:
 * `Date.parse` accepts far more (`UTC` for `GMT`, missing commas, ISO 8601, one-digit hours)
 * and reading such a value as a date would make a response fresh that RFC 9111 §5.3 says is
 * already expired.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// The grammar is case-sensitive (§5.6.7: "HTTP-date is case sensitive") and spaces are
// single SP characters, so each form is one exact pattern.
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const MONTH = `(${MONTHS.join('|')})`;
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^(?:${DAYS.join('|')}), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC850 = new RegExp(`^(?:${LONG_DAYS.join('|')}), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** `Sun Nov  6 08:49:37 1994` (a one-digit day is padded with a space, not a zero) */
const ASCTIME = new RegExp(`^(?:${DAYS.join('|')}) ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/**
 * Parses an HTTP-date into epoch ms; `undefined` for anything that is not exactly one of the
 * three forms or that names no real instant (31 Feb, hour 24). `now` resolves the RFC 850
 * two-digit year: a year that would lie more than 50 years in the future is the most recent
 * past year with those digits (§5.6.7).
 */
export function parseHttpDate(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) return instant(Number(m[3]), m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  m = ASCTIME.exec(value);
  if (m !== null) return instant(Number(m[6]), m[1]!, m[2]!, m[3]!, m[4]!, m[5]!);
  m = RFC850.exec(value);
  if (m !== null) {
    const nowYear = new Date(now).getUTCFullYear();
    let year = Math.floor(nowYear / 100) * 100 + Number(m[3]);
    if (year > nowYear + 50) year -= 100;
    return instant(year, m[2]!, m[1]!, m[4]!, m[5]!, m[6]!);
  }
  return undefined;
}

function instant(
  year: number,
  month: string,
  day: string,
  hour: string,
  minute: string,
  second: string,
): number | undefined {
  const mon = MONTHS.indexOf(month);
  const d = Number(day.trim());
  const h = Number(hour);
  const min = Number(minute);
  // §5.6.7 allows a leap second (60).
  const s = Number(second);
  if (d < 1 || h > 23 || min > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, mon, d, h, min, s);
  // Date.UTC rolls 31 Feb over into March; such a date names no day of that month.
  if (new Date(ms).getUTCDate() !== d && s !== 60) return undefined;
  return ms;
}

/** Formats epoch ms as an IMF-fixdate, the form a sender must generate (§5.6.7). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
