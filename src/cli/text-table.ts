/** Rows of cells as aligned columns, the first row the header: tables people compare by eye. */

export type Alignment = 'left' | 'right';

/**
 * Columns padded to their widest cell and joined by two spaces, trailing
 * spaces trimmed. A row shorter than the header (a node that did not answer)
 * ends in one cell that runs on past the columns: it is neither padded nor
 * counted in its column's width.
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  align: (column: number) => Alignment = () => 'left',
): string {
  if (rows.length === 0) return '';
  const columns = rows[0]!.length;
  const runsOn = (row: readonly string[], column: number): boolean => row.length < columns && column === row.length - 1;
  const widths = rows[0]!.map((_, column) =>
    Math.max(...rows.map((row) => (runsOn(row, column) ? 0 : (row[column]?.length ?? 0)))),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => {
          if (runsOn(row, column)) return cell;
          return align(column) === 'right' ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
