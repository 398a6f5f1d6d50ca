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

await step("a list query normalises every workspace and base by __typename and id", async () => {
  const { data, error } = await client.query({
    query: gql`
      query List {
        workspaces { id name type tables { id uuid name } }
      }
    `,
  });
  assert.equal(error, undefined);
  assert.deepEqual(
    data.workspaces.map((w) => `${w.__typename}:${w.id}`),
    ["Workspace:starred", "Workspace:shared", "Workspace:1", "Workspace:2"],
  );
  const cache = client.cache.extract();
  for (const key of ["Workspace:starred", "Workspace:shared", "Workspace:1", "Workspace:2"]) {
    assert.ok(cache[key], `cache has no ${key}: ${Object.keys(cache)}`);
  }
  // "hello" is listed in the starred and in the personal workspace: one entity.
  assert.deepEqual(
    Object.keys(cache).filter((k) => k.startsWith("DTable:")).sort(),
    ["DTable:3", "DTable:4", "DTable:5", "DTable:9"],
  );
  assert.deepEqual(cache["Workspace:1"].tables, [{ __ref: "DTable:3" }, { __ref: "DTable:4" }]);
  assert.deepEqual(cache["Workspace:starred"].tables, [{ __ref: "DTable:4" }]);
});

await step("a second query for the same workspace merges into the same cache entry", async () => {
  const { data } = await client.query({
    query: gql`
      query One($id: ID!) {
        workspace(id: $id) { id groupId isAdmin }
      }
    `,
    variables: { id: "2" },
  });
  assert.equal(data.workspace.isAdmin, true);
  const id = client.cache.identify({ __typename: "Workspace", id: "2" });
  assert.equal(id, "Workspace:2");
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
  const fragment = client.cache.readFragment({
    id: client.cache.identify({ __typename: "DTable", id: "5" }),
    fragment: gql`fragment Base on DTable { uuid name }`,
  });
  assert.deepEqual(fragment, { __typename: "DTable", uuid: "3a4f848c-5fc9-4cc8-bbda-96d7d49a944a", name: "testing" });
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

console.log(`all checks passed (${requests} HTTP requests)`);
