// Sends the documents GraphQL Code Generator's client-preset generated
// (gen/graphql.ts, each with __meta__.hash "sha256:<hex>") through urql's
// persistedExchange, configured as the client-preset docs recommend:
// generateHash: (_, document) => document.__meta__.hash.
//
//   node client.mjs <graphql url> <token> enforce|apq
//
// enforce: enforcePersistedQueries (hashes only, for a server in
// TRUSTED_DOCUMENTS_ONLY mode); apq: the default, which sends the text with
// the hash after PersistedQueryNotFound (automatic persisted queries).
// Prints one JSON object: each operation's data and error, and every HTTP
// request urql made (method, whether it carried the text, the hash).
import { readFileSync } from 'node:fs';
import { Client, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';

const [url, token, mode] = process.argv.slice(2);

// gen/graphql.ts is TypeScript; each document is one line of JSON:
//   export const XDocument = {"__meta__":{"hash":"sha256:…"},"kind":"Document",…} as unknown as …;
const ts = readFileSync(new URL('./gen/graphql.ts', import.meta.url), 'utf8');
const documents = {};
for (const m of ts.matchAll(/^export const (\w+)Document = (\{.*\}) as unknown as /gm)) {
  documents[m[1]] = JSON.parse(m[2]);
}

const requests = [];
const client = new Client({
  url,
  preferGetMethod: false,
  fetchOptions: { headers: { Authorization: `Token ${token}` } },
  fetch: async (input, init) => {
    const u = new URL(String(input));
    const body = init?.body ? JSON.parse(init.body) : null;
    const ext = body ? body.extensions : JSON.parse(u.searchParams.get('extensions') || 'null');
    requests.push({
      method: init?.method || 'GET',
      query: Boolean(body ? body.query : u.searchParams.get('query')),
      hash: ext?.persistedQuery?.sha256Hash ?? null,
    });
    return fetch(input, init);
  },
  exchanges: [
    persistedExchange({
      enforcePersistedQueries: mode === 'enforce',
      generateHash: (_, document) => Promise.resolve(document.__meta__.hash),
    }),
    fetchExchange,
  ],
});

const results = {};
for (const name of ['Workspaces', 'DTableCount']) {
  if (!documents[name]) throw new Error(`no ${name}Document in gen/graphql.ts`);
  const r = await client.query(documents[name], {}, { requestPolicy: 'network-only' }).toPromise();
  results[name] = { data: r.data ?? null, error: r.error ? r.error.message : null };
}
process.stdout.write(JSON.stringify({ results, requests }) + '\n');
