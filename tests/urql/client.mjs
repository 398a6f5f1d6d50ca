// Queries the server the way a frontend does with urql: @urql/core with the
// normalising cache of @urql/exchange-graphcache (default keys: __typename
// and id) and relayPagination for dtables. Every step asserts what the cache
// answers afterwards, read with requestPolicy "cache-only". Run by
// TestUrqlGraphcache (go test ./...), which starts the server against the
// fake SeaTable and sets:
//   GRAPHQL_URL     the server's /graphql URL
//   SEATABLE_TOKEN  a token the fake accepts, with the demo data
//   VIEWS_TOKEN     a token whose data has two views of one base shared into a group
import assert from "node:assert/strict";
import { Client, fetchExchange, gql } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";

const url = process.env.GRAPHQL_URL;
const token = process.env.SEATABLE_TOKEN;
assert.ok(url && token && process.env.VIEWS_TOKEN, "GRAPHQL_URL, SEATABLE_TOKEN and VIEWS_TOKEN must be set");

let requests = 0;
const warnings = [];
function newClient(tok) {
  return new Client({
    url,
    fetchOptions: { headers: { Authorization: `Token ${tok}` } },
    fetch: (...args) => {
      requests++;
      return fetch(...args);
    },
    exchanges: [
      cacheExchange({
        // Connections, edges, page info and payloads have no identity: they
        // are embedded in their parent, as graphcache expects.
        keys: {
          DTableConnection: () => null,
          DTableEdge: () => null,
          PageInfo: () => null,
          StarDTablePayload: () => null,
          UpdateDTablePayload: () => null,
          DeleteDTablePayload: () => null,
        },
        resolvers: { Query: { dtables: relayPagination() } },
        updates: {
          Mutation: {
            deleteDTable(result, _args, cache) {
              cache.invalidate({ __typename: "DTable", id: result.deleteDTable.deletedId });
            },
          },
        },
        logger: (severity, message) => {
          if (severity === "warn" || severity === "error") warnings.push(message);
        },
      }),
      fetchExchange,
    ],
  });
}

const client = newClient(token);

async function step(name, fn) {
  await fn();
  console.log(`ok - ${name}`);
}

const gid = (type, key) => Buffer.from(`${type}:${key}`).toString("base64url");
const he = "951b925d-0063-4fd2-96a8-7db3694a286f";
const hello = "b406b9ba-b74e-49c8-aa4e-5567076e5c25";

const Page = gql`
  query Page($after: String) {
    dtables(first: 2, after: $after) {
      edges { cursor node { id uuid name starred } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

await step("relayPagination merges two pages of dtables into one cached list", async () => {
  const first = await client.query(Page, {}).toPromise();
  assert.equal(first.error, undefined);
  assert.equal(first.data.dtables.edges.length, 2);
  assert.equal(first.data.dtables.pageInfo.hasNextPage, true);
  const second = await client.query(Page, { after: first.data.dtables.pageInfo.endCursor }).toPromise();
  assert.equal(second.error, undefined);
  const merged = second.data.dtables.edges.map((e) => e.node.name);
  assert.deepEqual(merged, ["he", "hello", "Team budget", "testing"]);
  const before = requests;
  const cached = await client.query(Page, {}, { requestPolicy: "cache-only" }).toPromise();
  assert.deepEqual(cached.data.dtables.edges.map((e) => e.node.id), [he, hello, "5b1e0c2d-7f3a-4e9b-8c6d-2a1f0e9d8c7b", "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a"].map((u) => gid("DTable", u)));
  assert.equal(requests, before);
});

await step("updateDTable's payload updates the base in every cached list", async () => {
  const res = await client
    .mutation(
      gql`
        mutation Rename($uuid: ID!) {
          updateDTable(input: { uuid: $uuid, newName: "he renamed" }) { dtable { id name } }
        }
      `,
      { uuid: he },
    )
    .toPromise();
  assert.equal(res.error, undefined);
  const cached = await client.query(Page, {}, { requestPolicy: "cache-only" }).toPromise();
  assert.equal(cached.data.dtables.edges[0].node.name, "he renamed");
});

await step("starDTable { dtable { id starred } } updates the cached base with one request", async () => {
  const before = requests;
  const res = await client
    .mutation(
      gql`
        mutation Star($uuid: ID!) {
          starDTable(input: { uuid: $uuid }) { dtable { id starred } }
        }
      `,
      { uuid: he },
    )
    .toPromise();
  assert.equal(res.error, undefined);
  assert.equal(requests, before + 1);
  const cached = await client.query(Page, {}, { requestPolicy: "cache-only" }).toPromise();
  assert.equal(cached.data.dtables.edges[0].node.starred, true);
});

await step("deleteDTable's deletedId invalidates the base", async () => {
  const One = gql`
    query One($uuid: ID!) { dtable(uuid: $uuid) { id name } }
  `;
  const read = await client.query(One, { uuid: he }).toPromise();
  assert.equal(read.data.dtable.name, "he renamed");
  const res = await client
    .mutation(
      gql`
        mutation Delete($uuid: ID!) {
          deleteDTable(input: { uuid: $uuid }) { deletedId }
        }
      `,
      { uuid: he },
    )
    .toPromise();
  assert.equal(res.error, undefined);
  assert.equal(res.data.deleteDTable.deletedId, gid("DTable", he));
  const cached = await client.query(One, { uuid: he }, { requestPolicy: "cache-only" }).toPromise();
  assert.equal(cached.data, null, "the deleted base is still answered from the cache");
});

await step("node(id:) answers a base by its global id", async () => {
  const res = await client
    .query(gql`query Node($id: ID!) { node(id: $id) { __typename id ... on DTable { uuid name } } }`, { id: gid("DTable", hello) })
    .toPromise();
  assert.equal(res.error, undefined);
  assert.deepEqual({ ...res.data.node }, { __typename: "DTable", id: gid("DTable", hello), uuid: hello, name: "hello" });
});

await step("two views of one base stay two entities in graphcache", async () => {
  const views = newClient(process.env.VIEWS_TOKEN);
  const Views = gql`
    query Views {
      workspaces { id groupSharedViews { id viewShareId sharedName dtable { id uuid name } } }
    }
  `;
  const res = await views.query(Views, {}).toPromise();
  assert.equal(res.error, undefined);
  const names = (data) => data.workspaces.flatMap((w) => w.groupSharedViews.map((v) => v.sharedName));
  assert.deepEqual(names(res.data), ["Open tickets", "Closed tickets"]);
  const cached = await views.query(Views, {}, { requestPolicy: "cache-only" }).toPromise();
  assert.deepEqual(names(cached.data), ["Open tickets", "Closed tickets"]);
  const bases = new Set(cached.data.workspaces.flatMap((w) => w.groupSharedViews.map((v) => v.dtable.id)));
  assert.equal(bases.size, 1);
});

await step("folders and their items have keys (no graphcache warnings)", async () => {
  const res = await client
    .query(gql`query Folders { workspaces { id folders { id seatableId name items { id itemType itemId } } } }`, {})
    .toPromise();
  assert.equal(res.error, undefined);
  const items = res.data.workspaces.flatMap((w) => w.folders.flatMap((f) => f.items));
  assert.ok(items.length > 0 && items.every((it) => it.id), "folder items without ids");
});

// urql stops reading a streamed answer at its last part (hasNext: false)
// and then aborts the fetch; when the end of the HTTP body has not arrived
// yet, Node's fetch rejects its pending read with an AbortError nobody
// awaits. That is the client tearing down after it has everything; any
// other unhandled rejection still fails the run.
let abortsAfterTheEnd = 0;
process.on("unhandledRejection", (err) => {
  if (err?.name === "AbortError") {
    abortsAfterTheEnd++;
    return;
  }
  throw err;
});

await step("@defer: toPromise settles with the deferred fragment, and the cache holds it", async () => {
  const Deferred = gql`
    query Deferred {
      workspace(id: "2") { id seatableId ... @defer { tables { id name } } }
    }
  `;
  // urql sends short queries by GET; streamed answers need a POST.
  const res = await client.query(Deferred, {}, { preferGetMethod: false }).toPromise();
  assert.equal(res.error, undefined);
  assert.equal(res.hasNext, false);
  assert.deepEqual(res.data.workspace.tables.map((t) => t.name), ["testing"]);
  const cached = await client.query(Deferred, {}, { requestPolicy: "cache-only" }).toPromise();
  assert.deepEqual(cached.data.workspace.tables.map((t) => t.name), ["testing"]);
});

assert.deepEqual(warnings, [], "graphcache warned");
console.log(`all checks passed (${requests} HTTP requests)`);
