// Pages through a table's rows the way a frontend does: Apollo Client's
// watchQuery + fetchMore with relayStylePagination merging the pages of
// Table.rows (keyed by its view argument) into one cached connection. Run by
// TestApolloClientPagesRows (go test ./app), which starts the server against
// the fake SeaTable and sets:
//   GRAPHQL_URL     the server's /graphql URL
//   SEATABLE_TOKEN  a token the fake accepts
//   BASE_UUID       a base the token can open
//   WANT_ROWS       how many rows the base's "Projects" table has
import assert from "node:assert/strict";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { relayStylePagination } from "@apollo/client/utilities";
import { filter, firstValueFrom } from "rxjs";

const { GRAPHQL_URL: url, SEATABLE_TOKEN: token, BASE_UUID: uuid } = process.env;
const wantRows = Number(process.env.WANT_ROWS);
assert.ok(url && token && uuid && wantRows > 0, "GRAPHQL_URL, SEATABLE_TOKEN, BASE_UUID and WANT_ROWS must be set");

let requests = 0;
const client = new ApolloClient({
  link: new HttpLink({
    uri: url,
    headers: { Authorization: `Token ${token}` },
    fetch: (...args) => {
      requests++;
      return fetch(...args);
    },
  }),
  cache: new InMemoryCache({
    typePolicies: { Table: { fields: { rows: relayStylePagination(["view"]) } } },
  }),
});

const Rows = gql`
  query Rows($uuid: ID!, $view: String, $after: String) {
    dtable(uuid: $uuid) {
      id
      table(name: "Projects") {
        id
        name
        rows(view: $view, first: 10, after: $after) {
          edges { cursor node { id seatableId values name: cell(column: "Name") } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
  }
`;

async function pageAll(view) {
  const obs = client.watchQuery({ query: Rows, variables: { uuid, view } });
  const ready = (o) => firstValueFrom(o.pipe(filter((r) => r.dataState === "complete" && !r.loading)));
  const sub = obs.subscribe(() => {});
  try {
    let page = (await ready(obs)).data.dtable.table.rows;
    let pages = 1;
    while (page.pageInfo.hasNextPage) {
      // fetchMore answers with the new page; the policy merges it into the
      // query's cached connection.
      page = (await obs.fetchMore({ variables: { after: page.pageInfo.endCursor } })).data.dtable.table.rows;
      pages++;
      assert.ok(pages < 20, "paging does not end");
    }
    const merged = await client.query({ query: Rows, variables: { uuid, view }, fetchPolicy: "cache-only" });
    return { rows: merged.data.dtable.table.rows, pages };
  } finally {
    sub.unsubscribe();
  }
}

const all = await pageAll(undefined);
assert.equal(all.rows.edges.length, wantRows, "every row once, merged into one list");
assert.equal(all.pages, Math.ceil(wantRows / 10));
const ids = all.rows.edges.map((e) => e.node.seatableId);
assert.equal(new Set(ids).size, wantRows, "no row twice");
assert.equal(all.rows.edges[0].node.name, "Project 1");
assert.equal(all.rows.edges[0].node.values.Name, "Project 1");
console.log(`ok - paged ${wantRows} rows in ${all.pages} pages`);

// Rows are normalised entities under their global ids.
const cache = client.cache.extract();
const rowKeys = Object.keys(cache).filter((k) => k.startsWith("Row:"));
assert.equal(rowKeys.length, wantRows);
console.log("ok - rows are cached as entities by __typename and id");

// A view's rows are a connection of their own (relayStylePagination keyed by view).
const inProgress = await pageAll("In progress");
assert.ok(inProgress.rows.edges.length > 0 && inProgress.rows.edges.length < wantRows);
for (const e of inProgress.rows.edges) assert.equal(e.node.values.Status, "In progress");
const again = await client.query({ query: Rows, variables: { uuid }, fetchPolicy: "cache-only" });
assert.equal(again.data.dtable.table.rows.edges.length, wantRows, "the view's pages did not touch the table's");
console.log(`ok - the view "In progress" pages apart (${inProgress.rows.edges.length} rows)`);

console.log(`all checks passed (${requests} HTTP requests)`);
