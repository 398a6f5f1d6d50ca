// urql with its default exchanges (cacheExchange, fetchExchange) sends
// "Accept: application/graphql-response+json, application/graphql+json,
// application/json, text/event-stream, multipart/mixed" with every request.
// Its queries and mutations must get one JSON answer, not an event stream,
// and must not need a subscription slot. Run by TestStreamsUrqlDefaultAccept,
// which holds the only slot (LIVE_MAX_CONNECTIONS=1) with a subscription
// while this runs, and sets GRAPHQL_URL and SEATABLE_TOKEN.
import assert from "node:assert/strict";
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";

const url = process.env.GRAPHQL_URL;
const token = process.env.SEATABLE_TOKEN;
assert.ok(url && token, "GRAPHQL_URL and SEATABLE_TOKEN must be set");

const answers = []; // [status, content-type, accept sent]
const client = new Client({
  url,
  exchanges: [cacheExchange, fetchExchange],
  fetchOptions: { headers: { Authorization: `Token ${token}` } },
  fetch: async (input, init) => {
    const res = await fetch(input, init);
    answers.push([res.status, res.headers.get("content-type"), new Headers(init.headers).get("accept")]);
    return res;
  },
});

const q = await client.query(gql`query Bases { workspaces { tables { uuid name } } }`, {}, { requestPolicy: "network-only" }).toPromise();
assert.equal(q.error, undefined, `query: ${q.error}`);
const base = q.data.workspaces.flatMap((w) => w.tables)[0];
assert.ok(base, "the account has a base");

const m = await client.mutation(gql`mutation Rename($uuid: ID!) { updateDTable(input: {uuid: $uuid, newName: "Renamed by urql"}) { dtable { name } } }`, { uuid: base.uuid }).toPromise();
assert.equal(m.error, undefined, `mutation: ${m.error}`);
assert.equal(m.data.updateDTable.dtable.name, "Renamed by urql");

const bad = await client.query(gql`query Bad { noSuchField }`, {}, { requestPolicy: "network-only" }).toPromise();
assert.ok(bad.error && /noSuchField/.test(bad.error.message), `validation error: ${bad.error}`);

console.log(JSON.stringify(answers));
assert.ok(answers[0][2].includes("text/event-stream"), `urql's Accept lists text/event-stream: ${answers[0][2]}`);
for (const [status, type] of answers) {
  assert.ok(!type.startsWith("text/event-stream"), `answered as an event stream: ${type}`);
}
assert.deepEqual(answers.map((a) => a[0]), [200, 200, 400], "GraphQL-over-HTTP status codes");
console.log("urql default exchanges: query, mutation and validation error answered once, as JSON");
