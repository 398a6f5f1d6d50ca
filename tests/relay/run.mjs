// Runs the base browser's compiled documents (relay-compiler artifacts in
// __generated__, built by TestRelay) with relay-runtime against the server,
// over persisted queries: each request sends Relay's doc_id and no text, as
// a Relay app with persistConfig does. Checks that the store sees no id
// conflicts, that @refetchable fragments refetch through node(id:), and
// that @prependNode and @deleteEdge keep the dtables connection right.
// Environment (set by TestRelay):
//   GRAPHQL_URL     the server's /graphql URL (started with TRUSTED_DOCUMENTS_ONLY)
//   SEATABLE_TOKEN  a token the fake accepts, with the demo data
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import {
  ConnectionHandler,
  Environment,
  Network,
  RecordSource,
  Store,
  commitMutation,
  createOperationDescriptor,
  fetchQuery,
} from "relay-runtime";

const require = createRequire(import.meta.url);
const artifact = (name) => require(`./__generated__/${name}.graphql.js`);

const url = process.env.GRAPHQL_URL;
const token = process.env.SEATABLE_TOKEN;
assert.ok(url && token, "GRAPHQL_URL and SEATABLE_TOKEN must be set");

// Relay reports store problems (among them "The GraphQL server likely
// violated the globally unique id requirement") with console.error/warn.
const problems = [];
for (const level of ["error", "warn"]) {
  const orig = console[level];
  console[level] = (...args) => {
    problems.push(args.map(String).join(" "));
    orig(...args);
  };
}

let requests = 0;
const network = Network.create(async (params, variables) => {
  requests++;
  assert.equal(params.text, null, `${params.name} carries its text: persisted queries are off`);
  assert.ok(params.id, `${params.name} has no persisted id`);
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Token ${token}` },
    body: JSON.stringify({ doc_id: params.id, variables }),
  });
  const json = await res.json();
  assert.equal(res.status, 200, `${params.name}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
});
const store = new Store(new RecordSource());
const environment = new Environment({ network, store });

async function step(name, fn) {
  await fn();
  console.log(`ok - ${name}`);
}

const gid = (type, key) => Buffer.from(`${type}:${key}`).toString("base64url");
const record = (id) => store.getSource().get(id);
const connectionID = ConnectionHandler.getConnectionID("client:root", "BaseBrowser_dtables");
const connectionNames = () =>
  record(connectionID).edges.__refs.map((edge) => record(record(edge).node.__ref).name);

const BaseBrowserQuery = artifact("BaseBrowserQuery");
// Retained, as a mounted component would: the store keeps what it shows.
environment.retain(createOperationDescriptor(BaseBrowserQuery, { first: 10 }));

await step("the list query normalises workspaces and bases by global id", async () => {
  await fetchQuery(environment, BaseBrowserQuery, { first: 10 }).toPromise();
  assert.deepEqual(connectionNames(), ["he", "hello", "Team budget", "testing"]);
  const hello = record(gid("DTable", "b406b9ba-b74e-49c8-aa4e-5567076e5c25"));
  assert.equal(hello.__typename, "DTable");
  assert.equal(hello.starred, true);
  assert.equal(record(gid("Workspace", "1")).__typename, "Workspace");
  assert.equal(record(gid("Workspace", "1")).name, "personal");
});

await step("@refetchable fragments refetch a base and a workspace through node(id:)", async () => {
  const id = gid("DTable", "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a");
  const before = requests;
  // The data read is the fragment reference; the fields land in the store.
  const data = await fetchQuery(environment, artifact("DTableRowRefetchQuery"), { id }).toPromise();
  assert.ok(data.node, "node(id:) answered null");
  assert.equal(record(id).name, "testing");
  assert.equal(record(id).uuid, "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a");
  const ws = await fetchQuery(environment, artifact("WorkspaceSummaryRefetchQuery"), { id: gid("Workspace", "2") }).toPromise();
  assert.ok(ws.node, "node(id:) answered null");
  assert.equal(record(gid("Workspace", "2")).seatableId, "2");
  assert.equal(requests, before + 2);
});

function mutate(mutation, variables) {
  return new Promise((resolve, reject) =>
    commitMutation(environment, {
      mutation,
      variables,
      onCompleted: (data, errors) => (errors ? reject(new Error(JSON.stringify(errors))) : resolve(data)),
      onError: reject,
    }),
  );
}

let created;
await step("createDTable with @prependNode puts the new base first in the connection", async () => {
  const data = await mutate(artifact("BaseBrowserCreateMutation"), {
    input: { name: "Relay base", workspaceId: gid("Workspace", "1") },
    connections: [connectionID],
  });
  created = data.createDTable.dtable.id;
  assert.equal(record(created).name, "Relay base");
  assert.deepEqual(connectionNames(), ["Relay base", "he", "hello", "Team budget", "testing"]);
});

await step("deleteDTable with @deleteEdge removes the base from the connection", async () => {
  const uuid = record(created).uuid;
  const data = await mutate(artifact("BaseBrowserDeleteMutation"), { input: { uuid }, connections: [connectionID] });
  assert.equal(data.deleteDTable.deletedId, created);
  assert.deepEqual(connectionNames(), ["he", "hello", "Team budget", "testing"]);
});

assert.deepEqual(problems, [], "Relay reported problems");
console.log(`all checks passed (${requests} HTTP requests)`);
