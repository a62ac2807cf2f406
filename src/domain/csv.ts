/**
 * Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF) into rows of strings. Blank rows
 * are dropped unless `keepBlank`, which keeps row numbers as a spreadsheet program shows them.
 */
export function parseCsv(text: string, keepBlank = false): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return keepBlank ? rows : rows.filter((r) => r.some((f) => f.trim() !== ''));
}
