// Composes this server's subgraph (its `_service { sdl }`, read from
// SEATABLE_SUBGRAPH_URL) with the projects test subgraph, with The Guild's
// and Apollo's composition. Exits non-zero on any composition error, or on
// an Apollo hint not listed in ALLOWED_HINTS; writes the supergraph SDL of
// each to OUT_DIR/<tool>.graphql. Run by TestFederationComposition.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "graphql";
import { composeServices as apolloCompose } from "@apollo/composition";
import { composeServices as guildCompose } from "@theguild/federation-composition";
import { typeDefs as projectsTypeDefs } from "./projects.mjs";

const url = process.env.SEATABLE_SUBGRAPH_URL;
const headers = { "Content-Type": "application/json" };
if (process.env.GATEWAY_SECRET) headers["Gateway-Secret"] = process.env.GATEWAY_SECRET;
const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query: "{ _service { sdl } }" }) });
const body = await res.json();
if (!body.data?._service?.sdl) {
  console.error("no SDL from", url, res.status, JSON.stringify(body));
  process.exit(1);
}
const services = [
  { name: "seatable", url, typeDefs: parse(body.data._service.sdl) },
  { name: "projects", url: "http://projects.invalid/graphql", typeDefs: projectsTypeDefs },
];

// Hints that do not matter: none so far. A hint names a composition choice
// worth a look (e.g. an inconsistent field); list its code here only with
// a reason.
const allowedHints = new Set((process.env.ALLOWED_HINTS ?? "").split(",").filter(Boolean));
let failed = false;

const apollo = apolloCompose(services);
if (apollo.errors) {
  for (const e of apollo.errors) console.error("apollo composition error:", e.message);
  failed = true;
} else {
  for (const h of apollo.hints) {
    const code = h.definition?.code ?? "UNKNOWN";
    console.log(`apollo hint ${code}: ${h.message}`);
    if (!allowedHints.has(code)) failed = true;
  }
  writeFileSync(join(process.env.OUT_DIR, "apollo.graphql"), apollo.supergraphSdl);
  console.log(`apollo: composed, ${apollo.hints.length} hints`);
}

const guild = guildCompose(services);
if (guild.errors) {
  for (const e of guild.errors) console.error("guild composition error:", e.message);
  failed = true;
} else {
  writeFileSync(join(process.env.OUT_DIR, "guild.graphql"), guild.supergraphSdl);
  console.log("guild: composed");
}
process.exit(failed ? 1 : 0);
