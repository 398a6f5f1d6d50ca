package model

// Node is what `node(id:)` returns: any object of a type implementing the
// schema's Node interface. It is an empty interface because most of those
// types are upstream's models, which know nothing of global ids; the
// generated code switches on the concrete type.
type Node interface{}

// FolderItem is one entry of a folder, with the global id made from its
// folder's identity and its own (upstream's entry has neither).
type FolderItem struct {
	ID       string
	ItemType string
	ItemID   string
}
