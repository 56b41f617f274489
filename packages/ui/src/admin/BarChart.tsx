/**
 * A horizontal bar chart in plain SVG: one bar per row, the value printed beside it, and a
 * text description for screen readers (the table next to it has the exact numbers).
 */
export function BarChart({
  title,
  rows,
  format,
}: {
  title: string;
  rows: { key: string; value: number }[];
  format: (n: number) => string;
}) {
  const shown = rows.slice(0, 15);
  const max = Math.max(...shown.map((r) => r.value), 0) || 1;
  const rowHeight = 22;
  const labelWidth = 140;
  const width = 560;
  const barSpace = width - labelWidth - 90;
  const height = shown.length * rowHeight + 4;
  const description = shown.map((r) => `${r.key}: ${format(r.value)}`).join('; ');
  return (
    <figure style={{ margin: 0 }}>
      <figcaption className="muted">{title}</figcaption>
      <svg
        className="chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`${title}. ${description}`}
      >
        {shown.map((r, i) => {
          const y = i * rowHeight + 2;
          const w = Math.max((r.value / max) * barSpace, r.value > 0 ? 2 : 0);
          return (
            <g key={r.key}>
              <text x={labelWidth - 6} y={y + 14} textAnchor="end">
                {r.key.length > 22 ? `${r.key.slice(0, 21)}…` : r.key}
              </text>
              <rect className="bar" x={labelWidth} y={y + 3} width={w} height={rowHeight - 8} rx={2} />
              <text x={labelWidth + w + 6} y={y + 14}>
                {format(r.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
