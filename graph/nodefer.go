package graph

// No @defer. gqlparser declares @defer in its prelude, so every gqlgen schema
// advertises it; but the transports this server runs (GET, POST) answer in
// one response, and gqlgen's executor then sends the deferred fields as null
// with "hasNext": true and never the rest: Apollo Client shows the null as
// final data, urql's toPromise never settles. Until incremental delivery is
// served (gqlgen's MultipartMixed and SSE transports, tested with real
// clients), the directive is taken out of the schema: a document using it
// fails validation with "Unknown directive", introspection no longer lists
// it, and clients that check the schema (codegen, relay-compiler) refuse it
// at build time instead of at run time.
func init() {
	delete(parsedSchema.Directives, "defer")
}
