// Runs graphql-http's serverAudits (the GraphQL-over-HTTP reference suite)
// against the URL given as the first argument and prints one JSON array of
// {id, name, status, reason} to stdout. The Go test graphqlhttp_test.go
// decides what counts as a failure; this script only reports.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = await auditServer({ url });
const out = [];
for (const r of results) {
  const row = { id: r.id, name: r.name, status: r.status };
  if (r.status !== 'ok') {
    row.reason = r.reason;
    try {
      row.httpStatus = r.response.status;
      row.contentType = r.response.headers.get('content-type');
      row.body = (await r.response.text()).slice(0, 500);
    } catch {
      // The body may already have been read by the audit.
    }
  }
  out.push(row);
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
