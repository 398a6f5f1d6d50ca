// graphql-ws as clients configure it in the wild. Run by
// TestGraphQLWsConnectionParams, which sets:
//   GRAPHQL_URL     the server's /graphql URL (http://); SEATABLE_TOKEN is
//                   set on the server to another account's token
//   SEATABLE_TOKEN  a token of the caller's own
//   TRUSTED_URL     a server in TRUSTED_DOCUMENTS_ONLY mode whose manifest
//                   holds TRUSTED_SUBSCRIPTION
//   TRUSTED_SUBSCRIPTION
//
// 1. connectionParams: { headers: { Authorization } } (hasura/go-graphql-
//    client's documented shape, common in Apollo setups) reads with the
//    caller's own token, not the server's.
// 2. connectionParams with keys but no token: closed with 4403 and the reason.
// 3. A plain upgrade to a trusted-documents server: a trusted subscription
//    runs, anything else gets an error for its id.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient } from "graphql-ws";

const { GRAPHQL_URL: url, SEATABLE_TOKEN: token, TRUSTED_URL: trustedUrl, TRUSTED_SUBSCRIPTION: trustedSub } = process.env;
assert.ok(url && token && trustedUrl && trustedSub, "GRAPHQL_URL, SEATABLE_TOKEN, TRUSTED_URL and TRUSTED_SUBSCRIPTION must be set");
const ws = (u) => u.replace(/^http/, "ws");

// first runs one operation and resolves with its first result, or rejects
// with what ended it (an error list, or the close event).
function first(client, query) {
  return new Promise((resolve, reject) => {
    const stop = client.subscribe({ query }, {
      next: (v) => { resolve(v); stop(); },
      error: reject,
      complete: () => reject(new Error("completed without a result")),
    });
  });
}

const QUERY = "{ workspaces { name } }";
const own = await (await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Token ${token}` },
  body: JSON.stringify({ query: QUERY }),
})).json();
assert.equal(own.errors, undefined, JSON.stringify(own.errors));

// 1
const withHeaders = createClient({
  url: ws(url), webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { headers: { Authorization: `Token ${token}` } },
});
const got = await first(withHeaders, QUERY);
assert.deepEqual(got.data, own.data, "served another account's data than the token's own");
await withHeaders.dispose();
console.log("headers.Authorization: served the token's own data");

// 2
let closed;
const noToken = createClient({
  url: ws(url), webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { user: "someone" },
  on: { closed: (event) => { closed = event; } },
});
await assert.rejects(first(noToken, QUERY));
assert.equal(closed?.code, 4403, `close code ${closed?.code}`);
assert.match(closed.reason, /connection_init payload has no Authorization token/);
await noToken.dispose();
console.log(`payload without a token: closed ${closed.code} "${closed.reason}"`);

// 3
const trusted = createClient({
  url: ws(trustedUrl), webSocketImpl: WebSocket, retryAttempts: 0,
  connectionParams: { Authorization: `Token ${token}` },
});
const value = await first(trusted, trustedSub);
assert.equal(value.errors, undefined, JSON.stringify(value.errors));
assert.ok(value.data, "no data from the trusted subscription");
const refused = await first(trusted, QUERY).then((v) => v, (e) => e);
assert.ok(Array.isArray(refused), `an untrusted query was not refused with an error message: ${JSON.stringify(refused)}`);
assert.match(refused[0].message, /only trusted documents/);
await trusted.dispose();
console.log("trusted documents: the trusted subscription ran, an untrusted query got an error message");
