// Subscribes the way frontends do, with the real client libraries:
// graphql-ws (WebSocket, graphql-transport-ws), graphql-sse (distinct
// connections mode) and Apollo Client's GraphQLWsLink. Each one receives the
// first value, then a change for each of create, rename, star and delete
// made through the server's mutations, then unsubscribes. Run by
// TestLiveJSClients (go test ./...), which starts the server against the
// fake SeaTable and sets:
//   GRAPHQL_URL     the server's /graphql URL (http://)
//   SEATABLE_TOKEN  a token the fake accepts
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";

const url = process.env.GRAPHQL_URL;
const token = process.env.SEATABLE_TOKEN;
assert.ok(url && token, "GRAPHQL_URL and SEATABLE_TOKEN must be set");
const wsUrl = url.replace(/^http/, "ws");

const DTABLES = `subscription Bases {
  dtablesChanged { initial changes { added { uuid name starred } updated { uuid name starred } removed } }
}`;

async function mutate(query) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Token ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

// next waits for the iterator's next result, failing after 10 s.
async function next(it, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10000);
  });
  try {
    const r = await Promise.race([it.next(), timeout]);
    assert.equal(r.done, false, `stream ended while waiting for ${what}`);
    assert.equal(r.value.errors, undefined, JSON.stringify(r.value.errors));
    return r.value.data.dtablesChanged;
  } finally {
    clearTimeout(timer);
  }
}

// lifecycle runs create, rename, star, delete against one subscription.
async function lifecycle(kind, it) {
  const first = await next(it, `${kind}: first value`);
  assert.equal(first.initial, true);
  assert.ok(first.changes.added.length > 0, "the first value lists every base as added");

  const name = `live ${kind}`;
  const created = await mutate(`mutation { createDTable(input: {name: ${JSON.stringify(name)}}) { dtable { uuid } } }`);
  const uuid = created.createDTable.dtable.uuid;
  let ev = await next(it, `${kind}: create`);
  assert.deepEqual(ev.changes.added.map((d) => d.name), [name]);

  await mutate(`mutation { updateDTable(input: {uuid: "${uuid}", newName: "${name} renamed"}) { dtable { name } } }`);
  ev = await next(it, `${kind}: rename`);
  assert.deepEqual(ev.changes.updated.map((d) => [d.uuid, d.name]), [[uuid, `${name} renamed`]]);

  await mutate(`mutation { starDTable(input: {uuid: "${uuid}"}) { dtable { uuid } } }`);
  ev = await next(it, `${kind}: star`);
  assert.deepEqual(ev.changes.updated.map((d) => [d.uuid, d.starred]), [[uuid, true]]);

  await mutate(`mutation { deleteDTable(input: {uuid: "${uuid}"}) { uuid } }`);
  ev = await next(it, `${kind}: delete`);
  assert.deepEqual(ev.changes.removed, [uuid]);
  await it.return(); // unsubscribe
  console.log(`ok - ${kind}: first value, create, rename, star, delete, unsubscribe`);
}

// graphql-ws, token in connection_init.
{
  const client = createWsClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Token ${token}` },
    retryAttempts: 0,
  });
  await lifecycle("graphql-ws", client.iterate({ query: DTABLES }));

  // A bad token is refused at connection_init with 4403.
  const bad = createWsClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { token: "not-a-valid-token" },
    retryAttempts: 0,
  });
  const it = bad.iterate({ query: DTABLES });
  await assert.rejects(it.next(), (err) => err.code === 4403);
  await bad.dispose();
  await client.dispose();
  console.log("ok - graphql-ws: a bad token is refused with 4403");
}

// graphql-sse, distinct connections mode, token in the Authorization header.
{
  const client = createSseClient({
    url,
    headers: { Authorization: `Token ${token}` },
    singleConnection: false,
    retryAttempts: 0,
  });
  await lifecycle("graphql-sse", client.iterate({ query: DTABLES }));
  client.dispose();
}

// Apollo Client over GraphQLWsLink, with its normalising cache.
{
  const wsClient = createWsClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Token ${token}` },
    retryAttempts: 0,
  });
  const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  // An async iterator over Apollo's Observable.
  const queue = [];
  const waiters = [];
  const push = (v) => (waiters.length ? waiters.shift()(v) : queue.push(v));
  const subscription = apollo.subscribe({ query: gql(DTABLES) }).subscribe({
    next: (result) => push({ done: false, value: { data: result.data, errors: result.error ? [String(result.error)] : undefined } }),
    error: (err) => push({ done: false, value: { errors: [String(err)] } }),
    complete: () => push({ done: true }),
  });
  const it = {
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiters.push(resolve))),
    return: async () => subscription.unsubscribe(),
  };
  await lifecycle("Apollo GraphQLWsLink", it);
  await wsClient.dispose();
}
