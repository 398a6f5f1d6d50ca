package graph

import (
	"github.com/seatable-graphql/seatable-graphql/graph/dtablequery"
	"github.com/seatable-graphql/seatable-graphql/graph/loaders"
	"github.com/seatable-graphql/seatable-graphql/graph/model"
	"github.com/seatable-graphql/seatable-graphql/upstream"
)

var workspaceTypes = map[upstream.WorkspaceType]model.WorkspaceType{
	upstream.WorkspacePersonal: model.WorkspaceTypePersonal,
	upstream.WorkspaceGroup:    model.WorkspaceTypeGroup,
	upstream.WorkspaceStarred:  model.WorkspaceTypeStarred,
	upstream.WorkspaceShared:   model.WorkspaceTypeShared,
}

// workspaceType maps the upstream type to the enum; nil when unknown.
func workspaceType(t upstream.WorkspaceType) *model.WorkspaceType {
	if v, ok := workspaceTypes[t]; ok {
		return &v
	}
	return nil
}

// upstreamType maps the enum back to the upstream type.
func upstreamType(t *model.WorkspaceType) upstream.WorkspaceType {
	if t == nil {
		return ""
	}
	for u, m := range workspaceTypes {
		if m == *t {
			return u
		}
	}
	return ""
}

// dtableFilter converts the GraphQL filter; nil stays nil (no conditions).
func dtableFilter(f *model.DTableFilter) (*dtablequery.Filter, error) {
	if f == nil {
		return nil, nil
	}
	wid := f.WorkspaceID
	if wid != nil {
		if *wid == "" {
			return nil, emptyID("filter.workspaceId", "a workspace's seatableId or id, or leave it out")
		}
		k := workspaceKey(*wid)
		wid = &k
	}
	return &dtablequery.Filter{
		NameContains:  f.NameContains,
		WorkspaceID:   wid,
		WorkspaceType: upstreamType(f.WorkspaceType),
		Starred:       f.Starred,
		CreatedAfter:  f.CreatedAfter,
		CreatedBefore: f.CreatedBefore,
		UpdatedAfter:  f.UpdatedAfter,
		UpdatedBefore: f.UpdatedBefore,
		Color:         f.Color,
	}, nil
}

var orderFields = map[model.DTableOrderField]dtablequery.Field{
	model.DTableOrderFieldName:      dtablequery.ByName,
	model.DTableOrderFieldCreatedAt: dtablequery.ByCreatedAt,
	model.DTableOrderFieldUpdatedAt: dtablequery.ByUpdatedAt,
}

// dtableOrder converts orderBy; absent means NAME ascending.
func dtableOrder(o *model.DTableOrder) dtablequery.Order {
	if o == nil {
		return dtablequery.Order{Field: dtablequery.ByName}
	}
	f, ok := orderFields[o.Field]
	if !ok {
		f = dtablequery.ByName
	}
	return dtablequery.Order{Field: f, Desc: o.Direction == model.OrderDirectionDesc}
}

// connection turns a page into the Relay shape.
func connection(p *dtablequery.Page) *model.DTableConnection {
	c := &model.DTableConnection{
		Edges:      make([]*model.DTableEdge, len(p.Nodes)),
		Nodes:      p.Nodes,
		PageInfo:   &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage},
		TotalCount: p.TotalCount,
	}
	for i, d := range p.Nodes {
		c.Edges[i] = &model.DTableEdge{Cursor: p.Cursors[i], Node: d}
	}
	if n := len(p.Cursors); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return c
}

// canonical maps a workspace's list to the entries every list answers
// (loaders.Snapshot.Canonical): a base listed in its workspace and in the
// starred list must not be two different objects with one id.
//
// Most lists are canonical already; such a list is returned as it is (it
// is read-only, like the whole snapshot), and a copy is made only from the
// first entry that maps elsewhere: one allocation per workspace saved.
func canonical(snap *loaders.Snapshot, ws *upstream.Workspace, list []*upstream.DTable) []*upstream.DTable {
	var out []*upstream.DTable
	for i, d := range list {
		c := snap.Canonical(ws, d)
		if out == nil {
			if c == d {
				continue
			}
			out = make([]*upstream.DTable, len(list))
			copy(out, list[:i])
		}
		out[i] = c
	}
	if out == nil {
		return list
	}
	return out
}

// keepCallerView carries what a write response cannot know (the caller's
// star, share details) from the base as it was listed before the write.
func keepCallerView(written, before *upstream.DTable) {
	written.Starred = before.Starred
	if written.Permission == nil {
		written.Permission, written.FromUser, written.FromUserName, written.FromUserAvatar = before.Permission, before.FromUser, before.FromUserName, before.FromUserAvatar
		written.FromGroupID, written.FromGroupName, written.ShareID, written.ShareType = before.FromGroupID, before.FromGroupName, before.ShareID, before.ShareType
	}
}
