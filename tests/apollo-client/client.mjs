// Queries the server the way a frontend does: Apollo Client with its
// normalising InMemoryCache over HttpLink (Node's own fetch). Checks that
// entities are normalised by __typename + id and that errors are read by
// extensions.code. Run by TestApolloClient (go test ./...), which starts the
// server against the fake SeaTable and sets:
//   GRAPHQL_URL     the server's /graphql URL
//   SEATABLE_TOKEN  a token the fake accepts; any other token gets a 401 upstream
import assert from "node:assert/strict";
import {
  ApolloClient,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
} from "@apollo/client";
import { Defer20220824Handler } from "@apollo/client/incremental";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { relayStylePagination } from "@apollo/client/utilities";

const url = process.env.GRAPHQL_URL;
const token = process.env.SEATABLE_TOKEN;
assert.ok(url && token, "GRAPHQL_URL and SEATABLE_TOKEN must be set");

let requests = 0;
function newClient(tok) {
  return new ApolloClient({
    link: new HttpLink({
      uri: url,
      headers: { Authorization: `Token ${tok}` },
      fetch: (...args) => {
        requests++;
        return fetch(...args);
      },
    }),
    cache: new InMemoryCache(),
  });
}

const client = newClient(token);

async function step(name, fn) {
  await fn();
  console.log(`ok - ${name}`);
}

// The server's global ids: opaque to applications, but their format is a
// stable contract (stored links and persisted caches rely on it).
const gid = (type, key) => Buffer.from(`${type}:${key}`).toString("base64url");
const ws = (seatableId) => `Workspace:${gid("Workspace", seatableId)}`;
const base = (uuid) => `DTable:${gid("DTable", uuid)}`;
const hello = "b406b9ba-b74e-49c8-aa4e-5567076e5c25";

await step("a list query normalises every workspace and base by __typename and global id", async () => {
  const { data, error } = await client.query({
    query: gql`
      query List {
        workspaces { id seatableId name type tables { id seatableId uuid name } }
      }
    `,
  });
  assert.equal(error, undefined);
  assert.deepEqual(
    data.workspaces.map((w) => `${w.__typename}:${w.id}`),
    ["starred", "shared", "1", "2"].map(ws),
  );
  assert.deepEqual(data.workspaces.map((w) => w.seatableId), ["starred", "shared", "1", "2"]);
  const cache = client.cache.extract();
  for (const key of ["starred", "shared", "1", "2"].map(ws)) {
    assert.ok(cache[key], `cache has no ${key}: ${Object.keys(cache)}`);
  }
  // "hello" is listed in the starred and in the personal workspace: one entity.
  const uuids = [...new Set(data.workspaces.flatMap((w) => w.tables.map((t) => t.uuid)))];
  assert.equal(uuids.length, 4);
  assert.deepEqual(
    Object.keys(cache).filter((k) => k.startsWith("DTable:")).sort(),
    uuids.map(base).sort(),
  );
  const personal = data.workspaces[2].tables;
  assert.deepEqual(cache[ws("1")].tables, personal.map((t) => ({ __ref: base(t.uuid) })));
  assert.deepEqual(cache[ws("starred")].tables, [{ __ref: base(hello) }]);
  assert.equal(cache[base(hello)].seatableId, "4"); // SeaTable's own id, kept apart
});

await step("a second query for the same workspace merges into the same cache entry", async () => {
  const { data } = await client.query({
    query: gql`
      query One($id: ID!) {
        workspace(id: $id) { id groupId isAdmin }
      }
    `,
    variables: { id: "2" }, // a seatableId is accepted as well as the global id
  });
  assert.equal(data.workspace.isAdmin, true);
  const id = client.cache.identify({ __typename: "Workspace", id: gid("Workspace", "2") });
  assert.equal(id, ws("2"));
  const entry = client.cache.extract()[id];
  assert.equal(entry.name, "group one"); // from the first query
  assert.equal(entry.groupId, "1"); // from the second
  assert.deepEqual(client.cache.extract().ROOT_QUERY['workspace({"id":"2"})'], { __ref: id });
});

await step("fields from both queries are read from the cache without a request", async () => {
  const before = requests;
  const { data } = await client.query({
    query: gql`
      query Merged {
        workspace(id: "2") { id name isAdmin tables { name } }
      }
    `,
    fetchPolicy: "cache-only",
  });
  assert.deepEqual(
    { name: data.workspace.name, isAdmin: data.workspace.isAdmin, tables: data.workspace.tables.map((t) => t.name) },
    { name: "group one", isAdmin: true, tables: ["testing"] },
  );
  assert.equal(requests, before, "cache-only read went to the network");
  const testing = "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a";
  const fragment = client.cache.readFragment({
    id: client.cache.identify({ __typename: "DTable", id: gid("DTable", testing) }),
    fragment: gql`fragment Base on DTable { uuid name }`,
  });
  assert.deepEqual(fragment, { __typename: "DTable", uuid: testing, name: "testing" });
});

await step("node(id:) reads a cached base again by its global id", async () => {
  const { data } = await client.query({
    query: gql`
      query Node($id: ID!) {
        node(id: $id) { id ... on DTable { uuid name starred } }
      }
    `,
    variables: { id: gid("DTable", hello) },
  });
  assert.deepEqual(data.node, { __typename: "DTable", id: gid("DTable", hello), uuid: hello, name: "hello", starred: true });
  assert.equal(client.cache.extract()[base(hello)].name, "hello");
});

await step("a malformed uuid is BAD_USER_INPUT in extensions.code", async () => {
  const { data, error } = await client.query({
    query: gql`
      query Bad {
        dtable(uuid: "not-a-uuid") { id name }
      }
    `,
    errorPolicy: "all",
  });
  assert.ok(CombinedGraphQLErrors.is(error), `want CombinedGraphQLErrors, got ${error}`);
  assert.deepEqual(error.errors.map((e) => e.extensions?.code), ["BAD_USER_INPUT"]);
  assert.deepEqual(error.errors[0].path, ["dtable"]);
  assert.equal(data.dtable, null);
});

await step("a token SeaTable rejects is UNAUTHENTICATED in extensions.code", async () => {
  await assert.rejects(
    newClient("not-a-valid-token").query({ query: gql`query Any { workspaces { id } }` }),
    (err) => {
      assert.ok(CombinedGraphQLErrors.is(err), `want CombinedGraphQLErrors, got ${err}`);
      assert.deepEqual(err.errors.map((e) => e.extensions?.code), ["UNAUTHENTICATED"]);
      assert.doesNotMatch(err.message, /not-a-valid-token/);
      return true;
    },
  );
});

const he = "951b925d-0063-4fd2-96a8-7db3694a286f";

await step("updateDTable's payload updates the cached base in every list", async () => {
  const { data } = await client.mutate({
    mutation: gql`
      mutation Rename($uuid: ID!) {
        updateDTable(input: { uuid: $uuid, newName: "hello renamed" }) { dtable { id name } }
      }
    `,
    variables: { uuid: hello },
  });
  assert.equal(data.updateDTable.dtable.name, "hello renamed");
  const cached = await client.query({
    query: gql`
      query List {
        workspaces { id seatableId name type tables { id seatableId uuid name } }
      }
    `,
    fetchPolicy: "cache-only",
  });
  // Listed in the starred and in the personal workspace: renamed in both.
  assert.deepEqual(cached.data.workspaces[0].tables.map((t) => t.name), ["hello renamed"]);
  assert.ok(cached.data.workspaces[2].tables.some((t) => t.name === "hello renamed"));
  await client.mutate({
    mutation: gql`mutation Back($uuid: ID!) { updateDTable(input: { uuid: $uuid, newName: "hello" }) { dtable { id name } } }`,
    variables: { uuid: hello },
  });
});

await step("starDTable { dtable { id starred } } updates the cached base in place", async () => {
  await client.query({ query: gql`query He { dtable(uuid: "${he}") { id name starred } }` });
  assert.equal(client.cache.extract()[base(he)].starred, false);
  const before = requests;
  const { data } = await client.mutate({
    mutation: gql`
      mutation Star($uuid: ID!) {
        starDTable(input: { uuid: $uuid }) { dtable { id starred } }
      }
    `,
    variables: { uuid: he },
  });
  assert.equal(data.starDTable.dtable.starred, true);
  assert.equal(requests, before + 1);
  assert.equal(client.cache.extract()[base(he)].starred, true);
  const cached = await client.query({ query: gql`query He { dtable(uuid: "${he}") { id name starred } }`, fetchPolicy: "cache-only" });
  assert.deepEqual({ name: cached.data.dtable.name, starred: cached.data.dtable.starred }, { name: "he", starred: true });
});

await step("deleteDTable's deletedId evicts the base from the cache", async () => {
  await client.mutate({
    mutation: gql`
      mutation Delete($uuid: ID!) {
        deleteDTable(input: { uuid: $uuid }) { deletedId }
      }
    `,
    variables: { uuid: he },
    update(cache, { data }) {
      cache.evict({ id: cache.identify({ __typename: "DTable", id: data.deleteDTable.deletedId }) });
      cache.gc();
    },
  });
  const cache = client.cache.extract();
  assert.equal(cache[base(he)], undefined, "the deleted base is still cached");
  // Lists read from the cache no longer show it (Apollo drops dangling references).
  const { data } = await client.query({
    query: gql`
      query List {
        workspaces { id seatableId name type tables { id seatableId uuid name } }
      }
    `,
    fetchPolicy: "cache-only",
  });
  assert.deepEqual(data.workspaces[2].tables.map((t) => t.uuid), [hello]);
});

await step("BatchHttpLink sends three queries in one request and gets three answers", async () => {
  let batchRequests = 0;
  const batched = new ApolloClient({
    link: new BatchHttpLink({
      uri: url,
      headers: { Authorization: `Token ${token}` },
      batchMax: 10,
      batchInterval: 20,
      fetch: (...args) => {
        batchRequests++;
        return fetch(...args);
      },
    }),
    cache: new InMemoryCache(),
  });
  const [a, b, c] = await Promise.all([
    batched.query({ query: gql`query A { workspaces { id seatableId } }` }),
    batched.query({ query: gql`query B { dtable(uuid: "${hello}") { id name } }` }),
    batched.query({ query: gql`query C { dtable(uuid: "not-a-uuid") { id } }`, errorPolicy: "all" }),
  ]);
  assert.equal(batchRequests, 1);
  assert.deepEqual(a.data.workspaces.map((w) => w.seatableId), ["starred", "shared", "1", "2"]);
  assert.equal(b.data.dtable.name, "hello");
  assert.ok(CombinedGraphQLErrors.is(c.error), `want CombinedGraphQLErrors, got ${c.error}`);
  assert.deepEqual(c.error.errors.map((e) => e.extensions?.code), ["BAD_USER_INPUT"]);
  assert.ok(batched.cache.extract()[base(hello)], "the batched answer was not normalised");
});

await step("two views of one base are two cache entries, and their base one", async () => {
  const views = newClient(process.env.VIEWS_TOKEN);
  const { data } = await views.query({
    query: gql`
      query Views {
        workspaces { id groupSharedViews { id viewShareId sharedName dtable { id uuid name } } }
      }
    `,
  });
  const list = data.workspaces.flatMap((w) => w.groupSharedViews);
  assert.deepEqual(list.map((v) => v.sharedName), ["Open tickets", "Closed tickets"]);
  const cache = views.cache.extract();
  const viewKeys = Object.keys(cache).filter((k) => k.startsWith("GroupSharedView:"));
  assert.equal(viewKeys.length, 2);
  assert.deepEqual(viewKeys.map((k) => cache[k].sharedName).sort(), ["Closed tickets", "Open tickets"]);
  const tickets = base("d4c3b2a1-0f9e-4d8c-b7a6-958473625140");
  assert.deepEqual(Object.keys(cache).filter((k) => k.startsWith("DTable:")), [tickets]);
  assert.equal(cache[tickets].sharedName, undefined, "a view's field leaked onto its base");
});

await step("relayStylePagination merges two pages of dtables into one cached list", async () => {
  const paged = new ApolloClient({
    link: new HttpLink({ uri: url, headers: { Authorization: `Token ${token}` } }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { dtables: relayStylePagination(["filter", "orderBy"]) } } } }),
  });
  const Page = gql`
    query Page($after: String) {
      dtables(first: 2, after: $after) {
        edges { cursor node { id uuid name } }
        pageInfo { hasNextPage endCursor }
      }
    }
  `;
  const first = await paged.query({ query: Page });
  assert.equal(first.data.dtables.pageInfo.hasNextPage, true);
  // As fetchMore does: the next page from the network, merged by the policy.
  await paged.query({ query: Page, variables: { after: first.data.dtables.pageInfo.endCursor }, fetchPolicy: "network-only" });
  const merged = await paged.query({ query: Page, fetchPolicy: "cache-only" });
  assert.deepEqual(merged.data.dtables.edges.map((e) => e.node.name), ["hello", "Team budget", "testing"]);
});

await step("@defer: the deferred fragment arrives and completes the cached data", async () => {
  const deferring = new ApolloClient({
    link: new HttpLink({ uri: url, headers: { Authorization: `Token ${token}` } }),
    cache: new InMemoryCache(),
    incrementalHandler: new Defer20220824Handler(),
  });
  const Deferred = gql`
    query Deferred {
      workspace(id: "2") { id seatableId ... @defer { tables { id name } } }
    }
  `;
  const { data, error } = await deferring.query({ query: Deferred });
  assert.equal(error, undefined);
  assert.deepEqual(data.workspace.tables.map((t) => t.name), ["testing"]);
  const cached = await deferring.query({ query: Deferred, fetchPolicy: "cache-only" });
  assert.deepEqual(cached.data.workspace.tables.map((t) => t.name), ["testing"]);
});

console.log(`all checks passed (${requests} HTTP requests)`);
