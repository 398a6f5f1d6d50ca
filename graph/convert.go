package graph

import (
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
