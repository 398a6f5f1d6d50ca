package main

import _ "embed"

// schemaSDL is the schema the server is generated from, printed by
// -print-schema for client code generators and schema registries.
//
//go:embed schema.graphqls
var schemaSDL string
