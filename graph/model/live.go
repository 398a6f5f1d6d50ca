package model

import "github.com/seatable-graphql/seatable-graphql/upstream"

// The subscription events carry the poll's answer or its error. Their data
// fields are resolvers (graph/subscriptions.go): they report Err as a field error,
// so one failed poll is one error in one event and the stream stays open.

// WorkspacesChangedEvent is one event of Subscription.workspacesChanged.
type WorkspacesChangedEvent struct {
	List *upstream.WorkspaceList
	Err  error
}

// DTablesChangedEvent is one event of Subscription.dtablesChanged.
type DTablesChangedEvent struct {
	Initial bool
	Changes *DTableChanges
	List    *upstream.WorkspaceList
	Err     error
}

// DTableChanges are the differences an event reports.
type DTableChanges struct {
	Added   []*upstream.DTable
	Updated []*upstream.DTable
	Removed []string
}

// DTableChangedEvent is one event of Subscription.dtableChanged.
type DTableChangedEvent struct {
	UUID   string
	DTable *upstream.DTable
	List   *upstream.WorkspaceList
	Err    error
}
