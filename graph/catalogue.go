package graph

// The field catalogue: what the graph layer knows about each schema field,
// said once. Every part that treats fields differently reads it here:
//   - the fast path (fastpath.go) writes a field with its writer, or leaves
//     every query selecting it to gqlgen's executor;
//   - the read shape of an operation (readsOf, below), worked out once per
//     document beside its plan: whether SeaTable's detail=false list serves
//     it, which optional base fields the decoder must fill (upstream.Fields),
//     and whether its answer may be replayed while the list is current
//     (replayable.go);
//   - the complexity limit prices lists by their cost (costedSchema).
//
// Each part's zero value is the safe one: no writer is the executor, an
// unknown source reads the whole list decoded in full and is never
// replayed, no cost is 1 plus the children. TestCatalogueCoversTheSchema
// fails, naming the field, for a schema field without an entry (and for an
// entry the schema lacks), so a new field is thought about once, here.

import (
	"context"
	"reflect"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/dtablequery"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// entry is what the catalogue says about one schema field.
type entry struct {
	// write is how the fast path writes it; nil leaves every query
	// selecting it to gqlgen's executor. The object type of its selection,
	// if any, comes from the schema.
	write fieldWriter
	// args is the generated coercion of its arguments: the fast path
	// coerces constant ones once, and argument-priced costs read them.
	args argCoercer
	// from is where its value comes from.
	from source
	// needs are, for a listed field, the optional base fields it shows;
	// argNeeds what its arguments read when any is given (a filter or
	// order over bases). A missing bit shows null where the value is: the
	// fast-path differential tests catch it, since their reference server
	// decodes every field.
	needs, argNeeds upstream.Fields
	// cost prices it for the complexity limit.
	cost cost
	// replay marks a Query field whose answer is a function of the
	// workspace list alone: an operation made of these, selecting only
	// listed fields below them, may be replayed for as long as the same
	// list is current (replayable.go).
	replay bool
}

// argCoercer is a generated field_<Type>_<field>_args method.
type argCoercer func(ec *executionContext, ctx context.Context, raw map[string]any) (map[string]any, error)

// source is where a field's value comes from.
type source uint8

const (
	// unknown: what the catalogue cannot say (mutations, subscriptions,
	// federation, node): the list is read with base lists and decoded in
	// full, and the answer is never replayed.
	unknown source = iota
	// summary: SeaTable's detail=false list carries it, which is much
	// cheaper than the list with every base.
	summary
	// listed: the detail=true workspace list carries it; needs says which
	// optional base fields it shows.
	listed
	// inBase: read from a base's own server, never from the list (tables,
	// rows); the list is read in full.
	inBase
)

// cost is how the complexity limit prices a field (costedSchema).
type cost struct {
	kind costKind
	// arg is the list argument whose length multiplies (byCount).
	arg string
	// def and most are a page's default and largest size (byPage).
	def, most int
}

type costKind uint8

const (
	// costDefault: 1 plus its children, like any field.
	costDefault costKind = iota
	// costFlat: a list priced as one element, 1 plus its children: its
	// length is bounded elsewhere (by the page holding it, the base's
	// metadata, the event that carries it).
	costFlat
	// costList: a list SeaTable sends whole, its length unknown before the
	// read: 1 plus ListSize times its children.
	costList
	// costCount: 1 plus its children once per element of argument arg,
	// whose length is known before anything runs.
	costCount
	// costPage: 1 plus its children times the page size its first or last
	// argument asks for (def when absent, at most most).
	costPage
)

var (
	flat       = cost{kind: costFlat}
	perElement = cost{kind: costList}
)

func byCount(arg string) cost   { return cost{kind: costCount, arg: arg} }
func byPage(def, most int) cost { return cost{kind: costPage, def: def, most: most} }
func (c cost) readsArgs() bool  { return c.kind == costCount || c.kind == costPage }

// price is what c makes a field cost, given one element's cost (child), the
// assumed length of a whole list (n) and the coerced arguments.
func (c cost) price(child, n int, args map[string]any) int {
	switch c.kind {
	case costList:
		return 1 + n*child
	case costCount:
		v := reflect.ValueOf(args[c.arg])
		if v.Kind() != reflect.Slice {
			return 1 + child
		}
		return 1 + v.Len()*child
	case costPage:
		size := c.def
		if first, _ := args["first"].(*int); first != nil {
			size = *first
		} else if last, _ := args["last"].(*int); last != nil {
			size = *last
		}
		// Out-of-range sizes are rejected by the resolver; cap the cost
		// here so the limit check stays meaningful.
		return 1 + min(max(size, 1), c.most)*child
	}
	return 1 + child
}

// costedSchema is the generated schema with the catalogue's costs: list
// fields cost their children times n (ListSize), because SeaTable sends
// whole lists and a query's work grows with what it asks of each element;
// pages and counted arguments cost their children times their size. Every
// other field costs what the generated code says: 1 plus its children.
type costedSchema struct {
	*executableSchema
	n int
}

func (s costedSchema) Complexity(ctx context.Context, typeName, name string, child int, raw map[string]any) (int, bool) {
	e := lookup(typeName, name)
	if e == nil || (e.cost.kind != costList && !e.cost.readsArgs()) {
		return s.executableSchema.Complexity(ctx, typeName, name, child, raw)
	}
	var args map[string]any
	if e.cost.readsArgs() {
		var err error
		if args, err = e.args(newExecutionContext(nil, s.executableSchema, nil), ctx, raw); err != nil {
			return 0, false // as the generated code: the executor reports it
		}
	}
	return e.cost.price(child, s.n, args), true
}

// catalogue is every object field of the schema, by "Type.field"
// (introspection's own types and fields aside). __typename is every type's
// and needs no entry.
var catalogue = map[string]entry{
	"Query.node":  {from: unknown},
	"Query.nodes": {from: unknown, args: (*executionContext).field_Query_nodes_args, cost: byCount("ids")},
	"Query.workspaces": {write: writeQueryWorkspaces, args: (*executionContext).field_Query_workspaces_args,
		from: summary, cost: perElement, replay: true},
	"Query.workspace": {write: writeQueryWorkspace, args: (*executionContext).field_Query_workspace_args, from: summary, replay: true},
	"Query.dtable": {write: writeQueryDTable, args: (*executionContext).field_Query_dtable_args,
		from: listed, needs: upstream.AllFields, replay: true},
	"Query.dtables": {write: writeQueryDTables, args: (*executionContext).field_Query_dtables_args,
		from: listed, needs: upstream.AllFields, cost: byPage(dtablequery.DefaultPageSize, dtablequery.MaxPageSize)},
	"Query.dtableByName": {write: writeQueryDTableByName, args: (*executionContext).field_Query_dtableByName_args,
		from: listed, needs: upstream.AllFields},
	"Query.starredDTables": {write: writeQueryStarred, from: listed, needs: upstream.AllFields, cost: perElement},
	// A gateway's _entities call costs what the same objects cost read one
	// by one: its children once per representation.
	"Query._entities": {from: unknown, args: (*executionContext).field_Query__entities_args, cost: byCount("representations")},
	"Query._service":  {from: unknown},

	"Mutation.createDTable": {}, "Mutation.updateDTable": {}, "Mutation.deleteDTable": {},
	"Mutation.copyDTable": {}, "Mutation.starDTable": {}, "Mutation.unstarDTable": {},
	"CreateDTablePayload.dtable": {}, "CreateDTablePayload.edge": {},
	"UpdateDTablePayload.dtable":    {},
	"DeleteDTablePayload.deletedId": {}, "DeleteDTablePayload.uuid": {}, "DeleteDTablePayload.name": {}, "DeleteDTablePayload.workspaceId": {},
	"CopyDTablePayload.dtable": {},
	"StarDTablePayload.uuid":   {}, "StarDTablePayload.starred": {}, "StarDTablePayload.dtable": {},

	// Events are written from the values stream() sends (subscriptions.go).
	"Subscription.workspacesChanged": {write: writeEventRoot}, "Subscription.dtablesChanged": {write: writeEventRoot, args: (*executionContext).field_Subscription_dtablesChanged_args},
	"Subscription.dtableChanged":        {write: writeEventRoot, args: (*executionContext).field_Subscription_dtableChanged_args},
	"WorkspacesChangedEvent.workspaces": {write: typed(writeWorkspacesEventList), cost: flat},
	"DTablesChangedEvent.initial":       {write: typed(writeDTablesEventInitial)},
	"DTablesChangedEvent.changes":       {write: typed(writeDTablesEventChanges)},
	"DTableChanges.added":               {write: typed(writeChangesAdded), cost: flat},
	"DTableChanges.updated":             {write: typed(writeChangesUpdated), cost: flat},
	"DTableChanges.removed":             {write: typed(writeChangesRemoved), cost: flat},
	"DTableChangedEvent.uuid":           {write: typed(writeDTableEventUUID)},
	"DTableChangedEvent.dtable":         {write: typed(writeDTableEventDTable)},

	"Workspace.id":         {write: wsString(workspaceGlobalID), from: summary},
	"Workspace.seatableId": {write: wsString(func(w *upstream.Workspace) string { return w.ID }), from: summary},
	"Workspace.type":       {write: writeWorkspaceType, from: summary},
	"Workspace.name":       {write: wsString(func(w *upstream.Workspace) string { return w.Name }), from: summary},
	"Workspace.ownerName":  {write: wsOptString(func(w *upstream.Workspace) *string { return w.OwnerName }), from: summary},
	"Workspace.repoId":     {write: wsOptString(func(w *upstream.Workspace) *string { return w.RepoID }), from: summary},
	"Workspace.groupId":    {write: wsOptString(func(w *upstream.Workspace) *string { return w.GroupID }), from: summary},
	"Workspace.groupOwner": {write: wsOptString(func(w *upstream.Workspace) *string { return w.GroupOwner }), from: summary},
	// Scalars, priced as one: they read no base.
	"Workspace.groupAdmins":      {write: writeGroupAdmins, from: listed, cost: flat},
	"Workspace.groupMemberCount": {write: writeGroupMemberCount, from: listed},
	"Workspace.isAdmin":          {write: wsOptBool(func(w *upstream.Workspace) *bool { return w.IsAdmin }), from: summary},
	"Workspace.departmentId":     {write: wsOptString(func(w *upstream.Workspace) *string { return w.DepartmentID }), from: summary},
	"Workspace.tables": {write: writeWorkspaceTables, args: (*executionContext).field_Workspace_tables_args,
		from: listed, argNeeds: upstream.AllFields, cost: perElement},
	"Workspace.folders":           {write: wsList(func(w *upstream.Workspace) []*upstream.Folder { return w.Folders }), from: listed, cost: perElement},
	"Workspace.sharedViews":       {write: wsList(func(w *upstream.Workspace) []*upstream.SharedView { return w.SharedViews }), from: listed, cost: perElement},
	"Workspace.groupSharedTables": {write: writeGroupSharedTables, from: listed, cost: perElement},
	"Workspace.groupSharedViews":  {write: writeGroupSharedViews, from: listed, cost: perElement},
	"Workspace.shareFolders":      {write: wsList(func(w *upstream.Workspace) []*upstream.ShareFolder { return w.ShareFolders }), from: listed, cost: perElement},

	"DTable.id":             {write: dtString(dtableGlobalID), from: listed},
	"DTable.seatableId":     {write: writeDTableSeatableID, from: listed},
	"DTable.uuid":           {write: dtString(func(d *upstream.DTable) string { return d.UUID }), from: listed},
	"DTable.name":           {write: dtString(func(d *upstream.DTable) string { return d.Name }), from: listed},
	"DTable.workspaceId":    {write: dtString(func(d *upstream.DTable) string { return d.WorkspaceID }), from: listed},
	"DTable.workspace":      {write: writeDTableWorkspace, from: listed},
	"DTable.createdAt":      {write: dtTime(func(d *upstream.DTable) *time.Time { return d.CreatedAt }), from: listed, needs: upstream.FieldCreatedAt},
	"DTable.updatedAt":      {write: dtTime(func(d *upstream.DTable) *time.Time { return d.UpdatedAt }), from: listed, needs: upstream.FieldUpdatedAt},
	"DTable.creator":        {write: dtOptString(func(d *upstream.DTable) *string { return d.Creator }), from: listed, needs: upstream.FieldCreator},
	"DTable.modifier":       {write: dtOptString(func(d *upstream.DTable) *string { return d.Modifier }), from: listed, needs: upstream.FieldModifier},
	"DTable.color":          {write: dtOptString(func(d *upstream.DTable) *string { return d.Color }), from: listed, needs: upstream.FieldColor},
	"DTable.textColor":      {write: dtOptString(func(d *upstream.DTable) *string { return d.TextColor }), from: listed, needs: upstream.FieldTextColor},
	"DTable.icon":           {write: dtOptString(func(d *upstream.DTable) *string { return d.Icon }), from: listed, needs: upstream.FieldIcon},
	"DTable.starred":        {write: writeDTableStarred, from: listed},
	"DTable.isEncrypted":    {write: dtOptBool(func(d *upstream.DTable) *bool { return d.IsEncrypted }), from: listed, needs: upstream.FieldIsEncrypted},
	"DTable.inStorage":      {write: dtOptBool(func(d *upstream.DTable) *bool { return d.InStorage }), from: listed, needs: upstream.FieldInStorage},
	"DTable.folder":         {write: writeDTableFolder, from: listed},
	"DTable.permission":     {write: dtOptString(func(d *upstream.DTable) *string { return d.Permission }), from: listed, needs: upstream.FieldShare},
	"DTable.fromUser":       {write: dtOptString(func(d *upstream.DTable) *string { return d.FromUser }), from: listed, needs: upstream.FieldShare},
	"DTable.fromUserName":   {write: dtOptString(func(d *upstream.DTable) *string { return d.FromUserName }), from: listed, needs: upstream.FieldShare},
	"DTable.fromUserAvatar": {write: dtOptString(func(d *upstream.DTable) *string { return d.FromUserAvatar }), from: listed, needs: upstream.FieldShare},
	"DTable.fromGroupId":    {write: dtOptString(func(d *upstream.DTable) *string { return d.FromGroupID }), from: listed, needs: upstream.FieldShare},
	"DTable.fromGroupName":  {write: dtOptString(func(d *upstream.DTable) *string { return d.FromGroupName }), from: listed, needs: upstream.FieldShare},
	"DTable.shareId":        {write: dtOptString(func(d *upstream.DTable) *string { return d.ShareID }), from: listed, needs: upstream.FieldShare},
	"DTable.shareType":      {write: dtOptString(func(d *upstream.DTable) *string { return d.ShareType }), from: listed, needs: upstream.FieldShare},
	// Inside the base: read live. Columns and views come with the
	// metadata, at no extra read: they cost 1 plus their children.
	"DTable.tables": {from: inBase, cost: perElement},
	"DTable.table":  {from: inBase},

	"Folder.id":          {write: writeFolderID, from: listed},
	"Folder.seatableId":  {write: typed(func(r *runState, f *fieldPlan, o *upstream.Folder) bool { r.str(o.ID); return true }), from: listed},
	"Folder.name":        {write: typed(func(r *runState, f *fieldPlan, o *upstream.Folder) bool { r.str(o.Name); return true }), from: listed},
	"Folder.workspaceId": {write: typed(func(r *runState, f *fieldPlan, o *upstream.Folder) bool { r.optStr(o.WorkspaceID); return true }), from: listed},
	"Folder.items":       {write: writeFolderItems, from: listed, cost: perElement},
	"Folder.tables":      {write: writeFolderTables, from: listed, cost: perElement},

	"FolderItem.id":       {write: typed(func(r *runState, f *fieldPlan, o *model.FolderItem) bool { r.str(o.ID); return true }), from: listed},
	"FolderItem.itemType": {write: typed(func(r *runState, f *fieldPlan, o *model.FolderItem) bool { r.str(o.ItemType); return true }), from: listed},
	"FolderItem.itemId":   {write: typed(func(r *runState, f *fieldPlan, o *model.FolderItem) bool { r.str(o.ItemID); return true }), from: listed},

	"SharedView.id": {write: typed(func(r *runState, f *fieldPlan, o *upstream.SharedView) bool {
		r.str(globalID(kindSharedView, o.ID))
		return true
	}), from: listed},
	"SharedView.seatableId":     {write: typed(func(r *runState, f *fieldPlan, o *upstream.SharedView) bool { r.str(o.ID); return true }), from: listed},
	"SharedView.dtableName":     {write: typed(func(r *runState, f *fieldPlan, o *upstream.SharedView) bool { r.str(o.DTableName); return true }), from: listed},
	"SharedView.workspaceId":    {write: svOptString(func(o *upstream.SharedView) *string { return o.WorkspaceID }), from: listed},
	"SharedView.fromUser":       {write: svOptString(func(o *upstream.SharedView) *string { return o.FromUser }), from: listed},
	"SharedView.fromUserName":   {write: svOptString(func(o *upstream.SharedView) *string { return o.FromUserName }), from: listed},
	"SharedView.fromUserAvatar": {write: svOptString(func(o *upstream.SharedView) *string { return o.FromUserAvatar }), from: listed},
	"SharedView.toUser":         {write: svOptString(func(o *upstream.SharedView) *string { return o.ToUser }), from: listed},
	"SharedView.toUserName":     {write: svOptString(func(o *upstream.SharedView) *string { return o.ToUserName }), from: listed},
	"SharedView.permission":     {write: svOptString(func(o *upstream.SharedView) *string { return o.Permission }), from: listed},
	"SharedView.tableId":        {write: svOptString(func(o *upstream.SharedView) *string { return o.TableID }), from: listed},
	"SharedView.viewId":         {write: svOptString(func(o *upstream.SharedView) *string { return o.ViewID }), from: listed},
	"SharedView.sharedName":     {write: svOptString(func(o *upstream.SharedView) *string { return o.SharedName }), from: listed},
	"SharedView.color":          {write: svOptString(func(o *upstream.SharedView) *string { return o.Color }), from: listed},
	"SharedView.textColor":      {write: svOptString(func(o *upstream.SharedView) *string { return o.TextColor }), from: listed},
	"SharedView.icon":           {write: svOptString(func(o *upstream.SharedView) *string { return o.Icon }), from: listed},
	"SharedView.shareId":        {write: svOptString(func(o *upstream.SharedView) *string { return o.ShareID }), from: listed},
	"SharedView.shareType":      {write: svOptString(func(o *upstream.SharedView) *string { return o.ShareType }), from: listed},

	// A view shared into a group: its id and details are share fields of
	// the view's entry.
	"GroupSharedView.id": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.str(o.ID); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.viewShareId": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.optStr(o.ViewShareID); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.sharedName": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.optStr(o.SharedName); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.permission": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.optStr(o.Permission); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.fromUser": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.optStr(o.FromUser); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.fromUserName": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool { r.optStr(o.FromUserName); return true }),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.fromUserAvatar": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool {
		r.optStr(o.FromUserAvatar)
		return true
	}),
		from: listed, needs: upstream.FieldShare},
	"GroupSharedView.dtable": {write: typed(func(r *runState, f *fieldPlan, o *model.GroupSharedView) bool {
		return o.DTable != nil && r.object(f.child, o.DTable)
	}), from: listed},

	"ShareFolder.id": {write: typed(func(r *runState, f *fieldPlan, o *upstream.ShareFolder) bool {
		r.str(globalID(kindShareFolder, o.ID))
		return true
	}), from: listed},
	"ShareFolder.seatableId": {write: typed(func(r *runState, f *fieldPlan, o *upstream.ShareFolder) bool { r.str(o.ID); return true }), from: listed},
	"ShareFolder.name":       {write: typed(func(r *runState, f *fieldPlan, o *upstream.ShareFolder) bool { r.str(o.Name); return true }), from: listed},
	"ShareFolder.username":   {write: typed(func(r *runState, f *fieldPlan, o *upstream.ShareFolder) bool { r.optStr(o.Username); return true }), from: listed},

	// A dtables page: its elements are priced by the page size (Query.dtables).
	"DTableConnection.edges":    {write: writeConnectionEdges, from: listed, cost: flat},
	"DTableConnection.nodes":    {write: writeConnectionNodes, from: listed, cost: flat},
	"DTableConnection.pageInfo": {write: writeConnectionPageInfo, from: listed},
	"DTableConnection.totalCount": {write: typed(func(r *runState, f *fieldPlan, o *model.DTableConnection) bool { r.int(o.TotalCount); return true }),
		from: listed},
	"DTableEdge.cursor": {write: typed(func(r *runState, f *fieldPlan, o *model.DTableEdge) bool { r.str(o.Cursor); return true }), from: listed},
	"DTableEdge.node": {write: typed(func(r *runState, f *fieldPlan, o *model.DTableEdge) bool {
		return o.Node != nil && r.object(f.child, o.Node)
	}), from: listed},
	"PageInfo.hasNextPage": {write: typed(func(r *runState, f *fieldPlan, o *model.PageInfo) bool { r.bool(o.HasNextPage); return true }),
		from: listed},
	"PageInfo.hasPreviousPage": {write: typed(func(r *runState, f *fieldPlan, o *model.PageInfo) bool { r.bool(o.HasPreviousPage); return true }),
		from: listed},
	"PageInfo.startCursor": {write: typed(func(r *runState, f *fieldPlan, o *model.PageInfo) bool { r.optStr(o.StartCursor); return true }),
		from: listed},
	"PageInfo.endCursor": {write: typed(func(r *runState, f *fieldPlan, o *model.PageInfo) bool { r.optStr(o.EndCursor); return true }),
		from: listed},

	// Inside bases (bases.go), read live; a page of rows costs its
	// children times its size.
	"Table.id": {from: inBase}, "Table.seatableId": {from: inBase}, "Table.name": {from: inBase}, "Table.dtable": {from: inBase},
	"Table.columns": {from: inBase, cost: flat}, "Table.column": {from: inBase},
	"Table.views": {from: inBase, cost: flat}, "Table.view": {from: inBase},
	"Table.rows": {from: inBase, args: (*executionContext).field_Table_rows_args, cost: byPage(defaultRowsFirst, maxRowsFirst)},
	"Table.row":  {from: inBase},
	"Column.key": {from: inBase}, "Column.name": {from: inBase}, "Column.type": {from: inBase}, "Column.data": {from: inBase},
	"View.id": {from: inBase}, "View.seatableId": {from: inBase}, "View.name": {from: inBase}, "View.type": {from: inBase}, "View.table": {from: inBase},
	"View.rows":              {from: inBase, args: (*executionContext).field_View_rows_args, cost: byPage(defaultRowsFirst, maxRowsFirst)},
	"RowConnection.edges":    {from: inBase, cost: flat},
	"RowConnection.nodes":    {from: inBase, cost: flat},
	"RowConnection.pageInfo": {from: inBase},
	"RowEdge.cursor":         {from: inBase}, "RowEdge.node": {from: inBase},
	"Row.id": {from: inBase}, "Row.seatableId": {from: inBase}, "Row.values": {from: inBase}, "Row.cell": {from: inBase},
	"Row.createdAt": {from: inBase}, "Row.updatedAt": {from: inBase},

	// Federation (entity.resolvers.go): gqlgen's own resolvers behind
	// _entities, which is priced per representation.
	"Entity.findManyDTableByIDs": {cost: flat}, "Entity.findManyDTableByUUIDs": {cost: flat},
	"Entity.findManyFolderByIDs": {cost: flat}, "Entity.findManyFolderItemByIDs": {cost: flat},
	"Entity.findManyGroupSharedViewByIDs": {cost: flat}, "Entity.findManyRowByIDs": {cost: flat},
	"Entity.findManyShareFolderByIDs": {cost: flat}, "Entity.findManyShareFolderBySeatableIDs": {cost: flat},
	"Entity.findManySharedViewByIDs": {cost: flat}, "Entity.findManySharedViewBySeatableIDs": {cost: flat},
	"Entity.findManyTableByIDs": {cost: flat}, "Entity.findManyViewByIDs": {cost: flat},
	"Entity.findManyWorkspaceByIDs": {cost: flat}, "Entity.findManyWorkspaceBySeatableIDs": {cost: flat},
	"_Service.sdl": {},
}

// fieldsByType is the catalogue by type and field name, for lookups
// without building a key.
var fieldsByType = func() map[string]map[string]*entry {
	out := map[string]map[string]*entry{}
	for key, f := range catalogue {
		typ, name := splitKey(key)
		if out[typ] == nil {
			out[typ] = map[string]*entry{}
		}
		out[typ][name] = &f
	}
	return out
}()

func splitKey(key string) (typ, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}

// lookup returns the catalogue's entry for typ.name, nil when it has none.
func lookup(typ, name string) *entry { return fieldsByType[typ][name] }

// reads is what an operation reads of SeaTable, worked out from the
// catalogue once per document (planCache.reads).
type reads struct {
	// detail: the operation needs the list with base lists
	// (detail=true); false when SeaTable's cheaper detail=false serves it.
	detail bool
	// fields are the optional base fields its answer can show.
	fields upstream.Fields
	// replayable: its answer is a function of the workspace list alone.
	replayable bool
}

// readsEverything is what an operation the catalogue cannot follow reads:
// everything, and it is never replayed.
var readsEverything = reads{detail: true, fields: upstream.AllFields}

// readsOf walks op once and says what it reads. Fields under @skip and
// @include count as selected: over-fetching is safe, under-fetching is not.
func readsOf(op *ast.OperationDefinition) reads {
	if op == nil || op.Operation != ast.Query {
		return readsEverything
	}
	w := readWalk{out: reads{replayable: true}}
	anyRoot := false
	walkFields(op.SelectionSet, map[string]bool{}, func(f *ast.Field) {
		switch {
		case f.Name == "__typename":
			return
		case f.Name == "__schema" || f.Name == "__type":
			// Introspection needs no base lists; unknown to the catalogue,
			// it keeps the other defaults: every field decoded, never
			// replayed.
			w.out.fields, w.out.replayable = upstream.AllFields, false
			return
		}
		anyRoot = true
		if e := lookup("Query", f.Name); e == nil || !e.replay {
			w.out.replayable = false
		}
		w.field("Query", f)
	})
	w.out.replayable = w.out.replayable && anyRoot
	return w.out
}

type readWalk struct{ out reads }

// field adds what f, a field of an object of type typ, reads.
func (w *readWalk) field(typ string, f *ast.Field) {
	if f.ObjectDefinition != nil && f.ObjectDefinition.Kind == ast.Object {
		typ = f.ObjectDefinition.Name // a fragment on one object of an interface
	}
	e := lookup(typ, f.Name)
	if e == nil {
		e = &entry{}
	}
	switch e.from {
	case summary:
	case listed:
		w.out.detail = true
		w.out.fields |= e.needs
		if len(f.Arguments) > 0 {
			w.out.fields |= e.argNeeds
		}
	default:
		w.out.detail, w.out.fields, w.out.replayable = true, upstream.AllFields, false
	}
	if w.done() || len(f.SelectionSet) == 0 || f.Definition == nil {
		return
	}
	child := f.Definition.Type.Name()
	walkFields(f.SelectionSet, map[string]bool{}, func(cf *ast.Field) {
		if cf.Name != "__typename" && !w.done() {
			w.field(child, cf)
		}
	})
}

// done: nothing below can change the answer.
func (w *readWalk) done() bool {
	return w.out.detail && w.out.fields == upstream.AllFields && !w.out.replayable
}

// opensBases reports whether set selects anything read from a base's own
// server (a DTable's tables or table), at any depth.
func opensBases(set ast.SelectionSet, seen map[string]bool) bool {
	found := false
	walkFields(set, seen, func(f *ast.Field) {
		if found {
			return
		}
		if f.ObjectDefinition != nil {
			if e := lookup(f.ObjectDefinition.Name, f.Name); e != nil && e.from == inBase {
				found = true
				return
			}
		}
		found = opensBases(f.SelectionSet, seen)
	})
	return found
}

// walkFields calls fn for each field of set, looking through inline
// fragments and fragment spreads (each named fragment once).
func walkFields(set ast.SelectionSet, seen map[string]bool, fn func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			fn(s)
		case *ast.InlineFragment:
			walkFields(s.SelectionSet, seen, fn)
		case *ast.FragmentSpread:
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				walkFields(s.Definition.SelectionSet, seen, fn)
			}
		}
	}
}
