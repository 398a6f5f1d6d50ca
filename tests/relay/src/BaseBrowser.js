// A base browser's documents, as a Relay app writes them. Only
// relay-compiler reads this file (TestRelay compiles it against the
// server's printed schema); run.mjs executes the compiled artifacts.
import { graphql } from "relay-runtime";

export const query = graphql`
  query BaseBrowserQuery($first: Int!) {
    ...BaseBrowser_list @arguments(first: $first)
    workspaces {
      ...Workspace_summary
    }
  }
`;

export const list = graphql`
  fragment BaseBrowser_list on Query @argumentDefinitions(first: { type: "Int!" }) {
    dtables(first: $first) @connection(key: "BaseBrowser_dtables") {
      __id
      edges {
        node {
          id
          ...DTable_row
        }
      }
    }
  }
`;

export const row = graphql`
  fragment DTable_row on DTable @refetchable(queryName: "DTableRowRefetchQuery") {
    id
    uuid
    name
    starred
  }
`;

export const workspace = graphql`
  fragment Workspace_summary on Workspace @refetchable(queryName: "WorkspaceSummaryRefetchQuery") {
    id
    seatableId
    name
  }
`;

export const create = graphql`
  mutation BaseBrowserCreateMutation($input: CreateDTableInput!, $connections: [ID!]!) {
    createDTable(input: $input) {
      dtable @prependNode(connections: $connections, edgeTypeName: "DTableEdge") {
        id
        ...DTable_row
      }
    }
  }
`;

export const remove = graphql`
  mutation BaseBrowserDeleteMutation($input: DeleteDTableInput!, $connections: [ID!]!) {
    deleteDTable(input: $input) {
      deletedId @deleteEdge(connections: $connections)
    }
  }
`;
