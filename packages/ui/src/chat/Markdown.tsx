import { Fragment, type ReactNode } from 'react';

/**
 * The Markdown a model writes, rendered as React elements (never as HTML, so nothing a model
 * says can inject markup): fenced code, headings, lists, paragraphs, and inline code, bold,
 * italics and http(s) links.
 */
export function Markdown({ text }: { text: string }) {
  const blocks: ReactNode[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = /^```\s*([\w+-]*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i] ?? '')) body.push(lines[i++] ?? '');
      i++;
      blocks.push(
        <pre key={blocks.length} className="code-block" data-language={fence[1] || undefined}>
          <code>{body.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      blocks.push(
        <p key={blocks.length} className="md-heading">
          <strong>{inline(heading[2] ?? '')}</strong>
        </p>,
      );
      i++;
      continue;
    }
    if (/^\s*([-*]|\d+\.)\s+/.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && /^\s*([-*]|\d+\.)\s+/.test(lines[i] ?? ''))
        items.push((lines[i++] ?? '').replace(/^\s*([-*]|\d+\.)\s+/, ''));
      const List = ordered ? 'ol' : 'ul';
      blocks.push(
        <List key={blocks.length}>
          {items.map((item, n) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: items have no identity beyond their place.
            <li key={n}>{inline(item)}</li>
          ))}
        </List>,
      );
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      (lines[i] ?? '').trim() !== '' &&
      !/^(```|#{1,4}\s|\s*([-*]|\d+\.)\s)/.test(lines[i] ?? '')
    )
      para.push(lines[i++] ?? '');
    blocks.push(<p key={blocks.length}>{inline(para.join('\n'))}</p>);
  }
  return <div className="markdown">{blocks}</div>;
}

const INLINE = /(`[^`]+`|\*\*[^*]+\*\*|\*[^*\s][^*]*\*|\[[^\]]+\]\(https?:\/\/[^\s)]+\))/g;

function inline(text: string): ReactNode {
  return text.split(INLINE).map((piece, n) => {
    const key = `${n}`;
    if (piece.startsWith('`') && piece.endsWith('`') && piece.length > 1)
      return <code key={key}>{piece.slice(1, -1)}</code>;
    if (piece.startsWith('**') && piece.endsWith('**'))
      return <strong key={key}>{piece.slice(2, -2)}</strong>;
    if (/^\*[^*]/.test(piece) && piece.endsWith('*')) return <em key={key}>{piece.slice(1, -1)}</em>;
    const link = /^\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)$/.exec(piece);
    if (link)
      return (
        <a key={key} href={link[2]} target="_blank" rel="noreferrer noopener">
          {link[1]}
        </a>
      );
    return <Fragment key={key}>{piece}</Fragment>;
  });
}
