// Package graph is the GraphQL layer: the generated executor, the resolvers
// and the error presenter. Resolvers never call SeaTable themselves: they read
// through the per-request loaders in graph/loaders.
package graph

//go:generate go tool gqlgen generate

// Resolver is the root resolver. It holds no per-request or per-user state;
// that lives in the loaders on the request context.
type Resolver struct{}
