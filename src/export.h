/* export.h -- streaming export of stored records as CSV, JSON or XLSX.
 *
 * Records are read one at a time through store_scan, so memory does not
 * grow with the hub: nothing per record is kept after it is written.
 *
 * Columns: a provenance prefix (record_id, organisation, submission_id,
 * codebook_version, synthetic), then the flat layout (layout.h) of every
 * non-deprecated field; sensitive fields (promised_job, indicators) only
 * with include_sensitive (the CLI decides: an organisation's own export, or
 * an administrator).
 *
 * CSV: RFC 4180, UTF-8 with a BOM (so Excel reads it as UTF-8; our reader
 * strips it), CRLF line ends, a cell quoted when it holds a comma, quote,
 * CR, LF or leading/trailing space; quotes doubled. Multiple values are
 * joined with "; " as in layout.h.
 * JSON: one array, one object per record; single values as strings (codes)
 * or numbers (integer, year, decimal), missing as null; age as its "lo-hi"
 * text; multiple fields as arrays; groups as arrays of objects; synthetic
 * as true/false.
 * XLSX: one sheet "Cases", inline strings; integer, year and decimal
 * fields (and the numeric provenance columns) as numbers.
 *
 * Formula neutralising (CSV and XLSX, never JSON): a text cell whose first
 * byte is '=', '+', '-', '@', TAB or CR gets a leading apostrophe so a
 * spreadsheet shows it as text instead of running it (e.g. "=cmd|..."
 * becomes "'=cmd|..."). The one exception is a plain negative decimal
 * number, "-" digits [ "." digits ] (e.g. "-5", "-3.25"), which is left as
 * it is. "+1" is neutralised (stored numbers never start with '+', and a
 * phone "+855..." should stay text). Numeric cells are never touched.
 *
 * Mappings: NULL or "" exports spotlight names; "htcds" uses the embedded
 * mappings/htcds.json: {"name", "direction": "export", "description",
 * "columns": {spotlight column: HTCDS field}, "values": {field: {code:
 * HTCDS code}}}. Columns without a counterpart are named "spotlight_" +
 * name; codes without one are kept. The group and provenance keys of JSON
 * follow the same rule. */
#ifndef SP_EXPORT_H
#define SP_EXPORT_H

#include "store.h"

typedef enum { EXPORT_CSV = 0, EXPORT_JSON, EXPORT_XLSX } export_format;

/* "csv", "json", "xlsx" (any case) -> *out; SP_EUSAGE otherwise. */
int export_format_parse(const char *s, export_format *out);

/* Writes every record matching f (NULL: all) to out_path ("-": standard
 * output; XLSX too). On failure a partly written file is removed (not
 * standard output) and err says why. SP_EUSAGE for an unknown mapping. */
int export_records(sp_store *s, const sp_codebook *cb, const sp_filter *f,
                   export_format fmt, const char *mapping, int include_sensitive,
                   const char *out_path, sp_err *err);

/* 1 when a text cell must get a leading apostrophe (rule above). */
int export_needs_neutralising(const char *s, size_t n);

#endif
