/* xlsxw.h -- a streaming XLSX writer: one sheet (or several, one after
 * another: xlsxw_sheet_add), any number of rows, in constant memory.
 *
 * The sheet XML goes to a private temporary file (created 0600 next to the
 * output and unlinked at once, so a crash leaves nothing behind);
 * xlsxw_close() packs it with the
 * small fixed parts into the zip. Path "-" writes the finished zip to
 * standard output.
 *
 * Strings are written as inline strings (never formulas), XML-escaped,
 * with control characters removed and invalid UTF-8 replaced by U+FFFD.
 * A string longer than Excel's 32,767 characters, a row past 1,048,576 or a
 * cell past column 16,384 fails with SP_ELIMIT (nothing is cut silently).
 * Non-finite numbers are written as the error value #NUM!.
 *
 *   xlsxw *w;
 *   if (xlsxw_open(&w, "out.xlsx", "Cases", &err) != SP_OK) ...
 *   xlsxw_row_begin(w); xlsxw_cell_str(w, "Name", 4); xlsxw_row_end(w);
 *   rc = xlsxw_close(w);
 *
 * `err` must outlive the writer: errors found later are added to it. After
 * any error every call returns that error; xlsxw_close() still frees all
 * and removes the temporary files (and writes no output). */
#ifndef SP_XLSXW_H
#define SP_XLSXW_H

#include "util.h"

typedef struct xlsxw xlsxw;

/* sheet_name: NULL or "" gives "Sheet1"; characters Excel forbids in a
 * sheet name ([]:*?/\) become '_' and it is cut to 31 characters. */
int xlsxw_open(xlsxw **w, const char *path, const char *sheet_name, sp_err *err);
/* Finishes the current sheet and starts a new one named sheet_name (same
 * cleaning as xlsxw_open); later rows go to it. Sheets appear in the
 * workbook in the order they were started. Two names equal but for case
 * fail with SP_EUSAGE (Excel refuses them); at most 254 sheets. */
int xlsxw_sheet_add(xlsxw *w, const char *sheet_name);
int xlsxw_row_begin(xlsxw *w);
int xlsxw_cell_str(xlsxw *w, const char *s, size_t n);
int xlsxw_cell_num(xlsxw *w, double v);
int xlsxw_cell_empty(xlsxw *w);
int xlsxw_row_end(xlsxw *w);
/* Finishes and writes the zip; frees w in every case. Returns SP_OK or the
 * first error met. */
int xlsxw_close(xlsxw *w);

#endif
