/** A library's own error text, kept out of the sentence people read but one click away for a bug report. */
export function TechnicalDetail({ detail }: { detail: string | undefined }) {
  if (!detail) return null;
  return (
    <details className="technical-detail" data-testid="technical-detail">
      <summary>Technical detail</summary>
      <code>{detail}</code>
    </details>
  );
}
