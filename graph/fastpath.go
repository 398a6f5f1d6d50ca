package graph

// The fast read path. gqlgen's executor is general: per object it collects
// fields, builds a FieldSet, and marshals every list element in its own
// goroutine. For this schema nearly every query is a pure function of one
// in-memory workspace list, so with many users (nothing shared between
// requests) that generality is most of a request's CPU.
//
// fastSchema wraps the generated ExecutableSchema. For a query whose every
// field has a writer in the field catalogue (catalogue.go), it compiles a plan once per document (and per value of
// the variables its @skip/@include directives read): the fields of each
// object in gqlgen's own collection order (graphql.CollectFields), with
// their response keys pre-encoded and their constant arguments coerced by
// the generated code. Running a plan writes the response JSON straight from
// the request's snapshot, reading data through the same resolvers and
// loader lookups gqlgen's path uses.
//
// gqlgen stays the reference: parsing, validation, limits, extensions and
// error presentation run as before around it, and whatever a plan does not
// cover falls back to the generated executor: at compile time (mutations,
// introspection, @defer, unknown fields) and at run time (any error: a
// failed upstream read, a bad argument, a null where the schema forbids
// one). The fallback reads the same memoised snapshot, so it costs no
// second upstream call. fastpath_test.go and FuzzFastPath prove the bytes
// equal on every query of the test suite and on generated ones.

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

// fastSchema is the generated schema with the fast read path in front of
// its Exec.
type fastSchema struct {
	graphql.ExecutableSchema // the generated one: the reference
	gen                      *executableSchema
	resolver                 *Resolver
	plans                    *planCache
}

// newFastSchema puts the fast path in front of es, the generated schema gen
// as served (with its costs); plans is the server's plan cache, which also
// keeps each operation's reads (detail.go).
func newFastSchema(es graphql.ExecutableSchema, gen *executableSchema, r *Resolver, plans *planCache) *fastSchema {
	return &fastSchema{ExecutableSchema: es, gen: gen, resolver: r, plans: plans}
}

// Exec answers a covered query from its plan; everything else goes to the
// generated executor.
func (s *fastSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if h := s.sharedSubscription(ctx, opCtx); h != nil {
		return h // events rendered once per token and document (subscriptions.go)
	}
	p := s.plans.plan(ctx, s, opCtx)
	if p == nil {
		return s.ExecutableSchema.Exec(ctx)
	}
	execCtx := ctx
	var fallback graphql.ResponseHandler
	done := false
	return func(ctx context.Context) *graphql.Response {
		if fallback != nil {
			return fallback(ctx)
		}
		if done {
			return nil
		}
		done = true
		if data, ok := p.run(ctx, s, opCtx); ok {
			markFastData(ctx, data)
			return &graphql.Response{Data: data}
		}
		if ob := boundsFrom(ctx); ob != nil && ob.over.Load() {
			// Over MAX_RESPONSE_BYTES: the generated executor would only
			// build the same answer again; aroundOperationBounds says why.
			return &graphql.Response{Data: []byte("null")}
		}
		fallback = s.ExecutableSchema.Exec(execCtx)
		return fallback(ctx)
	}
}

// planCache keeps, by operation (the parsed document gqlgen's query cache
// hands out again for the same text), what it reads (readsOf) and its
// compiled plans, by the values of the variables the operation's
// directives read. An operation it cannot plan is remembered as such. A plan keeps its document alive, so the cache is
// bounded by the documents' estimated size (documentCost), like
// gqlgen's document cache: past maxBytes it starts afresh, which costs a
// recompilation, never a wrong answer, and lets no client pin memory.
type planCache struct {
	maxBytes int64
	mu       sync.RWMutex
	bytes    int64
	ops      map[*ast.OperationDefinition]*opPlans
}

// opPlans are the plans of one operation, and what it reads.
type opPlans struct {
	reads     reads
	uncovered bool     // no plan can cover it: always the generated executor
	dirVars   []string // variables read by @skip/@include, in a fixed order
	mu        sync.Mutex
	byDirs    map[string]*plan
}

// maxDirectiveVariants bounds the plans kept per operation; others run on
// the generated executor.
const maxDirectiveVariants = 16

func newPlanCache(maxBytes int64) *planCache {
	return &planCache{maxBytes: maxBytes, ops: map[*ast.OperationDefinition]*opPlans{}}
}

// reads is what opCtx's operation reads, worked out once per document.
func (c *planCache) reads(opCtx *graphql.OperationContext) reads {
	if ops := c.operation(opCtx); ops != nil {
		return ops.reads
	}
	return readsOf(opCtx.Operation) // not a query: nothing to walk
}

// operation returns the cached entry of opCtx's operation, made on first
// use; nil for anything but a query.
func (c *planCache) operation(opCtx *graphql.OperationContext) *opPlans {
	op := opCtx.Operation
	if c == nil || op == nil || op.Operation != ast.Query {
		return nil
	}
	c.mu.RLock()
	ops := c.ops[op]
	c.mu.RUnlock()
	if ops == nil {
		ops = newOpPlans(opCtx)
		cost := documentCost(opCtx.RawQuery)
		c.mu.Lock()
		if c.bytes+cost > c.maxBytes {
			c.ops, c.bytes = map[*ast.OperationDefinition]*opPlans{}, 0
		}
		if cost <= c.maxBytes {
			c.ops[op] = ops
			c.bytes += cost
		}
		c.mu.Unlock()
	}
	return ops
}

func (c *planCache) plan(ctx context.Context, s *fastSchema, opCtx *graphql.OperationContext) *plan {
	ops := c.operation(opCtx)
	if ops == nil || ops.uncovered {
		return nil
	}
	key := directiveKey(ops.dirVars, opCtx.Variables)
	ops.mu.Lock()
	defer ops.mu.Unlock()
	if p, ok := ops.byDirs[key]; ok {
		return p
	}
	if len(ops.byDirs) >= maxDirectiveVariants {
		return nil
	}
	p := compile(ctx, s, opCtx)
	ops.byDirs[key] = p // nil too: this variant is not covered
	return p
}

func newOpPlans(opCtx *graphql.OperationContext) *opPlans {
	ops := &opPlans{reads: readsOf(opCtx.Operation), byDirs: map[string]*plan{}}
	seen := map[string]bool{}
	var walk func(ast.SelectionSet)
	visited := map[string]bool{}
	dirs := func(list ast.DirectiveList) {
		for _, d := range list {
			switch d.Name {
			case "skip", "include":
			default:
				// @defer and anything else: incremental delivery and
				// unknown semantics stay with gqlgen.
				ops.uncovered = true
			}
			for _, a := range d.Arguments {
				if a.Value != nil && a.Value.Kind == ast.Variable && !seen[a.Value.Raw] {
					seen[a.Value.Raw] = true
					ops.dirVars = append(ops.dirVars, a.Value.Raw)
				}
			}
		}
	}
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				dirs(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				dirs(sel.Directives)
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				dirs(sel.Directives)
				if !visited[sel.Name] {
					visited[sel.Name] = true
					if f := opCtx.Doc.Fragments.ForName(sel.Name); f != nil {
						dirs(f.Directives)
						walk(f.SelectionSet)
					}
				}
			}
		}
	}
	dirs(opCtx.Operation.Directives)
	walk(opCtx.Operation.SelectionSet)
	return ops
}

// directiveKey is the part of the variables that decides which fields are
// collected: the truth of each variable the directives read.
func directiveKey(names []string, vars map[string]any) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range names {
		v, _ := vars[n].(bool)
		if v {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// plan is one compiled query.
type plan struct {
	root *objPlan
	// size is the length of the last response, to size the next buffer.
	size atomic.Int64
}

// objPlan is the collected fields of one object type in one selection.
type objPlan struct {
	fields []fieldPlan
}

// fieldPlan is one response key of an object.
type fieldPlan struct {
	key   string // `"alias":`, with the comma before it when not first
	write fieldWriter
	field *ast.Field
	// args are the field's coerced arguments when they hold no variables;
	// otherwise coerced per request.
	args  map[string]any
	child *objPlan
	// typename is the object type's name, for __typename.
	typename string
}

// fieldWriter appends one field's value to r.buf for obj; false means
// "not covered here": the whole request falls back.
type fieldWriter func(r *runState, f *fieldPlan, obj any) bool

// runState is one execution of a plan.
type runState struct {
	ctx   context.Context
	opCtx *graphql.OperationContext
	s     *fastSchema
	l     *loaders.Loaders
	snap  *loaders.Snapshot // read on first use: `{ __typename }` reads nothing
	buf   []byte
	ec    *executionContext // for arguments with variables; made on first use
	// limit is the answer's byte budget (bounds.go); 0 is unbounded.
	limit int64
}

func (p *plan) run(ctx context.Context, s *fastSchema, opCtx *graphql.OperationContext) (data []byte, ok bool) {
	defer func() {
		// A panic (in a resolver the plan calls, or in the plan) falls back
		// to the generated executor, which meets it again and reports it as
		// it reports every panic: INTERNAL, logged once.
		if recover() != nil {
			data, ok = nil, false
		}
	}()
	r := &runState{ctx: ctx, opCtx: opCtx, s: s, l: loaders.For(ctx), buf: make([]byte, 0, max(p.size.Load()+p.size.Load()/8, 512))}
	if ob := boundsFrom(ctx); ob != nil {
		r.limit = ob.limit
	}
	if !r.object(p.root, nil) {
		return nil, false
	}
	p.size.Store(int64(len(r.buf)))
	return r.buf, true
}

// snapshot is the request's memoised workspace list; false when reading it
// failed, which the generated executor then reports at its path.
func (r *runState) snapshot() (*loaders.Snapshot, bool) {
	if r.snap == nil {
		snap, err := r.l.Snapshot(r.ctx)
		if err != nil {
			return nil, false
		}
		r.snap = snap
	}
	return r.snap, true
}

func (r *runState) object(o *objPlan, obj any) bool {
	if r.limit > 0 && int64(len(r.buf)) > r.limit {
		// Stop writing an answer over MAX_RESPONSE_BYTES (bounds.go).
		boundsFrom(r.ctx).over.Store(true)
		return false
	}
	r.buf = append(r.buf, '{')
	for i := range o.fields {
		f := &o.fields[i]
		r.buf = append(r.buf, f.key...)
		if !f.write(r, f, obj) {
			return false
		}
	}
	r.buf = append(r.buf, '}')
	return true
}

// arguments returns f's coerced arguments, by the generated code's rules.
func (r *runState) arguments(f *fieldPlan, coerce func(ec *executionContext, ctx context.Context, raw map[string]any) (map[string]any, error)) (map[string]any, bool) {
	if f.args != nil {
		return f.args, true
	}
	if r.ec == nil {
		r.ec = newExecutionContext(r.opCtx, r.s.gen, nil)
	}
	args, err := coerce(r.ec, r.ctx, f.field.ArgumentMap(r.opCtx.Variables))
	return args, err == nil
}

// compile plans opCtx's operation, or returns nil when any part of it is
// not covered.
func compile(ctx context.Context, s *fastSchema, opCtx *graphql.OperationContext) *plan {
	c := &compiler{ctx: ctx, s: s, opCtx: opCtx}
	root := c.object(opCtx.Operation.SelectionSet, "Query")
	if root == nil {
		return nil
	}
	return &plan{root: root}
}

type compiler struct {
	ctx   context.Context
	s     *fastSchema
	opCtx *graphql.OperationContext
	ec    *executionContext
}

// object collects set for typeName exactly as the generated code does and
// plans each field; nil when a field is not covered.
func (c *compiler) object(set ast.SelectionSet, typeName string) *objPlan {
	fields := graphql.CollectFields(c.opCtx, set, []string{typeName})
	o := &objPlan{fields: make([]fieldPlan, 0, len(fields))}
	for i, cf := range fields {
		if len(cf.Deferrables) > 0 {
			return nil
		}
		key := `"` + cf.Alias + `":`
		if !plainName(cf.Alias) {
			key = string(appendQuoted(nil, cf.Alias)) + ":"
		}
		if i > 0 {
			key = "," + key
		}
		fp := fieldPlan{key: key, field: cf.Field, typename: typeName}
		if cf.Name == "__typename" {
			fp.write = writeTypename
			o.fields = append(o.fields, fp)
			continue
		}
		e := lookup(typeName, cf.Name)
		if e == nil || e.write == nil {
			return nil // gqlgen's executor writes it
		}
		fp.write = e.write
		if len(cf.Selections) > 0 {
			// The writers write objects; an interface's or union's
			// fields are the executor's.
			child := cf.Definition.Type.Name()
			if d := parsedSchema.Types[child]; d == nil || d.Kind != ast.Object {
				return nil
			}
			if fp.child = c.object(cf.Selections, child); fp.child == nil {
				return nil
			}
		}
		if e.args != nil && !hasVariables(cf.Arguments) {
			// Constant arguments: coerce once. An error is left to the
			// generated executor, which reports it at the field's path.
			if c.ec == nil {
				c.ec = newExecutionContext(c.opCtx, c.s.gen, nil)
			}
			args, err := e.args(c.ec, c.ctx, cf.ArgumentMap(nil))
			if err != nil {
				return nil
			}
			fp.args = args
		}
		o.fields = append(o.fields, fp)
	}
	return o
}

func hasVariables(args ast.ArgumentList) bool {
	for _, a := range args {
		if valueHasVariables(a.Value) {
			return true
		}
	}
	return false
}

func valueHasVariables(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, ch := range v.Children {
		if valueHasVariables(ch.Value) {
			return true
		}
	}
	return false
}

// plainName reports whether s needs no escaping in JSON (GraphQL names
// never do; this is belt and braces).
func plainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// typed adapts a writer for one Go type; any other type is a bug and falls
// back.
func typed[T any](fn func(r *runState, f *fieldPlan, o *T) bool) fieldWriter {
	return func(r *runState, f *fieldPlan, obj any) bool {
		o, ok := obj.(*T)
		return ok && o != nil && fn(r, f, o)
	}
}

func wsString(get func(*upstream.Workspace) string) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.Workspace) bool { r.str(get(o)); return true })
}

func wsOptString(get func(*upstream.Workspace) *string) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.Workspace) bool { r.optStr(get(o)); return true })
}

func wsOptBool(get func(*upstream.Workspace) *bool) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.Workspace) bool { r.optBool(get(o)); return true })
}

func dtString(get func(*upstream.DTable) string) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.DTable) bool { r.str(get(o)); return true })
}

func dtOptString(get func(*upstream.DTable) *string) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.DTable) bool { r.optStr(get(o)); return true })
}

func dtOptBool(get func(*upstream.DTable) *bool) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.DTable) bool { r.optBool(get(o)); return true })
}

func dtTime(get func(*upstream.DTable) *time.Time) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.DTable) bool { r.time(get(o)); return true })
}

func svOptString(get func(*upstream.SharedView) *string) fieldWriter {
	return typed(func(r *runState, _ *fieldPlan, o *upstream.SharedView) bool { r.optStr(get(o)); return true })
}

// wsList writes a non-null list of non-null objects that the resolver
// returns as is (nonNil: absent is empty).
func wsList[T any](get func(*upstream.Workspace) []*T) fieldWriter {
	return typed(func(r *runState, f *fieldPlan, o *upstream.Workspace) bool { return writeObjects(r, f.child, get(o)) })
}

// writeObjects writes [T!]!: a nil element would be a null the schema
// forbids, which the generated executor reports.
func writeObjects[T any](r *runState, child *objPlan, list []*T) bool {
	r.buf = append(r.buf, '[')
	for i, o := range list {
		if o == nil {
			return false
		}
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		if !r.object(child, o) {
			return false
		}
	}
	r.buf = append(r.buf, ']')
	return true
}

// optObject writes a nullable object.
func optObject[T any](r *runState, child *objPlan, o *T) bool {
	if o == nil {
		r.buf = append(r.buf, "null"...)
		return true
	}
	return r.object(child, o)
}

func writeTypename(r *runState, f *fieldPlan, _ any) bool {
	r.str(f.typename)
	return true
}

func (r *runState) queries() *queryResolver { return &queryResolver{r.s.resolver} }

func writeQueryWorkspaces(r *runState, f *fieldPlan, _ any) bool {
	args, ok := r.arguments(f, (*executionContext).field_Query_workspaces_args)
	if !ok {
		return false
	}
	filter, _ := args["filter"].(*model.WorkspaceFilter)
	list, err := r.queries().Workspaces(r.ctx, filter)
	return err == nil && writeObjects(r, f.child, list)
}

func writeQueryWorkspace(r *runState, f *fieldPlan, _ any) bool {
	args, ok := r.arguments(f, (*executionContext).field_Query_workspace_args)
	if !ok {
		return false
	}
	id, _ := args["id"].(string)
	if id == "" {
		return false // BAD_USER_INPUT, reported by the resolver
	}
	// The resolver's read, through the same loader.
	ws, err := r.l.WorkspaceByID(r.ctx, workspaceKey(id))
	return err == nil && optObject(r, f.child, ws)
}

func writeQueryDTable(r *runState, f *fieldPlan, _ any) bool {
	args, ok := r.arguments(f, (*executionContext).field_Query_dtable_args)
	if !ok {
		return false
	}
	uuid, _ := args["uuid"].(string)
	// A bad uuid is BAD_USER_INPUT, which the resolver reports.
	d, err := r.l.DTableByUUID(r.ctx, uuid)
	return err == nil && optObject(r, f.child, d)
}

func writeQueryDTables(r *runState, f *fieldPlan, _ any) bool {
	args, ok := r.arguments(f, (*executionContext).field_Query_dtables_args)
	if !ok {
		return false
	}
	filter, _ := args["filter"].(*model.DTableFilter)
	orderBy, _ := args["orderBy"].(*model.DTableOrder)
	first, _ := args["first"].(*int)
	after, _ := args["after"].(*string)
	last, _ := args["last"].(*int)
	before, _ := args["before"].(*string)
	c, err := r.queries().Dtables(r.ctx, filter, orderBy, first, after, last, before)
	return err == nil && c != nil && r.object(f.child, c)
}

func writeQueryDTableByName(r *runState, f *fieldPlan, _ any) bool {
	args, ok := r.arguments(f, (*executionContext).field_Query_dtableByName_args)
	if !ok {
		return false
	}
	wid, _ := args["workspaceId"].(string)
	name, _ := args["name"].(string)
	d, err := r.queries().DtableByName(r.ctx, wid, name)
	return err == nil && optObject(r, f.child, d)
}

func writeQueryStarred(r *runState, f *fieldPlan, _ any) bool {
	list, err := r.queries().StarredDTables(r.ctx)
	return err == nil && writeObjects(r, f.child, list)
}

func writeWorkspaceType(r *runState, _ *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	if t := workspaceType(ws.Type); t != nil {
		r.str(t.String()) // enum names need no escaping: as strconv.Quote
	} else {
		r.null()
	}
	return true
}

func writeGroupAdmins(r *runState, _ *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	if ws.GroupAdmins == nil {
		r.null()
		return true
	}
	r.buf = append(r.buf, '[')
	for i, a := range ws.GroupAdmins {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.str(a)
	}
	r.buf = append(r.buf, ']')
	return true
}

func writeGroupMemberCount(r *runState, _ *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	if ws.GroupMemberCount == nil {
		r.null()
	} else {
		r.int(*ws.GroupMemberCount)
	}
	return true
}

func writeWorkspaceTables(r *runState, f *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	args, ok := r.arguments(f, (*executionContext).field_Workspace_tables_args)
	if !ok {
		return false
	}
	filter, _ := args["filter"].(*model.DTableFilter)
	orderBy, _ := args["orderBy"].(*model.DTableOrder)
	list, err := (&workspaceResolver{r.s.resolver}).Tables(r.ctx, ws, filter, orderBy)
	return err == nil && writeObjects(r, f.child, list)
}

func writeGroupSharedTables(r *runState, f *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	list, err := (&workspaceResolver{r.s.resolver}).GroupSharedTables(r.ctx, ws)
	return err == nil && writeObjects(r, f.child, list)
}

func writeGroupSharedViews(r *runState, f *fieldPlan, obj any) bool {
	ws, ok := obj.(*upstream.Workspace)
	if !ok {
		return false
	}
	list, err := (&workspaceResolver{r.s.resolver}).GroupSharedViews(r.ctx, ws)
	return err == nil && writeObjects(r, f.child, list)
}

func writeDTableSeatableID(r *runState, _ *fieldPlan, obj any) bool {
	d, ok := obj.(*upstream.DTable)
	if !ok {
		return false
	}
	if d.ID == "" {
		r.null() // SeaTable sent none
	} else {
		r.str(d.ID)
	}
	return true
}

func writeDTableStarred(r *runState, _ *fieldPlan, obj any) bool {
	d, ok := obj.(*upstream.DTable)
	if !ok {
		return false
	}
	r.bool(d.Starred)
	return true
}

func writeDTableWorkspace(r *runState, f *fieldPlan, obj any) bool {
	d, ok := obj.(*upstream.DTable)
	if !ok {
		return false
	}
	if d.WorkspaceID == "" {
		r.null()
		return true
	}
	ws, err := r.l.WorkspaceByID(r.ctx, d.WorkspaceID)
	return err == nil && optObject(r, f.child, ws)
}

func writeDTableFolder(r *runState, f *fieldPlan, obj any) bool {
	d, ok := obj.(*upstream.DTable)
	if !ok {
		return false
	}
	snap, ok := r.snapshot()
	return ok && optObject(r, f.child, snap.FolderOf(d))
}

func writeFolderID(r *runState, _ *fieldPlan, obj any) bool {
	fo, ok := obj.(*upstream.Folder)
	if !ok {
		return false
	}
	snap, ok := r.snapshot()
	if !ok {
		return false
	}
	r.str(globalID(kindFolder, folderKey(snap.FolderWorkspace(fo), fo.ID)))
	return true
}

func writeFolderItems(r *runState, f *fieldPlan, obj any) bool {
	fo, ok := obj.(*upstream.Folder)
	if !ok {
		return false
	}
	snap, ok := r.snapshot()
	return ok && writeObjects(r, f.child, folderItems(snap.FolderWorkspace(fo), fo))
}

func writeFolderTables(r *runState, f *fieldPlan, obj any) bool {
	fo, ok := obj.(*upstream.Folder)
	if !ok {
		return false
	}
	list, err := (&folderResolver{r.s.resolver}).Tables(r.ctx, fo)
	return err == nil && writeObjects(r, f.child, list)
}

func writeConnectionEdges(r *runState, f *fieldPlan, obj any) bool {
	c, ok := obj.(*model.DTableConnection)
	return ok && writeObjects(r, f.child, c.Edges)
}

func writeConnectionNodes(r *runState, f *fieldPlan, obj any) bool {
	c, ok := obj.(*model.DTableConnection)
	return ok && writeObjects(r, f.child, c.Nodes)
}

func writeConnectionPageInfo(r *runState, f *fieldPlan, obj any) bool {
	c, ok := obj.(*model.DTableConnection)
	return ok && c.PageInfo != nil && r.object(f.child, c.PageInfo)
}

// Scalars, written as gqlgen's marshalers write them.

func (r *runState) null() { r.buf = append(r.buf, "null"...) }

func (r *runState) str(s string) { r.buf = appendQuoted(r.buf, s) }

func (r *runState) optStr(s *string) {
	if s == nil {
		r.null()
		return
	}
	r.str(*s)
}

func (r *runState) bool(b bool) { r.buf = strconv.AppendBool(r.buf, b) }

func (r *runState) optBool(b *bool) {
	if b == nil {
		r.null()
		return
	}
	r.bool(*b)
}

func (r *runState) int(i int) { r.buf = strconv.AppendInt(r.buf, int64(i), 10) }

// time writes a DateTime as scalar.MarshalDateTime does: UTC, seconds, a
// zero time is null.
func (r *runState) time(t *time.Time) {
	if t == nil || t.IsZero() {
		r.null()
		return
	}
	u := t.UTC()
	y, mo, d := u.Date() // once: Year() would compute the date again
	if y < 0 || y > 9999 {
		// Years AppendFormat writes with a sign or more digits.
		r.buf = append(r.buf, '"')
		r.buf = u.AppendFormat(r.buf, "2006-01-02T15:04:05Z")
		r.buf = append(r.buf, '"')
		return
	}
	// The layout's fixed-width digits, written directly: AppendFormat
	// interprets the layout for every timestamp of a list.
	h, mi, sec := u.Clock()
	r.buf = append(r.buf, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), 'Z', '"')
}

const hexDigits = "0123456789ABCDEF"

// appendQuoted quotes s exactly as gqlgen's writeQuotedString does: only
// control characters, '\\' and '"' are escaped; everything else, invalid
// UTF-8 included, is copied.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
