// Runs Apollo Gateway over this server (SEATABLE_SUBGRAPH_URL) and the
// projects test subgraph (served here, on a free port), then sends the
// requests in REQUESTS (a JSON array of {authorization, query}) to the
// gateway and writes its answers, in order, to OUT_FILE. The gateway
// composes the supergraph from both subgraphs' `_service { sdl }`, forwards
// each client's Authorization to this server, and sends GATEWAY_SECRET (when
// set) in the Gateway-Secret header. Run by TestFederationGateway.
import { writeFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { projectList, schema } from "./projects.mjs";

const seatableURL = process.env.SEATABLE_SUBGRAPH_URL;
const secret = process.env.GATEWAY_SECRET ?? "";
const projects = projectList((process.env.PROJECT_UUIDS ?? "").split(",").filter(Boolean));

const subgraph = new ApolloServer({ schema: schema(projects) });
const { url: projectsURL } = await startStandaloneServer(subgraph, { listen: { port: 0, host: "127.0.0.1" } });

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: "seatable", url: seatableURL },
      { name: "projects", url: projectsURL },
    ],
    introspectionHeaders: secret ? { "Gateway-Secret": secret } : {},
  }),
  buildService: ({ name, url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        // Only to the SeaTable subgraph: a token goes nowhere else.
        if (name !== "seatable") return;
        if (context.authorization) request.http.headers.set("Authorization", context.authorization);
        if (secret) request.http.headers.set("Gateway-Secret", secret);
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url: gatewayURL } = await startStandaloneServer(server, {
  listen: { port: 0, host: "127.0.0.1" },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log("gateway at", gatewayURL, "over", seatableURL, "and", projectsURL);

const answers = [];
try {
  for (const r of JSON.parse(process.env.REQUESTS ?? "[]")) {
    const headers = { "Content-Type": "application/json" };
    if (r.authorization) headers.Authorization = r.authorization;
    const res = await fetch(gatewayURL, { method: "POST", headers, body: JSON.stringify({ query: r.query }) });
    const body = await res.json();
    console.log(res.status, JSON.stringify(body));
    answers.push({ status: res.status, body });
  }
} finally {
  writeFileSync(process.env.OUT_FILE, JSON.stringify(answers));
  await server.stop();
  await subgraph.stop();
}
