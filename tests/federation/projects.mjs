// The "projects" test subgraph: it stores a base uuid per project,
// references DTable by its uuid key, and adds a field to DTable
// (DTable.projects). Used by compose.mjs (its SDL) and gateway.mjs (served).
import { parse } from "graphql";
import { buildSubgraphSchema } from "@apollo/subgraph";

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    "Every project."
    projects: [Project!]!
  }

  "A project, kept by another service, that works in one SeaTable base."
  type Project @key(fields: "id") {
    id: ID!
    name: String!
    "The project's base, completed by the SeaTable subgraph."
    dtable: DTable
  }

  # A SeaTable base, owned by the SeaTable subgraph; this subgraph adds
  # projects. (No description: the SeaTable subgraph's is the one to keep,
  # and two would make a composition hint.)
  type DTable @key(fields: "uuid") {
    uuid: ID!
    "The projects working in this base."
    projects: [Project!]!
  }
`);

// projectList pairs project names with base uuids (PROJECT_UUIDS, comma
// separated, set by the Go test to uuids of the fake SeaTable's bases).
export function projectList(uuids) {
  return uuids.map((uuid, i) => ({ id: `p${i + 1}`, name: `Project ${i + 1}`, uuid }));
}

export function schema(projects) {
  const resolvers = {
    Query: { projects: () => projects },
    Project: {
      __resolveReference: (ref) => projects.find((p) => p.id === ref.id) ?? null,
      dtable: (p) => ({ __typename: "DTable", uuid: p.uuid }),
    },
    DTable: {
      projects: (d) => projects.filter((p) => p.uuid.replaceAll("-", "") === String(d.uuid).replaceAll("-", "")),
    },
  };
  return buildSubgraphSchema([{ typeDefs, resolvers }]);
}
